// The pages' trust boundary in Debian's Chromium, against the real collector with a tokens file
// and a real container (playwright-core, never a downloaded browser):
//   - the login form, then the list and a live log stream through the session cookie, logout;
//   - the Stop button only for an operate session, a read session refused (403); revoking the
//     token sends the open page back to the login form;
//   - the security headers and Content-Security-Policy, under which the pages still work;
//   - a page on ANOTHER origin (a second local HTTP server on another loopback port, started
//     and stopped here) that tries a credentialed cross-origin DELETE with the browser's operate
//     cookie: refused, the deployment keeps running;
//   - a DNS-rebinding-like name (mapped to 127.0.0.1 inside Chromium only) gets 421.
//
//   node tests/web/trust.mjs     (environment as for run.mjs; set by tests/web/CMakeLists.txt)
//
// Prints "ok - <case>" / "not ok - <case>: <why>" and "N passed, N failed[, N skipped]"; exits
// non-zero when anything failed. Always removes its container and stops what it started (by
// pid / by handle), also on failure, timeout or SIGINT/SIGTERM. Every wait is bounded.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import {
  artifacts, assert, cleanUpOnSignals, cleanups, docker, eq, freePort, image, killPid,
  launchBrowser, makeReporter, prepareBrowserRun, pluginDir, request, run, runScript, sleep,
  summaryTimeout, waitFor
} from './harness.mjs';

const env = process.env;
const kWholeRunMs = Number(env.ZC_E2E_TIMEOUT_MS || 180_000);
const kRebindName = 'rebind.zynd.test';

const reporter = makeReporter('trust');
const { log, check } = reporter;
cleanUpOnSignals(log);

// The other origin: one page whose script tries to stop the deployment with the browser's
// cookie and writes what happened into the page.
function startOtherOrigin(target, id) {
  const page = `<!doctype html><meta charset="utf-8"><title>other origin</title><pre id="out">…</pre>
<script>
(async () => {
  const out = [];
  try {
    const r = await fetch(${JSON.stringify(`${target}/api/deployments/${encodeURIComponent(id)}`)},
      { method: 'DELETE', credentials: 'include' });
    out.push('delete:' + r.status);
  } catch (e) { out.push('delete:refused'); }
  try {
    await fetch(${JSON.stringify(`${target}/api/session`)}, { method: 'POST', mode: 'no-cors',
      credentials: 'include', headers: { 'Content-Type': 'text/plain' }, body: '{"token":"x"}' });
    out.push('login:sent');
  } catch (e) { out.push('login:refused'); }
  document.getElementById('out').textContent = out.join(' ');
})();
</script>`;
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(page);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const containerScript = `
trap 'echo "trust: got SIGTERM"; exit 0' TERM
echo "trust: hello from stdout"
n=0
while true; do n=$((n+1)); echo "trust: tick $n"; sleep 0.5 & wait $!; done
`;

async function main() {
  summaryTimeout(kWholeRunMs, reporter);
  const ready = await prepareBrowserRun();
  if (ready.early != null) return ready.early;
  const { chromium, exe } = ready;

  // --- tokens, collector, container ------------------------------------------------------------
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zc-trust-'));
  cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const tokens = {};
  for (const [name, scope] of [['ops', 'operate'], ['reader', 'read']]) {
    const r = await run(exe, ['token', 'add', name, '--scope', scope, '--data-dir', dataDir]);
    assert(r.code === 0, `token add ${name}: ${r.stderr.trim()}`);
    tokens[name] = r.stdout.trim().split('\n').pop().trim();
  }
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const logFile = path.join(artifacts, 'trust-collector.log');
  const out = fs.openSync(logFile, 'w');
  const collector = spawn(exe, ['--data-dir', dataDir, '--listen', `127.0.0.1:${port}`,
    '--plugin-dir', pluginDir, '--router', 'none', '--stop-grace', '2s', '--keep-crashed', 'true',
    '--metrics-interval', '2s'], { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  cleanups.push(() => killPid(collector));
  log(`collector pid ${collector.pid} on ${base} (log: ${logFile})`);
  const bearer = (name) => ({ Authorization: `Bearer ${tokens[name]}` });
  await waitFor('the collector to answer', async () => {
    if (collector.exitCode != null) throw new Error(`collector exited with ${collector.exitCode}`);
    return (await request(`${base}/api/deployments`, { headers: bearer('reader') })).status === 200;
  }, 20_000, 250);

  const id = `trust${crypto.randomBytes(4).toString('hex')}`;
  const containerName = `zynd-${id}`;
  cleanups.push(async () => log(`docker rm -f ${containerName}: exit ${(await run(docker, ['rm', '-f', containerName])).code}`));
  const r = await run(docker, ['run', '-d', '--name', containerName, '--label', 'zynd.test=1',
    '--label', `zynd.name=Trust ${id}`, image, 'sh', '-c', containerScript]);
  assert(r.code === 0, `docker run: ${r.stderr.trim()}`);
  const status = async () => JSON.parse((await request(`${base}/api/deployments/${id}`, { headers: bearer('reader') })).body).status;
  await waitFor(`deployment ${id} running`, async () => (await status()) === 'running', 20_000, 250);

  // --- the browser ---------------------------------------------------------------------------
  const context = await launchBrowser(chromium, {
    profilePrefix: 'zc-trust-chromium-',
    // A name that resolves to the collector inside this browser only: DNS rebinding, simulated.
    extraArgs: [`--host-resolver-rules=MAP ${kRebindName} 127.0.0.1`],
  });
  const consoleErrors = [];
  const page = context.pages()[0] ?? (await context.newPage());
  // The refusals this test provokes on purpose (a wrong token: 401, a read session's DELETE: 403)
  // are logged by Chromium as failed loads; anything else (a CSP violation above all) counts.
  const expected = /^Failed to load resource: the server responded with a status of 40[13]/;
  page.on('console', (m) => { if (m.type() === 'error' && !expected.test(m.text())) consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(`uncaught ${e.message}`));
  const sessionCookie = async () => (await context.cookies(base)).find((c) => c.name === 'zc_session');
  const login = async (name) => {
    await page.locator('#loginToken').fill(tokens[name]);
    await page.locator('#loginSubmit').click();
    await page.locator('#who').filter({ hasText: name }).waitFor();
  };

  await check('the list page asks for a token once; a wrong one is refused', async () => {
    const resp = await page.goto(`${base}/`);
    eq(resp.status(), 200, 'GET /');
    await page.locator('#login').waitFor();
    assert(!(await page.locator('#deployments').isVisible()), 'the table is hidden until login');
    await page.locator('#loginToken').fill('zct_not_a_token');
    await page.locator('#loginSubmit').click();
    await page.locator('#loginError', { hasText: 'not valid' }).waitFor();
    await page.screenshot({ path: path.join(artifacts, 'login.png') });
    eq(await sessionCookie(), undefined, 'no cookie after a wrong token');
  });

  await check('a read token logs in: HttpOnly SameSite=Strict cookie, the list shows the deployment', async () => {
    await login('reader');
    await page.locator(`tr[data-id="${id}"]`).waitFor();
    eq(await page.locator('#who').textContent(), 'reader (read)', 'who');
    await page.screenshot({ path: path.join(artifacts, 'list-logged-in.png') });
    const c = await sessionCookie();
    assert(c, 'a zc_session cookie');
    eq(c.httpOnly, true, 'HttpOnly');
    eq(c.sameSite, 'Strict', 'SameSite');
    eq(c.path, '/', 'Path');
    eq(c.secure, false, 'Secure (plain HTTP)');
    eq(await page.evaluate(() => document.cookie.includes('zc_session')), false, 'script sees the cookie');
    assert(!c.value.includes(tokens.reader), 'the cookie is not the token');
  });

  await check('pages carry CSP, nosniff and no-referrer and work under them', async () => {
    const resp = await page.goto(`${base}/`);
    const h = resp.headers();
    eq(h['content-security-policy'], "default-src 'self'; frame-ancestors 'none'", 'CSP');
    eq(h['x-content-type-options'], 'nosniff', 'nosniff');
    eq(h['referrer-policy'], 'no-referrer', 'Referrer-Policy');
    await page.locator(`tr[data-id="${id}"]`).waitFor();  // the session survived a reload
  });

  await check('read session: the detail page streams logs through the cookie, no Stop button, DELETE 403', async () => {
    await page.goto(`${base}/d/${id}`);
    await page.locator('.logline .tx', { hasText: 'trust: hello from stdout' }).first().waitFor();
    const tick = await page.locator('.logline .tx', { hasText: 'trust: tick' }).count();
    await waitFor('a new live line', async () =>
      (await page.locator('.logline .tx', { hasText: 'trust: tick' }).count()) > tick, 10_000);
    await page.locator('#streamState', { hasText: 'live' }).waitFor();
    assert(!(await page.locator('#stop').isVisible()), 'Stop is hidden for a read session');
    const st = await page.evaluate(async (u) => (await fetch(u, { method: 'DELETE' })).status, `/api/deployments/${id}`);
    eq(st, 403, 'DELETE with a read session');
    eq(await status(), 'running', 'status');
  });

  await check('logout ends the session: the cookie is gone, the form is back, the old cookie is refused', async () => {
    const old = await sessionCookie();
    await page.locator('#logout').click();
    await page.locator('#login').waitFor();
    eq(await sessionCookie(), undefined, 'cookie after logout');
    const r = await request(`${base}/api/deployments`, { headers: { Cookie: `zc_session=${old.value}` } });
    eq(r.status, 401, 'the old session id');
  });

  await check('operate session: the Stop button is shown', async () => {
    await page.goto(`${base}/d/${id}`);
    await login('ops');
    await page.locator('#stop').waitFor({ state: 'visible' });
    await page.locator('.logline .tx', { hasText: 'trust: hello from stdout' }).first().waitFor();
  });

  await check('logged in, the pages still fit a phone-width screen (375 px)', async () => {
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 375, height: 800 });
    for (const url of [`${base}/`, `${base}/d/${id}`]) {
      await phone.goto(url);
      await phone.locator('#who').waitFor();
      await phone.waitForTimeout(300);
      const w = await phone.evaluate(() => document.documentElement.scrollWidth);
      assert(w <= 376, `${url}: page is ${w} px wide`);
    }
    await phone.screenshot({ path: path.join(artifacts, 'detail-phone-logged-in.png') });
    await phone.close();
  });

  await check('a page on another origin cannot stop the deployment with the browser cookie', async () => {
    const auditFile = path.join(dataDir, 'audit.log');
    const auditBefore = fs.readFileSync(auditFile, 'utf8').length;
    const other = await startOtherOrigin(base, id);
    cleanups.push(() => new Promise((r) => { other.closeAllConnections?.(); other.close(() => r()); }));
    const otherUrl = `http://127.0.0.1:${other.address().port}/`;
    const tab = await context.newPage();
    await tab.goto(otherUrl);
    const shown = await waitFor('the other page to finish', async () => {
      const t = await tab.locator('#out').textContent();
      return t.includes('login:') ? t : null;
    }, 10_000);
    await tab.close();
    assert(shown.includes('delete:refused') || shown.includes('delete:403'), `other page saw: ${shown}`);
    await sleep(500);
    eq(await status(), 'running', 'status after the attempt');
    // Only what the other page caused: the lines written since it opened.
    const audit = fs.readFileSync(auditFile, 'utf8').slice(auditBefore).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const refused = audit.filter((a) => a.path === `/api/deployments/${id}` && a.status === 403);
    assert(refused.length >= 1, `no refusal of the other origin in the audit log: ${JSON.stringify(audit.slice(-4))}`);
    assert(!audit.some((a) => a.method === 'DELETE' && a.path === `/api/deployments/${id}` && a.status === 202),
      'a DELETE was accepted');
    assert(audit.some((a) => a.method === 'POST' && a.path === '/api/session' && a.status === 403),
      'the cross-origin login was not refused with 403');
    log(`other origin: ${shown}; audit: ${refused.map((a) => `${a.method} ${a.status}`).join(', ')}`);
  });

  await check('a DNS-rebinding-like name reaches the port but gets 421 and stops nothing', async () => {
    const tab = await context.newPage();
    const resp = await tab.goto(`http://${kRebindName}:${port}/`);
    eq(resp.status(), 421, `GET / as ${kRebindName}`);
    const st = await tab.evaluate(async (u) => (await fetch(u, { method: 'DELETE' })).status, `/api/deployments/${id}`);
    eq(st, 421, 'same-origin DELETE from the rebound name');
    await tab.close();
    eq(await status(), 'running', 'status');
  });

  await check('the operate session stops the deployment from its own page', async () => {
    page.once('dialog', (d) => d.accept());
    await page.locator('#stop').click();
    await page.locator('#status[data-status="stopped"]').waitFor({ timeout: 15_000 });
    eq(await status(), 'stopped', 'API status');
    const audit = fs.readFileSync(path.join(dataDir, 'audit.log'), 'utf8');
    assert(audit.includes(`"token":"ops","method":"DELETE","path":"/api/deployments/${id}","status":202`),
      'the audit line names the token');
  });

  await check('revoking the token ends its session: the open page asks for a token again', async () => {
    const r = await run(exe, ['token', 'revoke', 'ops', '--data-dir', dataDir]);
    eq(r.code, 0, `token revoke (${r.stderr.trim()})`);
    // The daemon sees the file change within about a second; the page's next poll (5 s) is
    // refused with 401 and the page reloads into the form.
    await page.locator('#login').waitFor({ timeout: 15_000 });
    eq(await sessionCookie(), undefined, 'cookie after the revoke');
  });

  await check('no console errors on the collector pages (CSP violations included)', async () => {
    assert(consoleErrors.length === 0, consoleErrors.slice(0, 5).join(' | '));
  });
  return null;
}

await runScript(main, reporter);
