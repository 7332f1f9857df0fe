// End-to-end tests of the collector's pages in Debian's Chromium, driven by
// playwright-core (never a downloaded browser).
//
//   node tests/web/run.mjs           real mode: starts zynd-collector and a real container
//   node tests/web/run.mjs --mock    against tests/web/mock/server.mjs (pages only, no engine)
//
// Environment (set by tests/web/CMakeLists.txt):
//   ZC_BIN_DIR        folder of zynd-collector            ZC_PLUGIN_DIR  plugin folder
//   ZC_WEB_DIST       the built pages (build/web/dist)    ZC_E2E_ARTIFACTS  screenshots go here
//   ZC_REQUIRE_BROWSER=1  a missing /usr/bin/chromium fails instead of skipping
//   ZC_DOCKER         docker CLI (default /usr/bin/docker)  ZC_TEST_IMAGE  (zynd-test-busybox:latest)
//   ZC_E2E_SERVE_PAGES=proxy  serve dist/ from a proxy in front of the collector (only for a
//                     collector that does not serve the pages yet; the run says so loudly)
//
// Prints "ok - <case>" / "not ok - <case>: <why>" and a last line "N passed, N failed[, N skipped]";
// exits non-zero when anything failed. Always removes its container and kills its collector (by
// pid), also on failure, timeout or SIGINT/SIGTERM.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';

import {
  artifacts, assert, binDir, chromiumPath, cleanUpOnSignals, cleanup, cleanups, dist, docker, eq,
  freePort, image, killPid as killChild, launchBrowser, makeReporter, pluginDir, request as httpGet,
  run, runScript, sleep, waitFor,
} from './harness.mjs';

const mock = process.argv.includes('--mock');
const env = process.env;

const kWholeRunMs = Number(env.ZC_E2E_TIMEOUT_MS || 240_000);

// ---------------------------------------------------------------------------------------------
// Reporting, processes and cleanup: harness.mjs
const { results, log, check, summary } = makeReporter('e2e');
cleanUpOnSignals(log);
const killPid = (child, name) => killChild(child, name, log);

async function getJson(url) {
  const r = await httpGet(url);
  if (r.status !== 200) throw new Error(`GET ${url}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
  return JSON.parse(r.body);
}

// A small front for a collector that does not serve the pages yet: dist/ as the collector would
// serve it, everything else passed through (SSE included).
function startPagesProxy(targetPort) {
  const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };
  const server = http.createServer((req, res) => {
    const p = new URL(req.url, 'http://x').pathname;
    let file = null;
    if (req.method === 'GET' && p === '/') file = path.join(dist, 'index.html');
    else if (req.method === 'GET' && /^\/d\/[^/]+$/.test(p)) file = path.join(dist, 'detail.html');
    else if (req.method === 'GET' && /^\/assets\/[A-Za-z0-9._-]+$/.test(p)) file = path.join(dist, 'assets', p.slice(8));
    if (file) {
      fs.readFile(file, (err, data) => {
        res.writeHead(err ? 404 : 200, { 'Content-Type': types[path.extname(file)] ?? 'application/octet-stream' });
        res.end(err ? '' : data);
      });
      return;
    }
    const up = http.request({ host: '127.0.0.1', port: targetPort, path: req.url, method: req.method, headers: req.headers }, (ur) => {
      res.writeHead(ur.statusCode, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => { res.writeHead(502); res.end(); });
    req.pipe(up);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// ---------------------------------------------------------------------------------------------
// The container: a few stdout lines, 3,000 bulk lines (paging), an HTML line, a stderr line after
// a few seconds, another stderr line on demand (docker exec touch /tmp/trigger), /health served by
// busybox httpd, a clean exit on SIGTERM.
const containerScript = `
mkdir -p /www && echo ok > /www/health
httpd -f -p 8080 -h /www &
HP=$!
trap 'echo "e2e: got SIGTERM"; kill $HP; exit 0' TERM
echo "e2e: hello from stdout"
echo "e2e: second stdout line"
i=1; while [ $i -le 3000 ]; do echo "e2e: bulk $i"; i=$((i+1)); done
echo '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
sleep 3 & wait $!
echo "e2e: early stderr line" >&2
n=0
while true; do
  if [ -f /tmp/trigger ]; then rm -f /tmp/trigger; echo "e2e: stderr $(cat /tmp/token)" >&2; fi
  n=$((n+1)); [ $((n % 50)) -eq 0 ] && echo "e2e: tick $n"
  sleep 0.1 & wait $!
done
`;

// ---------------------------------------------------------------------------------------------
async function main() {
  const watchdog = setTimeout(async () => {
    console.log(`not ok - whole run: exceeded ${kWholeRunMs} ms`);
    await cleanup();
    summary();
    process.exit(1);
  }, kWholeRunMs);
  watchdog.unref();

  if (!fs.existsSync(chromiumPath)) {
    if (env.ZC_REQUIRE_BROWSER === '1') {
      console.log(`not ok - browser: ${chromiumPath} is missing and ZC_REQUIRE_BROWSER=1 (apt-get install -y chromium)`);
      console.log('0 passed, 1 failed');
      return 1;
    }
    console.log(`SKIP: ${chromiumPath} is missing (apt-get install -y chromium); set ZC_REQUIRE_BROWSER=1 to fail instead`);
    console.log('0 passed, 0 failed, 1 skipped');
    return 0;
  }
  if (!fs.existsSync(path.join(dist, 'index.html')) || !fs.existsSync(path.join(dist, 'detail.html'))) {
    console.log(`not ok - pages: ${dist}/index.html or detail.html missing (build the zc_web target)`);
    console.log('0 passed, 1 failed');
    return 1;
  }
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    console.log(`not ok - playwright-core: cannot load it (${e.message}); run npm ci in tests/web`);
    console.log('0 passed, 1 failed');
    return 1;
  }
  fs.mkdirSync(artifacts, { recursive: true });

  // --- the server side -----------------------------------------------------------------------
  let base; // http://127.0.0.1:PORT
  let apiBase; // where the test itself calls the REST API
  let dep; // what we expect the info grid to show
  let containerName = null;
  let containerId = null;
  let hostPort = null;
  let mockServer = null;

  if (mock) {
    const { startMock } = await import('./mock/server.mjs');
    mockServer = await startMock({ dist, lines: Number(env.ZC_MOCK_LINES || 100000) });
    cleanups.push(() => mockServer.close());
    base = apiBase = `http://127.0.0.1:${mockServer.port}`;
    log(`mock collector on ${base}`);
  } else {
    const exe = path.join(binDir, 'zynd-collector');
    assert(fs.existsSync(exe), `${exe} is missing (build the zynd-collector target)`);
    // The engine may be restarting (other suites restart it): give it a bounded while.
    let info;
    const engineDeadline = Date.now() + 30_000;
    do {
      info = await run(docker, ['image', 'inspect', image]);
      if (info.code === 0 || !/Cannot connect to the Docker daemon/.test(info.stderr)) break;
      await sleep(1000);
    } while (Date.now() < engineDeadline);
    if (info.code !== 0) {
      console.log(`not ok - docker: ${docker} image inspect ${image} failed (${(info.stderr || info.err?.message || '').trim()}); ` +
        'run scripts/start-dockerd.sh and scripts/build-test-image.sh');
      console.log('0 passed, 1 failed');
      return 1;
    }
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-e2e-'));
    cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const port = await freePort();
    const args = ['--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--storage', 'rocksdb',
      '--plugin-dir', pluginDir, '--metrics-interval', '1s', '--health-interval', '1s', '--router', 'none',
      '--stop-grace', '2s',
      // The engine is shared with other suites: never remove anybody's dead containers.
      '--keep-crashed', 'true'];
    const logFile = path.join(artifacts, 'collector.log');
    const out = fs.openSync(logFile, 'w');
    const collector = spawn(exe, args, { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    log(`collector pid ${collector.pid} on 127.0.0.1:${port} (log: ${logFile})`);
    cleanups.push(() => killPid(collector, 'collector'));
    collector.once('exit', (code, sig) => log(`collector exited (code ${code}, signal ${sig})`));
    apiBase = `http://127.0.0.1:${port}`;
    await waitFor('the collector to answer GET /api/deployments', async () => {
      if (collector.exitCode != null) throw new Error(`collector exited with ${collector.exitCode}; see ${logFile}`);
      const r = await httpGet(`${apiBase}/api/deployments`);
      if (r.status === 404) throw new Error('GET /api/deployments answers 404: the REST API is not served by this build');
      return r.status === 200;
    }, 20_000, 250);

    base = apiBase;
    if (env.ZC_E2E_SERVE_PAGES === 'proxy') {
      const proxy = await startPagesProxy(port);
      cleanups.push(() => new Promise((r) => { proxy.closeAllConnections?.(); proxy.close(() => r()); }));
      base = `http://127.0.0.1:${proxy.address().port}`;
      console.log(`NOTE: ZC_E2E_SERVE_PAGES=proxy: the pages come from ${dist} through a test proxy on ${base}; ` +
        'the API, SSE and container are real');
    }

    // The container.
    const tag = crypto.randomBytes(5).toString('hex');
    const id = `e2e${tag}`;
    containerName = `zynd-${id}`;
    hostPort = await freePort();
    dep = {
      id,
      name: `E2E Agent ${tag}`,
      slug: `e2e-agent-${tag}`,
      entityType: 'agent',
      publicUrl: `https://e2e-${tag}.agents.example.test`,
      registryUrl: `https://registry.example.test/agents/e2e-${tag}`,
      entityId: `entity-${tag}`,
      publicKey: `ed25519:${crypto.randomBytes(32).toString('base64')}`,
      hostPort,
    };
    cleanups.push(async () => {
      const r = await run(docker, ['rm', '-f', containerName], { timeoutMs: 20_000 });
      log(`docker rm -f ${containerName}: exit ${r.code}`);
    });
    const runArgs = ['run', '-d', '--name', containerName,
      '--label', 'zynd.test=1', '--label', `zynd.kind=${dep.entityType}`, '--label', `zynd.name=${dep.name}`,
      '--label', `zynd.slug=${dep.slug}`, '--label', `zynd.public-url=${dep.publicUrl}`,
      '--label', `zynd.registry-url=${dep.registryUrl}`, '--label', `zynd.entity-id=${dep.entityId}`,
      '--label', `zynd.public-key=${dep.publicKey}`,
      '-p', `127.0.0.1:${hostPort}:8080`, '-m', '1536m', image, 'sh', '-c', containerScript];
    const r = await run(docker, runArgs, { timeoutMs: 30_000 });
    assert(r.code === 0, `docker run failed: ${r.stderr.trim()}`);
    containerId = r.stdout.trim();
    log(`container ${containerName} ${containerId.slice(0, 12)} on 127.0.0.1:${hostPort}`);
    await waitFor(`deployment ${id} running in /api/deployments`, async () => {
      const body = await getJson(`${apiBase}/api/deployments`);
      const d = (body.deployments ?? []).find((x) => x.id === id);
      return d && d.status === 'running';
    }, 20_000, 250);
  }
  if (mock) {
    dep = { ...mockServer.dep };
    containerId = dep.containerId;
    hostPort = dep.hostPort;
  }
  const detailUrl = `${base}/d/${encodeURIComponent(dep.id)}`;

  // --- the browser ---------------------------------------------------------------------------
  const context = await launchBrowser(chromium, {
    profilePrefix: 'zc-e2e-chromium-', viewport: { width: 1280, height: 1000 },
  });
  const consoleErrors = [];
  const watch = (page, label) => {
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${label}: ${m.text()}`); });
    page.on('pageerror', (e) => consoleErrors.push(`${label}: uncaught ${e.message}`));
  };
  const page = context.pages()[0] ?? (await context.newPage());
  watch(page, 'page');

  // 1. The list page.
  await check('list page (GET /) shows the deployment with name, slug, status, port, started, link', async () => {
    const resp = await page.goto(`${base}/`, { waitUntil: 'load' });
    eq(resp.status(), 200, 'GET / status');
    const row = page.locator(`tr[data-id="${dep.id}"]`);
    await row.waitFor({ timeout: 10_000 });
    eq(await row.locator('a.name').textContent(), dep.name, 'name');
    eq(await row.locator('a.name').getAttribute('href'), `/d/${dep.id}`, 'link');
    eq(await row.locator('td.slug').textContent(), dep.slug, 'slug');
    const badge = await row.locator('.badge').textContent();
    assert(['running', 'unhealthy'].includes(badge), `status badge: ${badge}`);
    eq(await row.locator('td.port').textContent(), String(hostPort), 'host port');
    const started = await row.locator('td.started time').getAttribute('datetime');
    assert(started && !Number.isNaN(Date.parse(started)), `started time: ${started}`);
  });

  await check('list page link opens the detail page /d/<id>', async () => {
    await page.locator(`tr[data-id="${dep.id}"] a.name`).click();
    await page.waitForURL(`**/d/${dep.id}`, { timeout: 10_000 });
    await page.locator('#name').filter({ hasText: dep.name }).waitFor({ timeout: 10_000 });
  });

  // 2. Header and info grid.
  let apiDep;
  await check('detail page header and every info-grid field show the right values', async () => {
    if (!page.url().endsWith(`/d/${dep.id}`)) await page.goto(detailUrl);
    apiDep = await getJson(`${apiBase}/api/deployments/${dep.id}`);
    await page.locator('dd[data-field="hostPort"] code').waitFor();
    eq(await page.locator('#name').textContent(), dep.name, 'name');
    eq(await page.locator('#slug').textContent(), dep.slug, 'slug');
    eq(await page.locator('#entityType').textContent(), dep.entityType, 'entity type');
    eq(await page.locator('#status').textContent(), apiDep.status, 'status badge');
    const dd = (f) => page.locator(`dd[data-field="${f}"]`);
    eq(await dd('publicUrl').locator('a').textContent(), dep.publicUrl, 'public URL');
    eq(await dd('publicUrl').locator('a').getAttribute('href'), new URL(dep.publicUrl).href, 'public URL link');
    eq(await dd('registryUrl').locator('a').textContent(), dep.registryUrl, 'registry URL');
    eq(await dd('entityId').textContent(), dep.entityId, 'entity ID');
    const keyShort = await dd('publicKey').locator('code').textContent();
    eq(await dd('publicKey').locator('code').getAttribute('title'), dep.publicKey, 'public key (full, in title)');
    assert(keyShort.length < dep.publicKey.length && keyShort.includes('…') &&
      dep.publicKey.startsWith(keyShort.split('…')[0]) && dep.publicKey.endsWith(keyShort.split('…')[1]),
      `public key shortened: ${keyShort}`);
    assert(await dd('publicKey').locator('button.copy').isVisible(), 'copy button');
    eq(await dd('hostPort').textContent(), String(hostPort), 'host port');
    eq(await dd('containerId').locator('code').getAttribute('title'), containerId, 'container ID (full)');
    eq(await dd('containerId').locator('code').textContent(), containerId.slice(0, 12), 'container ID (short)');
    for (const f of ['createdAt', 'startedAt']) {
      const dt = await dd(f).locator('time').getAttribute('datetime');
      eq(dt, apiDep[f], `${f} datetime`);
      const shown = await dd(f).locator('time').textContent();
      assert(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(shown), `${f} text: ${shown}`);
    }
    if (!mock) {
      const ins = JSON.parse((await run(docker, ['inspect', containerId])).stdout)[0];
      const skew = Math.abs(Date.parse(apiDep.startedAt) - Date.parse(ins.State.StartedAt));
      assert(skew < 2000, `startedAt ${apiDep.startedAt} vs engine ${ins.State.StartedAt}`);
    }
    const exitText = await dd('lastExitCode').textContent();
    eq(exitText, apiDep.lastExitCode == null ? '—' : String(apiDep.lastExitCode), 'last exit code');
  });

  await check('copy button copies the full public key', async () => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    await page.locator('dd[data-field="publicKey"] button.copy').click();
    await page.locator('dd[data-field="publicKey"] button.copy').filter({ hasText: 'Copied' }).waitFor({ timeout: 3000 });
    const clip = await page.evaluate(() => navigator.clipboard.readText());
    eq(clip, dep.publicKey, 'clipboard');
  });

  // 3. Logs.
  const xssText = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">';
  await check('a log line containing HTML is shown as text and never runs', async () => {
    const line = page.locator('.logline .tx', { hasText: '<script>window.__xss=1</script>' });
    await line.first().waitFor({ timeout: 10_000 });
    eq(await line.first().textContent(), xssText, 'line text');
    eq(await page.evaluate(() => typeof window.__xss), 'undefined', 'window.__xss');
    eq(await page.locator('#logRows script, #logRows img').count(), 0, 'elements created from log text');
  });

  await check('a line printed on stderr appears in red within 2 s', async () => {
    let t0;
    let token;
    if (mock) {
      t0 = Date.now();
      token = 'warning: live stderr';
    } else {
      // The container prints this stderr line a few seconds after its start, then enters the
      // loop that answers the trigger: wait for it so the 2 s measure is of the pipeline only.
      await page.locator('.logline.stderr', { hasText: 'e2e: early stderr line' }).first().waitFor({ timeout: 15_000 });
      token = `trigger-${crypto.randomBytes(4).toString('hex')}`;
      const w = await run(docker, ['exec', containerName, 'sh', '-c', `echo ${token} > /tmp/token && touch /tmp/trigger`]);
      assert(w.code === 0, `docker exec: ${w.stderr}`);
      t0 = Date.now();
    }
    const line = page.locator('.logline.stderr', { hasText: token }).last();
    await line.waitFor({ timeout: 2000 + (mock ? 3000 : 0) });
    const ms = Date.now() - t0;
    const color = await line.locator('.tx').evaluate((e) => getComputedStyle(e).color);
    eq(color, 'rgb(192, 28, 40)', 'stderr colour');
    const normal = await page.locator('.logline.stdout .tx').first().evaluate((e) => getComputedStyle(e).color);
    assert(normal !== color, `stdout has the default colour (${normal})`);
    log(`stderr line shown ${ms} ms after it was printed`);
    if (!mock) assert(ms <= 2000, `took ${ms} ms`);
  });

  await check('stream toggles and the filter box hide and show lines', async () => {
    await page.locator('#show-stdout').uncheck();
    const visibleStdout = await page.locator('.logline.stdout:visible').count();
    eq(visibleStdout, 0, 'visible stdout lines with stdout off');
    assert((await page.locator('.logline.stderr:visible').count()) > 0, 'stderr lines stay visible');
    await page.locator('#show-stdout').check();
    await page.locator('#filter').fill('window.__xss');
    const vis = await page.locator('.logline:visible').count();
    eq(vis, 1, 'lines matching the filter');
    await page.locator('#filter').fill('');
    assert((await page.locator('.logline.stdout:visible').count()) > 1, 'stdout lines back');
  });

  await check('scrolling up loads older lines through /logs?since= (contiguous, bounded DOM window)', async () => {
    const lineNos = () => page.$$eval('.logline', (rows) => rows.map((r) => Number(r.dataset.lineNo)));
    const before = await lineNos();
    assert(before.length > 0, 'no lines shown');
    const first = before[0];
    assert(first > 1, `the stream started at line ${first}: nothing older to load`);
    const rounds = mock ? 6 : 3;
    for (let i = 0; i < rounds; i++) {
      const lo = (await lineNos())[0];
      if (lo <= 1) break;
      await page.locator('#log').evaluate((e) => { e.scrollTop = 0; e.dispatchEvent(new Event('scroll')); });
      await waitFor('older lines', async () => (await lineNos())[0] < lo, 5000, 100);
    }
    const after = await lineNos();
    assert(after[0] < first, `first line ${after[0]} not older than ${first}`);
    for (let i = 1; i < after.length; i++) {
      if (after[i] !== after[i - 1] + 1) throw new Error(`gap or repeat between ${after[i - 1]} and ${after[i]}`);
    }
    assert(after.length <= 2000, `${after.length} rows in the DOM`);
    if (!mock) {
      const t = await page.locator(`.logline[data-line-no="${after[0]}"] .tx`).textContent();
      const p = await getJson(`${apiBase}/api/deployments/${dep.id}/logs?since=${after[0] - 1}&limit=1`);
      eq(t, p.lines[0].text, `text of line ${after[0]} vs the API`);
    }
    // Back to the tail: the jump button (or scrolling down) follows live lines again.
    const jump = page.locator('#jump');
    if (await jump.isVisible()) await jump.click();
    else await page.locator('#log').evaluate((e) => { e.scrollTop = e.scrollHeight; e.dispatchEvent(new Event('scroll')); });
    await waitFor('the view to follow the tail again', () => page.locator('#log').evaluate(
      (e) => e.scrollTop + e.clientHeight >= e.scrollHeight - 40), 5000, 100);
  });

  // 4. Metrics.
  await check('the metrics plots have drawn points (CPU %, memory MB with the limit)', async () => {
    await waitFor('at least 2 samples in both plots', async () => {
      const [a, b] = await Promise.all([page.getAttribute('#cpuChart', 'data-points'), page.getAttribute('#memChart', 'data-points')]);
      return Number(a) >= 2 && Number(b) >= 2;
    }, 25_000, 500);
    // Pixels of the series colours on the canvases: the lines are really drawn.
    const drawn = await page.evaluate(() => {
      const count = (sel, rgb) => {
        const c = document.querySelector(`${sel} canvas`);
        if (!c) return -1;
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) {
          if (Math.abs(d[i] - rgb[0]) < 30 && Math.abs(d[i + 1] - rgb[1]) < 30 && Math.abs(d[i + 2] - rgb[2]) < 30 && d[i + 3] > 200) n++;
        }
        return n;
      };
      return { cpu: count('#cpuChart', [26, 95, 180]), used: count('#memChart', [31, 138, 59]), limit: count('#memChart', [192, 28, 40]) };
    });
    assert(drawn.cpu > 20, `CPU line pixels: ${drawn.cpu}`);
    assert(drawn.used > 20, `memory line pixels: ${drawn.used}`);
    assert(drawn.limit > 20, `memory limit line pixels: ${drawn.limit}`);
    const samples = (await getJson(`${apiBase}/api/deployments/${dep.id}/metrics`)).samples;
    assert(samples.some((s) => s.memLimitMb === 1536), `a sample with memLimitMb 1536: ${JSON.stringify(samples[0])}`);
  });

  await check('screenshot of the detail page written', async () => {
    const file = path.join(artifacts, 'detail.png');
    await page.screenshot({ path: file, fullPage: true });
    assert(fs.statSync(file).size > 10_000, 'screenshot too small');
    log(`screenshot: ${file}`);
  });

  await check('a flood of 100,000 lines keeps the tab responsive and the DOM window bounded', async () => {
    const n = 100_000;
    // Main-thread stalls: the longest gap between 50 ms ticks while the flood arrives.
    await page.evaluate(() => {
      window.__gap = 0;
      let last = performance.now();
      window.__tick = setInterval(() => {
        const now = performance.now();
        window.__gap = Math.max(window.__gap, now - last);
        last = now;
      }, 50);
    });
    const t0 = Date.now();
    if (mock) mockServer.flood(n);
    else {
      const r = await run(docker, ['exec', containerName, 'sh', '-c',
        `seq 1 ${n} | sed 's/^/e2e: flood /' > /proc/1/fd/1`], { timeoutMs: 60_000 });
      assert(r.code === 0, `docker exec: ${r.stderr}`);
    }
    await page.locator('.logline .tx', { hasText: `e2e: flood ${n}` }).waitFor({ timeout: 90_000 });
    const ms = Date.now() - t0;
    const [gap, rows] = await page.evaluate(() => { clearInterval(window.__tick); return [window.__gap, document.querySelectorAll('.logline').length]; });
    log(`flood of ${n} lines shown in ${ms} ms; longest main-thread gap ${Math.round(gap)} ms; ${rows} DOM rows`);
    assert(rows <= 2000, `${rows} rows in the DOM`);
    // Generous: the machine's two cores are shared with the collector, the engine and builds.
    assert(gap < 2000, `the main thread stalled for ${Math.round(gap)} ms`);
    const nos = await page.$$eval('.logline', (r) => r.map((e) => Number(e.dataset.lineNo)));
    for (let i = 1; i < nos.length; i++) {
      if (nos[i] !== nos[i - 1] + 1) throw new Error(`gap or repeat between ${nos[i - 1]} and ${nos[i]}`);
    }
    const t = Date.now();
    await page.locator('#filter').fill('flood 99999');
    await page.locator('#filter').fill('');
    assert(Date.now() - t < 2000, 'filtering the window took over 2 s');
  });

  await check('pages fit a phone-width screen (375 px, no horizontal scroll)', async () => {
    const phone = await context.newPage();
    watch(phone, 'phone');
    await phone.setViewportSize({ width: 375, height: 800 });
    for (const url of [`${base}/`, detailUrl]) {
      await phone.goto(url);
      await phone.locator(url.endsWith('/') ? `tr[data-id="${dep.id}"]` : 'dd[data-field="hostPort"] code').waitFor();
      await phone.waitForTimeout(300);
      const w = await phone.evaluate(() => document.documentElement.scrollWidth);
      assert(w <= 376, `${url}: page is ${w} px wide`);
    }
    await phone.screenshot({ path: path.join(artifacts, 'detail-phone.png'), fullPage: false });
    await phone.close();
  });

  // 5. Stop.
  await check('Stop: confirmation accepted, badge turns stopped, system line in blue, container gone', async () => {
    let dialogText = null;
    page.once('dialog', async (d) => {
      dialogText = `${d.type()}: ${d.message()}`;
      await d.accept();
    });
    await page.locator('#stop').click();
    await waitFor('the confirmation dialog', () => dialogText, 3000, 50);
    assert(dialogText.startsWith('confirm:'), `dialog: ${dialogText}`);
    await page.locator('#status[data-status="stopped"]').waitFor({ timeout: 10_000 });
    eq(await page.locator('#status').textContent(), 'stopped', 'badge');
    const bg = await page.locator('#status').evaluate((e) => getComputedStyle(e).backgroundColor);
    eq(bg, 'rgb(119, 118, 123)', 'stopped badge colour (grey)');
    const result = await page.locator('#stopResult').textContent();
    assert(/stopped/.test(result), `stop result: ${result}`);
    assert(await page.locator('#stop').isDisabled(), 'Stop disabled once stopped');
    const sys = page.locator('.logline.system', { hasText: '[STOP]' }).first();
    await sys.waitFor({ timeout: 10_000 });
    eq(await sys.locator('.tx').evaluate((e) => getComputedStyle(e).color), 'rgb(26, 95, 180)', 'system line colour (blue)');
    if (!mock) {
      await waitFor(`docker inspect ${containerName} to fail (container removed)`, async () =>
        (await run(docker, ['inspect', containerName], { timeoutMs: 10_000 })).code !== 0, 20_000, 500);
      const d = await getJson(`${apiBase}/api/deployments/${dep.id}`);
      eq(d.status, 'stopped', 'API status');
    }
  });

  await check('after teardown the stream ends (event: end) and the page shows it', async () => {
    await page.locator('#streamState', { hasText: 'ended' }).waitFor({ timeout: 15_000 });
    await page.screenshot({ path: path.join(artifacts, 'detail-stopped.png'), fullPage: true });
  });

  await check('no console errors on any page', async () => {
    assert(consoleErrors.length === 0, consoleErrors.slice(0, 5).join(' | '));
  });
  return null;
}

await runScript(main, { results, summary });
