// The pages for people who read logs, in Debian's Chromium against the real collector and a real
// container (playwright-core, never a downloaded browser):
//   - the search box finds a line written 50,000 lines before the live window, over the whole
//     stored log, in under a second, highlighted, with its context; Enter goes to the next match;
//   - a regex search (RE2), and a bad pattern answered with the server's reason;
//   - `/` focuses the search box, `g` shows the first stored lines;
//   - ANSI colours rendered (SGR colours, bold; other escapes dropped), an HTML-looking line
//     stays text;
//   - dark mode follows the emulated colour scheme, and the toggle's choice is remembered;
//   - "jump to time" lands on the line the API's fromTs names, with times shown in UTC;
//   - a real crash: the banner with the exit code, and its button shows the [CRASH] line;
//   - the list page: filter, sort by a column (both ways), counts per status, no host column on a
//     host collector (nor a Host row on the detail page);
//   - axe-core (npm) finds no serious or critical accessibility violation on either page, light
//     and dark.
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
  artifacts, assert, cleanUpOnSignals, cleanups, docker, eq, freePort, image, killPid,
  launchBrowser, makeReporter, prepareBrowserRun, pluginDir, request, run, runScript,
  summaryTimeout, waitFor
} from './harness.mjs';

const env = process.env;
const kWholeRunMs = Number(env.ZC_E2E_TIMEOUT_MS || 180_000);
const kLines = 60_000;

const reporter = makeReporter('readers');
const { log, check } = reporter;
cleanUpOnSignals(log);

async function main() {
  summaryTimeout(kWholeRunMs, reporter);
  const ready = await prepareBrowserRun();
  if (ready.early != null) return ready.early;
  const { chromium, exe } = ready;

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-readers-'));
  cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const logFile = path.join(artifacts, 'readers-collector.log');
  const out = fs.openSync(logFile, 'w');
  const collector = spawn(exe, ['--data-dir', dataDir, '--listen', `127.0.0.1:${port}`,
    '--plugin-dir', pluginDir, '--router', 'none', '--stop-grace', '2s', '--metrics-interval', '1s'],
  { stdio: ['ignore', out, out] });
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
printf 'readers: ansi \\033[31mred\\033[0m \\033[1;32mbold green\\033[0m \\033[2Kplain\\n'
echo 'readers: <b>not bold</b><img src=x onerror=alert(1)>'
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
  const listCheck = {};
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

  await check('ANSI colours are rendered, other escapes dropped, HTML-looking text stays text', async () => {
    const ansi = page.locator('.logline .tx', { hasText: 'readers: ansi' }).first();
    await ansi.waitFor();
    eq(await ansi.textContent(), 'readers: ansi red bold green plain', 'text without escapes');
    eq(await ansi.locator('.ansi-fg-1').textContent(), 'red', 'red span');
    const bold = ansi.locator('.ansi-fg-2.ansi-b');
    eq(await bold.textContent(), 'bold green', 'bold green span');
    eq(await bold.evaluate((e) => getComputedStyle(e).fontWeight), '700', 'bold weight');
    const red = await ansi.locator('.ansi-fg-1').evaluate((e) => getComputedStyle(e).color);
    assert(/^rgb\((1[6-9]\d|2\d\d), \d{1,2}, \d{1,2}\)$/.test(red), `red is red (${red})`);
    const html = page.locator('.logline .tx', { hasText: 'readers: <b>' }).first();
    eq(await html.textContent(), 'readers: <b>not bold</b><img src=x onerror=alert(1)>', 'literal text');
    eq(await html.locator('b, img').count(), 0, 'elements made from the text');
  });

  await check('dark mode follows the colour scheme; the toggle\'s choice is remembered', async () => {
    const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.emulateMedia({ colorScheme: 'dark' });
    eq(await bg(), 'rgb(20, 24, 29)', 'dark background');
    await page.screenshot({ path: path.join(artifacts, 'detail-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });
    eq(await bg(), 'rgb(245, 246, 248)', 'light background');
    await page.locator('#theme').click(); // auto -> dark
    eq(await page.locator('#theme').getAttribute('data-choice'), 'dark', 'choice');
    eq(await bg(), 'rgb(20, 24, 29)', 'dark by choice under a light scheme');
    await page.reload();
    await page.locator('.logline').first().waitFor();
    eq(await bg(), 'rgb(20, 24, 29)', 'remembered after a reload');
    await page.locator('#theme').click(); // dark -> light
    await page.locator('#theme').click(); // light -> auto
    eq(await page.locator('#theme').getAttribute('data-choice'), 'auto', 'back to auto');
  });

  await check('jump to a time (UTC) lands on the first line at or after it; `g` shows the first lines', async () => {
    const ticks = JSON.parse((await request(`${base}/api/deployments/${id}/logs?q=readers:%20tick&limit=3`)).body).lines;
    assert(ticks.length === 3, 'three ticks stored');
    const second = ticks[1].ts.slice(0, 19); // "YYYY-MM-DDTHH:MM:SS", UTC
    const want = JSON.parse((await request(`${base}/api/deployments/${id}/logs?limit=1&fromTs=${second}Z`)).body).lines[0].lineNo;
    await page.locator('#utc').check();
    eq((await page.locator('.logline .ts').first().textContent()).length, 8, 'a time shown');
    await page.locator('#jumpTime').fill(second);
    await page.locator('#jumpGo').click();
    await page.locator('.logline.target').waitFor();
    eq(await page.locator('.logline.target .no').textContent(), String(want), 'the line the API names');
    const line = JSON.parse((await request(`${base}/api/deployments/${id}/logs?limit=1&since=${want - 1}`)).body).lines[0];
    eq(await page.locator('.logline.target .ts').textContent(), line.ts.slice(11, 19), 'its time shown in UTC');
    await page.locator('#log').click();
    await page.keyboard.press('g');
    await page.locator('.logline.target .no', { hasText: /^1$/ }).waitFor();
    await page.locator('#utc').uncheck();
  });

  await check('a real crash: the banner with its exit code shows the [CRASH] line', async () => {
    const crashId = `readerscrash${crypto.randomBytes(3).toString('hex')}`;
    const name = `zynd-${crashId}`;
    cleanups.push(async () => { await run(docker, ['rm', '-f', name]); });
    const c = await run(docker, ['run', '-d', '--name', name, '--label', 'zynd.test=1', image, 'sh', '-c',
      'echo "crash: about to fail"; sleep 1; exit 3']);
    assert(c.code === 0, `docker run: ${c.stderr.trim()}`);
    await waitFor('crashed', async () =>
      JSON.parse((await request(`${base}/api/deployments/${crashId}`)).body).status === 'crashed', 30_000, 250);
    await page.goto(`${base}/d/${crashId}`);
    await page.locator('#crash').waitFor();
    eq(await page.locator('#crashExit').textContent(), '3', 'exit code');
    assert((await page.locator('#crashTitle').textContent()).includes('crashed'), 'title');
    await page.locator('#crashJump').click();
    await page.locator('.logline.target .tx', { hasText: '[CRASH] exit=3' }).waitFor();
    await page.screenshot({ path: path.join(artifacts, 'crash-banner.png') });
    listCheck.crashId = crashId;
  });

  await check('the list page filters, sorts by a column both ways and counts per status', async () => {
    assert(listCheck.crashId, 'the crash case ran');
    await page.goto(`${base}/`);
    await page.locator(`tr[data-id="${id}"]`).waitFor();
    await page.locator('#counts', { hasText: '1 crashed' }).waitFor();
    // One host collector: no host column (a fleet's central instance shows one, docs/fleet.md).
    assert(await page.locator('th.host-col').isHidden(), 'no host column on a host collector');
    assert(await page.locator(`tr[data-id="${id}"] td.host`).isHidden(), 'no host cell either');
    await page.locator('#listFilter').fill(listCheck.crashId);
    await page.locator('#counts', { hasText: '1 shown' }).waitFor();
    eq(await page.locator('#rows tr').count(), 1, 'rows shown for the crash id');
    await page.locator('#listFilter').fill('readers');
    await page.locator('button.sort[data-key="status"]').click();
    const ids = () => page.locator('#rows tr').evaluateAll((trs) => trs.map((t) => t.dataset.id));
    eq((await ids())[0], listCheck.crashId, 'crashed sorts before running');
    await page.locator('button.sort[data-key="status"]').click();
    eq((await ids())[0], id, 'and after it, reversed');
    eq(await page.locator('th[aria-sort="descending"] button').textContent(), 'Status', 'aria-sort');
    // The running deployment's CPU sparkline (samples every second here).
    await page.locator(`tr[data-id="${id}"] svg.spark polyline`).waitFor({ timeout: 40_000 });
    assert((await page.locator(`tr[data-id="${listCheck.crashId}"] svg.spark`).count()) === 0, 'no sparkline when not running');
    await page.screenshot({ path: path.join(artifacts, 'list-filtered.png') });
  });

  await check('a host collector\'s detail page leaves out the Host row (a central instance\'s)', async () => {
    await page.goto(`${base}/d/${id}`);
    // Filled (the row carries this collector's --host-id), and hidden once /healthz says host.
    await page.locator('dd[data-field="host"] code').waitFor({ state: 'attached' });
    await page.waitForFunction(() => (window.performance.getEntriesByName(`${location.origin}/healthz`).length > 0));
    assert(await page.locator('#hostRow').isHidden(), 'no Host row on a host collector');
  });

  await check('Download gives the whole stored log, the API\'s lines byte for byte', async () => {
    await page.goto(`${base}/d/${id}`);
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 30_000 }),
      page.locator('#downloadText').click(),
    ]);
    eq(download.suggestedFilename(), `${id}.log`, 'filename');
    const file = fs.readFileSync(await download.path(), 'utf8');
    let want = '';
    for (let since = 0, i = 0; i < 100; i++) {
      const p = JSON.parse((await request(`${base}/api/deployments/${id}/logs?limit=5000&since=${since}`, { timeoutMs: 20_000 })).body);
      if (!p.lines.length) break;
      for (const l of p.lines) want += l.text + '\n';
      since = p.nextSince;
    }
    // Ticks keep coming: the file holds every line up to when it was made.
    assert(want.startsWith(file.slice(0, file.lastIndexOf('readers: tick'))), 'the file is a prefix of the API\'s lines');
    assert(file.split('\n').length > kLines, `${file.split('\n').length} lines`);
  });

  await check('the charts\' range picker asks for that range', async () => {
    await page.goto(`${base}/d/${id}`);
    const [req] = await Promise.all([
      page.waitForRequest((r) => r.url().includes('/metrics?from=') &&
        Number(new URL(r.url()).searchParams.get('from')) > Date.now() - 2 * 3600_000),
      page.locator('.range button[data-range="1"]').click(),
    ]);
    const from = Number(new URL(req.url()).searchParams.get('from'));
    assert(Math.abs(Date.now() - 3600_000 - from) < 60_000, `from is an hour ago (${from})`);
    eq(await page.locator('#rangeLabel').textContent(), '(last 1 h)', 'label');
    eq(await page.locator('.range button[aria-pressed="true"]').textContent(), '1 h', 'pressed');
  });

  await check('axe-core: no serious or critical violation on either page, light and dark', async () => {
    // Evaluated through the DevTools protocol: the pages' CSP (no inline script) stays in force.
    const axe = fs.readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname),
      'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
    const found = [];
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const [url, ready] of [[`/`, `tr[data-id="${id}"]`], [`/d/${listCheck.crashId ?? id}`, '#crash']]) {
        await page.goto(`${base}${url}`);
        await page.locator(ready).waitFor();
        await page.locator('.logline, #rows tr').first().waitFor();
        await page.evaluate(axe);
        const v = await page.evaluate(async () => (await window.axe.run()).violations
          .filter((x) => x.impact === 'serious' || x.impact === 'critical')
          .map((x) => `${x.impact} ${x.id} (${x.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')})`));
        for (const s of v) found.push(`${scheme} ${url}: ${s}`);
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
    assert(found.length === 0, found.join(' | '));
  });

  await check('no console errors on the detail page', async () => {
    assert(consoleErrors.length === 0, consoleErrors.slice(0, 5).join(' | '));
  });
  return null;
}

await runScript(main, reporter);
