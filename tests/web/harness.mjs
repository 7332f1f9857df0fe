// What the browser tests (run.mjs, trust.mjs, readers.mjs) share: where the build is, TAP-like reporting,
// bounded waits, child processes and the cleanup that runs on exit, failure or a signal.
//
// Environment (set by tests/web/CMakeLists.txt): ZC_BUILD_DIR, ZC_BIN_DIR, ZC_PLUGIN_DIR,
// ZC_WEB_DIST, ZC_E2E_ARTIFACTS, ZC_CHROMIUM, ZC_DOCKER, ZC_TEST_IMAGE.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const env = process.env;
export const repo = path.resolve(here, '../..');
export const buildDir = env.ZC_BUILD_DIR || path.join(repo, 'build');
export const binDir = env.ZC_BIN_DIR || path.join(buildDir, 'bin');
export const pluginDir = env.ZC_PLUGIN_DIR || path.join(buildDir, 'plugins');
export const dist = env.ZC_WEB_DIST || path.join(buildDir, 'web', 'dist');
export const artifacts = env.ZC_E2E_ARTIFACTS || path.join(buildDir, 'e2e-artifacts');
export const chromiumPath = env.ZC_CHROMIUM || '/usr/bin/chromium';
export const docker = env.ZC_DOCKER || '/usr/bin/docker';
export const image = env.ZC_TEST_IMAGE || 'zynd-test-busybox:latest';

/**
 * A reporter for one script: log() prefixes `[tag hh:mm:ss.mmm]`; check() runs a case and
 * prints "ok - <case>" or "not ok - <case>: <why>"; summary() prints "N passed, N failed[, N
 * skipped]" and returns the number failed.
 */
export function makeReporter(tag) {
  const results = [];
  const log = (msg) => process.stdout.write(`[${tag} ${new Date().toISOString().slice(11, 23)}] ${msg}\n`);
  async function check(name, fn) {
    const t0 = Date.now();
    try {
      await fn();
      results.push({ name, ok: true });
      console.log(`ok - ${name} (${Date.now() - t0} ms)`);
    } catch (e) {
      results.push({ name, ok: false, why: e?.message ?? String(e) });
      console.log(`not ok - ${name}: ${(e?.message ?? String(e)).split('\n')[0]}`);
    }
  }
  function summary(skipped = 0) {
    const passed = results.filter((r) => r.ok).length;
    const failed = results.length - passed;
    console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
    return failed;
  }
  return { results, log, check, summary };
}

export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
export function eq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn until it returns a truthy value or the deadline passes (then throws). */
export async function waitFor(what, fn, timeoutMs, everyMs = 200) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (${last.message})` : ''}`);
    await sleep(everyMs);
  }
}

// Cleanup steps, run once in reverse order by cleanup(): on the normal end, a failure, the
// whole-run timeout, or SIGINT/SIGTERM (see cleanUpOnSignals()).
export const cleanups = [];
let cleaning = null;
let cleanupLog = (msg) => process.stdout.write(`${msg}\n`);
export function cleanup() {
  cleaning ??= (async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (e) {
        cleanupLog(`cleanup: ${e.message}`);
      }
    }
  })();
  return cleaning;
}
export function cleanUpOnSignals(log) {
  cleanupLog = log;
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, async () => {
      log(`${sig}: cleaning up`);
      await cleanup();
      process.exit(1);
    });
  }
}

/** Runs a command to its end (bounded): { code, stdout, stderr, err }. */
export function run(cmd, args, { timeoutMs = 30_000, input } = {}) {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr, err });
    });
    if (input != null) child.stdin.end(input);
  });
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** One HTTP request (bounded): { status, headers, body }. */
export function request(url, { method = 'GET', headers = {}, body, timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** SIGTERM to a child we started, SIGKILL after 8 s; waits for its exit (bounded). */
export async function killPid(child, name = 'child', log = () => {}) {
  if (child.exitCode != null || child.signalCode != null) return;
  const gone = new Promise((r) => child.once('exit', r));
  process.kill(child.pid, 'SIGTERM');
  const t = await Promise.race([gone.then(() => 'exited'), sleep(8000).then(() => 'timeout')]);
  if (t === 'timeout') {
    log(`${name} (pid ${child.pid}) ignored SIGTERM for 8 s: SIGKILL`);
    process.kill(child.pid, 'SIGKILL');
    await Promise.race([gone, sleep(3000)]);
  }
}

/**
 * Opens Debian's Chromium headless with a fresh profile (removed at cleanup), `extraArgs`
 * added to the usual flags. Returns the context; its first page is `context.pages()[0]`.
 */
export async function launchBrowser(chromium, { profilePrefix, extraArgs = [], viewport }) {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), profilePrefix));
  cleanups.push(() => fs.rmSync(profile, { recursive: true, force: true }));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
      '--no-first-run', '--disable-component-update', '--disable-sync', ...extraArgs],
    viewport: viewport ?? { width: 1280, height: 900 },
    timeout: 30_000,
  });
  cleanups.push(() => context.close());
  context.setDefaultTimeout(10_000);
  return context;
}

/**
 * Runs a script's main() (which returns a number to exit early, e.g. a skip, or null when the
 * checks ran), always cleans up, prints the summary and exits with 0 only when nothing failed.
 */
export async function runScript(main, { results, summary }) {
  let code = 1;
  try {
    const early = await main();
    if (typeof early === 'number') code = early;
    else {
      await cleanup();
      code = summary() ? 1 : 0;
    }
  } catch (e) {
    console.log(`not ok - setup: ${e.message}`);
    results.push({ name: 'setup', ok: false });
    await cleanup();
    summary();
    code = 1;
  } finally {
    await cleanup();
  }
  process.exit(code);
}

/** The skip-or-fail answer when Chromium is missing (fail with ZC_REQUIRE_BROWSER=1). */
export function browserMissing() {
  if (process.env.ZC_REQUIRE_BROWSER === '1') {
    console.log(`not ok - browser: ${chromiumPath} is missing and ZC_REQUIRE_BROWSER=1`);
    console.log('0 passed, 1 failed');
    return 1;
  }
  console.log(`SKIP: ${chromiumPath} is missing (apt-get install -y chromium)`);
  console.log('0 passed, 0 failed, 1 skipped');
  return 0;
}

/** Ends the script (cleanup, summary, exit 1) when it runs longer than `ms`. */
export function summaryTimeout(ms, { summary }) {
  setTimeout(async () => {
    console.log(`not ok - whole run: exceeded ${ms} ms`);
    await cleanup();
    summary();
    process.exit(1);
  }, ms).unref();
}

/**
 * The common start of a browser script: { chromium, exe } (playwright-core and the built
 * collector, its pages checked), or { early: exit code } when Chromium is missing.
 */
export async function prepareBrowserRun() {
  if (!fs.existsSync(chromiumPath)) return { early: browserMissing() };
  const { chromium } = await import('playwright-core');
  fs.mkdirSync(artifacts, { recursive: true });
  const exe = path.join(binDir, 'zynd-collector');
  assert(fs.existsSync(exe), `${exe} is missing (build the zynd-collector target)`);
  assert(fs.existsSync(path.join(dist, 'index.html')), `${dist}/index.html is missing (build zc_web)`);
  return { chromium, exe };
}
