// The pages for people who read logs, in Debian's Chromium against the real collector and a real
// container (playwright-core, never a downloaded browser):
//   - the search box finds a line written 50,000 lines before the live window, over the whole
//     stored log, in under a second, highlighted, with its context; Enter goes to the next match;
//   - a regex search (RE2), and a bad pattern answered with the server's reason;
//   - `/` focuses the search box.
//
//   node tests/web/readers.mjs     (environment as for run.mjs; set by tests/web/CMakeLists.txt)
//
// Prints "ok - <case>" / "not ok - <case>: <why>" and "N passed, N failed[, N skipped]"; exits
// non-zero when anything failed. Always removes its container and stops what it started (by
// pid / by handle), also on failure, timeout or SIGINT/SIGTERM. Every wait is bounded.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  artifacts, assert, binDir, browserMissing, chromiumPath, cleanUpOnSignals, cleanup, cleanups,
  dist, docker, eq, freePort, image, killPid, launchBrowser, makeReporter, pluginDir, request, run,
  runScript, summaryTimeout, waitFor,
} from './harness.mjs';

const env = process.env;
const kWholeRunMs = Number(env.ZC_E2E_TIMEOUT_MS || 180_000);
const kLines = 60_000;

const reporter = makeReporter('readers');
const { log, check } = reporter;
cleanUpOnSignals(log);

async function main() {
  summaryTimeout(kWholeRunMs, reporter);
  if (!fs.existsSync(chromiumPath)) return browserMissing();
  const { chromium } = await import('playwright-core');
  fs.mkdirSync(artifacts, { recursive: true });
  const exe = path.join(binDir, 'zynd-collector');
  assert(fs.existsSync(exe), `${exe} is missing (build the zynd-collector target)`);
  assert(fs.existsSync(path.join(dist, 'index.html')), `${dist}/index.html is missing (build zc_web)`);

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-readers-'));
  cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const logFile = path.join(artifacts, 'readers-collector.log');
  const out = fs.openSync(logFile, 'w');
  const collector = spawn(exe, ['--data-dir', dataDir, '--listen', `127.0.0.1:${port}`,
    '--plugin-dir', pluginDir, '--router', 'none', '--stop-grace', '2s'], { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  cleanups.push(() => killPid(collector));
  log(`collector pid ${collector.pid} on ${base} (log: ${logFile})`);
  await waitFor('the collector to answer', async () => {
    if (collector.exitCode != null) throw new Error(`collector exited with ${collector.exitCode}`);
    return (await request(`${base}/api/deployments`)).status === 200;
  }, 20_000, 250);

  // Two needles: line 2 and about 30,000 lines later; then kLines numbered lines, then a
  // heartbeat, so that the live window (the last 2,000 lines) holds neither.
  const id = `readers${crypto.randomBytes(4).toString('hex')}`;
  const needle = `needle-${crypto.randomBytes(3).toString('hex')}`;
  const script = `echo "readers: start"
echo "readers: the ${needle} first"
seq 1 30000 | sed 's/^/readers: line /'
echo "readers: the ${needle.toUpperCase()} second"
seq 30001 ${kLines} | sed 's/^/readers: line /'
trap 'exit 0' TERM
while true; do echo "readers: tick"; sleep 1 & wait $!; done`;
  const containerName = `zynd-${id}`;
  cleanups.push(async () => log(`docker rm -f ${containerName}: exit ${(await run(docker, ['rm', '-f', containerName])).code}`));
  const r = await run(docker, ['run', '-d', '--name', containerName, '--label', 'zynd.test=1',
    '--label', `zynd.name=Readers ${id}`, image, 'sh', '-c', script]);
  assert(r.code === 0, `docker run: ${r.stderr.trim()}`);
  await waitFor(`${kLines} lines stored`, async () => {
    const p = JSON.parse((await request(`${base}/api/deployments/${id}/logs?q=readers:%20tick&limit=1`)).body);
    return (p.lines ?? []).length > 0;
  }, 60_000, 500);

  const context = await launchBrowser(chromium, { profilePrefix: 'zc-readers-chromium-' });
  const consoleErrors = [];
  const page = context.pages()[0] ?? (await context.newPage());
  // The bad pattern is refused with 400 on purpose; Chromium logs that as a failed load.
  const expected = /^Failed to load resource: the server responded with a status of 400/;
  page.on('console', (m) => { if (m.type() === 'error' && !expected.test(m.text())) consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(`uncaught ${e.message}`));
  await page.goto(`${base}/d/${id}`);
  await page.locator('.logline .tx', { hasText: 'readers: tick' }).first().waitFor({ timeout: 20_000 });

  await check('`/` focuses the search box', async () => {
    await page.locator('#log').click();
    await page.keyboard.press('/');
    eq(await page.evaluate(() => document.activeElement?.id), 'search', 'focused element');
  });

  await check('search finds a line 50,000 lines before the window in under 1 s, highlighted, with context', async () => {
    assert(await page.locator('.logline .tx', { hasText: needle }).count() === 0, 'the needle is not in the live window');
    await page.locator('#search').fill(needle);
    const t0 = Date.now();
    await page.locator('#search').press('Enter');
    await page.locator('.search-results .match.current > .tx mark', { hasText: needle }).waitFor({ timeout: 5_000 });
    const ms = Date.now() - t0;
    log(`first match shown after ${ms} ms`);
    assert(ms < 1000, `the first match took ${ms} ms`);
    eq(await page.locator('.search-results .match.current .no').first().textContent(), '2', 'lineNo of the first match');
    await page.locator('.search-results .match.current .context .ctx', { hasText: 'readers: start' }).waitFor();
    await page.screenshot({ path: path.join(artifacts, 'search.png') });
  });

  await check('Enter goes to the next match (case-insensitive), then back to the first at the end', async () => {
    await page.locator('#search').press('Enter');
    await page.locator('#searchState', { hasText: 'Match 2 of 2' }).waitFor();
    eq(await page.locator('.search-results .match.current > .no').textContent(), '30003', 'lineNo of the second match');
    assert((await page.locator('.search-results .match.current > .tx').textContent()).includes(needle.toUpperCase()),
      'the second match is the upper-case needle');
    await page.locator('#search').press('Enter');
    await page.locator('#searchState', { hasText: 'back to the first match' }).waitFor();
    eq(await page.locator('.search-results .match.current .no').first().textContent(), '2', 'wrapped to the first');
  });

  await check('a regex search (RE2) and a bad pattern answered with the reason', async () => {
    await page.locator('#searchRegex').check();
    await page.locator('#search').fill('line 4[0-9]{3}7$');
    await page.locator('#search').press('Enter');
    await page.locator('#searchState', { hasText: 'Match 1 of' }).waitFor();
    eq(await page.locator('.search-results .match.current > .no').textContent(), '40010', 'the first regex match (line 40007)');
    await page.locator('#search').fill('(unclosed');
    await page.locator('#search').press('Enter');
    await page.locator('#searchState', { hasText: 'Bad search' }).waitFor();
    assert((await page.locator('#searchState').textContent()).includes('missing )'), 'the RE2 reason is shown');
  });

  await check('no console errors on the detail page', async () => {
    assert(consoleErrors.length === 0, consoleErrors.slice(0, 5).join(' | '));
  });
  return null;
}

await runScript(main, reporter);
