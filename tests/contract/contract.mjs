// The HTTP API contract, against the real thing: a collector built from this tree (tokens on,
// --select-label so it follows only this run's container) and a container of
// zynd-test-busybox:latest writing lines on stdout and stderr, on the real Docker engine.
// Every documented operation is called; each answer (2xx and every 4xx/503 the case provokes:
// bad parameters, no or a wrong token, a read token on a DELETE, another Origin, an unknown
// deployment, another method, oversized or malformed requests, too many streams, the slow-down)
// is validated against docs/openapi.yaml: status documented for that route, Content-Type,
// required headers, JSON body against its schema; SSE events' data against LogLine,
// StatusEvent, LinesEvent and ResetEvent. A second collector without tokens checks what
// differs with tokens off. The run fails when a documented operation was not called, when an
// answer is undocumented or off its schema, and when a documented path serves a method the
// document does not list (the 405's Allow). That no route is served without being documented
// is checked from the router's own table by the unit test OpenApiRoutes (tests/exporters).
//
// Central mode (--runtime none --storage postgres) is central.mjs; here /api/prometheus/targets
// is checked in its host form (404 not_central).
//
//   node tests/contract/contract.mjs     (ctest: contract.api; environment from CMake:
//                                          ZC_BUILD_DIR, ZC_BIN_DIR, ZC_PLUGIN_DIR, ZC_WEB_DIST)
//
// Prints "ok - <case>" / "not ok - <case>: <why>" and "N passed, N failed"; exits non-zero when
// anything failed. Removes its container and stops its collectors (by pid) on every exit.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import {
  assert, binDir, cleanUpOnSignals, cleanups, dist, docker, eq, image, makeReporter, run, runScript,
  sleep, summaryTimeout, waitFor
} from '../web/harness.mjs';
import {
  covered, doc, documentedMethods, documentedOperations, expectComponent, expectContract, expectSchema
} from './contract_check.mjs';
import { openSse, raw, request } from './contract_http.mjs';
import { startCollector } from './contract_procs.mjs';

const kWholeRunMs = Number(process.env.ZC_CONTRACT_TIMEOUT_MS || 180_000);
const reporter = makeReporter('contract');
const { log, check } = reporter;
cleanUpOnSignals(log);

const containerScript = `
trap 'echo "contract: got SIGTERM"; exit 0' TERM
n=0
while true; do n=$((n+1)); echo "contract: out $n"; echo "contract: err $n" >&2; sleep 0.2 & wait $!; done
`;

async function main() {
  summaryTimeout(kWholeRunMs, reporter);
  const exe = path.join(binDir, 'zynd-collector');
  assert(fs.existsSync(exe), `${exe} is missing (build the zynd-collector target)`);
  const runId = crypto.randomBytes(4).toString('hex');
  const label = `zynd.contract=${runId}`;

  // --- collector A: tokens on, follows this run's container --------------------------------
  const a = await startCollector(exe, 'tokens', ['--select-label', label, '--stop-grace', '2s',
    '--metrics-interval', '2s', '--max-streams-per-client', '2'], log);
  const tokens = {};
  for (const [name, scope] of [['ops', 'operate'], ['reader', 'read']]) {
    const r = await run(exe, ['token', 'add', name, '--scope', scope, '--data-dir', a.dataDir]);
    assert(r.code === 0, `token add ${name}: ${r.stderr.trim()}`);
    tokens[name] = r.stdout.trim().split('\n').pop().trim();
  }
  const collectorA = a.launch();
  const base = `http://127.0.0.1:${a.port}`;
  const bearer = (name) => ({ Authorization: `Bearer ${tokens[name]}` });
  const get = (p, name = 'reader', extra = {}) => request(`${base}${p}`, { headers: name ? { ...bearer(name), ...extra } : extra });
  await waitFor('collector A to answer', async () => {
    if (collectorA.exitCode != null) throw new Error(`collector A exited with ${collectorA.exitCode}`);
    return (await get('/readyz', null)).status === 200;
  }, 30_000, 250);

  // --- collector B: no tokens, follows nothing of ours --------------------------------------
  const b = await startCollector(exe, 'open', ['--select-label', `zynd.contract.none=${runId}`, '--storage', 'memory'], log);
  const collectorB = b.launch();
  const baseB = `http://127.0.0.1:${b.port}`;
  await waitFor('collector B to answer', async () => {
    if (collectorB.exitCode != null) throw new Error(`collector B exited with ${collectorB.exitCode}`);
    return (await request(`${baseB}/readyz`)).status === 200;
  }, 30_000, 250);

  // --- the container ------------------------------------------------------------------------
  const id = `contract${runId}`;
  const containerName = `zynd-${id}`;
  cleanups.push(async () => log(`docker rm -f ${containerName}: exit ${(await run(docker, ['rm', '-f', containerName])).code}`));
  const r = await run(docker, ['run', '-d', '--name', containerName, '--label', label, '--label', `zynd.name=Contract ${runId}`,
    '-p', '127.0.0.1::8080', image, 'sh', '-c', containerScript]);
  assert(r.code === 0, `docker run: ${r.stderr.trim()}`);
  await waitFor(`deployment ${id} running with 20 lines`, async () => {
    const d = await get(`/api/deployments/${id}/logs?limit=20`);
    return d.status === 200 && JSON.parse(d.body).lines.length === 20;
  }, 30_000, 250);

  // A silent request gets 408 after the server's read timeout (10 s): started now, checked last.
  const silent = raw(a.port, `GET /api/deployments HTTP/1.1\r\nHost: 127.0.0.1:${a.port}\r\n`, { timeoutMs: 25_000 });

  await check('GET /api/openapi.json serves docs/openapi.yaml as JSON (read scope; 401 without)', async () => {
    const res = await get('/api/openapi.json');
    const served = expectContract('/api/openapi.json', 'GET', res, 200);
    eq(JSON.stringify(served), JSON.stringify(doc), 'the served document equals docs/openapi.yaml');
    expectContract('/api/openapi.json', 'GET', await get('/api/openapi.json', null), 401);
    expectContract('/api/openapi.json', 'HEAD', await request(`${base}/api/openapi.json`, { method: 'HEAD', headers: bearer('reader') }), 200);
  });

  await check('deployments: list, filter by host, one, 400 bad host / bad id, 404 unknown', async () => {
    const list = expectContract('/api/deployments', 'GET', await get('/api/deployments'), 200);
    assert(list.deployments.some((d) => d.id === id), `${id} listed`);
    const one = list.deployments.find((d) => d.id === id);
    expectContract('/api/deployments', 'GET', await get(`/api/deployments?host=${encodeURIComponent(one.host)}`), 200);
    expectContract('/api/deployments', 'GET', await get('/api/deployments?host=not%20a%20host'), 400);
    expectContract('/api/deployments', 'HEAD', await request(`${base}/api/deployments`, { method: 'HEAD', headers: bearer('reader') }), 200);
    const d = expectContract('/api/deployments/{id}', 'GET', await get(`/api/deployments/${id}`), 200);
    eq(d.status, 'running', 'status');
    expectContract('/api/deployments/{id}', 'GET', await get('/api/deployments/bad.id'), 400);
    expectContract('/api/deployments/{id}', 'GET', await get('/api/deployments/%zz'), 400);
    expectContract('/api/deployments/{id}', 'GET', await get(`/api/deployments/nosuch${runId}`), 404);
  });

  await check('logs: page, search forward and backward, fromTs, and each 400', async () => {
    const p = `/api/deployments/${id}/logs`;
    const t = '/api/deployments/{id}/logs';
    const page = expectContract(t, 'GET', await get(`${p}?since=0&limit=5`), 200);
    eq(page.lines.length, 5, 'lines');
    expectSchema('LogPage', page, 'a plain page');
    const fwd = expectContract(t, 'GET', await get(`${p}?q=ERR&stream=stderr&limit=3`), 200);
    expectSchema('SearchForwardPage', fwd, 'a forward search');
    assert(fwd.lines.every((l) => l.stream === 'stderr'), 'stderr only');
    const back = expectContract(t, 'GET', await get(`${p}?q=out%20%5B0-9%5D%2B&regex=1&before=30&limit=3`), 200);
    expectSchema('SearchBackwardPage', back, 'a backward search');
    expectContract(t, 'GET', await get(`${p}?fromTs=${encodeURIComponent(page.lines[2].ts)}&limit=2`), 200);
    expectContract(t, 'GET', await get(`${p}?after=3&limit=1`), 200);
    for (const bad of ['limit=0', 'limit=5001', 'since=-1', 'since=1&since=2', 'since=1&after=2', 'regex=1',
      'q=(&regex=1', 'stream=stdin', 'before=0', 'fromTs=yesterday', 'since=1&before=5', 'q=']) {
      const res = await get(`${p}?${bad}`);
      expectContract(t, 'GET', res, 400);
      if (bad === 'q=(&regex=1') eq(JSON.parse(res.body).error, 'invalid_pattern', `${bad}: code`);
    }
    expectContract(t, 'GET', await get(`/api/deployments/nosuch${runId}/logs`), 404);
    expectContract(t, 'GET', await get('/api/deployments/bad.id/logs'), 400);
  });

  await check('download: text and ndjson (each line a LogLine), ranges, 400, 404', async () => {
    const p = `/api/deployments/${id}/logs/download`;
    const t = '/api/deployments/{id}/logs/download';
    const text = expectContract(t, 'GET', await get(`${p}?since=0&until=10`), 200);
    eq(text.split('\n').length, 11, 'ten lines and a final newline');
    const nd = await get(`${p}?format=ndjson&after=2&until=6`);
    expectContract(t, 'GET', nd, 200);
    const lines = nd.body.trim().split('\n').map((l) => JSON.parse(l));
    eq(lines.length, 4, 'ndjson lines 3..6');
    lines.forEach((l, i) => expectSchema('LogLine', l, `ndjson line ${i}`));
    expectContract(t, 'GET', await get(`${p}?format=csv`), 400);
    expectContract(t, 'GET', await get(`${p}?until=x`), 400);
    expectContract(t, 'GET', await get(`/api/deployments/nosuch${runId}/logs/download`), 404);
  });

  await check('metrics: samples once sampled, ranges, 400, 404', async () => {
    const p = `/api/deployments/${id}/metrics`;
    const t = '/api/deployments/{id}/metrics';
    const s = await waitFor('a metric sample', async () => {
      const m = expectContract(t, 'GET', await get(p), 200);
      return m.samples.length > 0 && m;
    }, 20_000, 500);
    assert(s.samples[0].memUsedMb >= 0, 'memUsedMb');
    expectContract(t, 'GET', await get(`${p}?from=0&to=${Date.now() + 60_000}`), 200);
    expectContract(t, 'GET', await get(`${p}?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z`), 200);
    expectContract(t, 'GET', await get(`${p}?from=2&to=1`), 400);
    expectContract(t, 'GET', await get(`${p}?from=soon`), 400);
    expectContract(t, 'GET', await get(`/api/deployments/nosuch${runId}/metrics`), 404);
  });

  await check('ports, prometheus targets (404 not_central on a host), /metrics', async () => {
    const ports = expectContract('/api/ports', 'GET', await get('/api/ports'), 200);
    assert(ports.ports.some((x) => x.deploymentId === id), `${id} holds a port`);
    const nt = expectContract('/api/prometheus/targets', 'GET', await get('/api/prometheus/targets'), 404);
    eq(nt.error, 'not_central', 'code');
    const m = await get('/metrics');
    expectContract('/metrics', 'GET', m, 200);
    assert(/version=0\.0\.4/.test(m.headers['content-type']), `Content-Type ${m.headers['content-type']}`);
    assert(m.body.includes('zynd_collector_info'), 'zynd_collector_info');
    expectContract('/metrics', 'GET', await get('/metrics', null), 401);
  });

  await check('probes: /healthz in full and status-only, /readyz, without and with a token', async () => {
    const full = expectContract('/healthz', 'GET', await get('/healthz'), 200);
    expectSchema('Health', full, 'healthz with a token');
    const only = expectContract('/healthz', 'GET', await get('/healthz', null), 200);
    expectSchema('HealthStatusOnly', only, 'healthz without a token');
    expectContract('/readyz', 'GET', await get('/readyz', null), 200);
    expectContract('/healthz', 'GET', await get('/healthz', null, { Authorization: 'Bearer zct_wrong' }), 401);
    expectContract('/readyz', 'GET', await get('/readyz', null, { Authorization: 'Bearer zct_wrong' }), 401);
    const fullB = expectContract('/healthz', 'GET', await request(`${baseB}/healthz`), 200);
    expectSchema('Health', fullB, 'healthz with tokens off');
  });

  await check('session: state, 400/401/403 logins, login with a cookie, logout; 404 with tokens off', async () => {
    const t = '/api/session';
    const s0 = expectContract(t, 'GET', await get(t, null), 200);
    eq(s0.loggedIn, false, 'anonymous');
    const post = (body, headers = {}) => request(`${base}${t}`, { method: 'POST', body, headers: { 'Content-Type': 'application/json', ...headers } });
    for (const bad of ['', 'not json', '[]', '{"token":1}', '{"token":""}', `{"token":"${'x'.repeat(300)}"}`]) {
      expectContract(t, 'POST', await post(bad), 400);
    }
    expectContract(t, 'POST', await post('{"token":"zct_wrong"}'), 401);
    expectContract(t, 'POST', await post(JSON.stringify({ token: tokens.reader }), { Origin: 'http://evil.invalid' }), 403);
    const ok = await post(JSON.stringify({ token: tokens.reader }));
    const state = expectContract(t, 'POST', ok, 200);
    eq(state.scope, 'read', 'scope');
    const cookie = String(ok.headers['set-cookie']).split(';')[0];
    const me = expectContract(t, 'GET', await request(`${base}${t}`, { headers: { Cookie: cookie } }), 200);
    eq(me.token, 'reader', 'the cookie names its token');
    expectContract('/api/deployments', 'GET', await request(`${base}/api/deployments`, { headers: { Cookie: cookie } }), 200);
    expectContract(t, 'DELETE', await request(`${base}${t}`, { method: 'DELETE', headers: { Cookie: cookie, Origin: 'http://evil.invalid' } }), 403);
    expectContract(t, 'DELETE', await request(`${base}${t}`, { method: 'DELETE', headers: { Cookie: cookie } }), 200);
    expectContract('/api/deployments', 'GET', await request(`${base}/api/deployments`, { headers: { Cookie: cookie } }), 401);
    expectContract(t, 'POST', await request(`${baseB}${t}`, { method: 'POST', body: '{"token":"x"}' }), 404);
    const sB = expectContract(t, 'GET', await request(`${baseB}${t}`), 200);
    eq(sB.tokens, false, 'tokens off');
    expectContract(t, 'DELETE', await request(`${baseB}${t}`, { method: 'DELETE' }), 200);
  });

  await check('pages: /, /d/{id}, /assets/{file} (no token needed), 404s', async () => {
    if (!fs.existsSync(path.join(dist, 'index.html'))) throw new Error(`${dist}/index.html is missing (build zc_web)`);
    const index = expectContract('/', 'GET', await get('/', null), 200);
    expectContract('/d/{id}', 'GET', await get(`/d/${id}`, null), 200);
    expectContract('/d/{id}', 'GET', await get('/d/bad.id', null), 404);
    const asset = /\/assets\/([A-Za-z0-9._-]+)/.exec(index);
    assert(asset, 'index.html names an asset');
    expectContract('/assets/{file}', 'GET', await get(`/assets/${asset[1]}`, null), 200);
    expectContract('/assets/{file}', 'GET', await get('/assets/.hidden', null), 404);
    expectContract('/assets/{file}', 'GET', await get('/assets/nosuch.js', null), 404);
  });

  await check('SSE: status, log, lines (batch=1), reset, Last-Event-ID, 400, 404, 503 per client', async () => {
    const p = `/api/deployments/${id}/logs/stream`;
    const t = '/api/deployments/{id}/logs/stream';
    const s = await openSse(`${base}${p}?since=0`, { headers: bearer('reader') });
    expectContract(t, 'GET', { status: s.status, headers: s.headers, body: '' }, 200);
    eq(s.headers['content-type'], 'text/event-stream', 'Content-Type');
    const retry = await s.next((e) => e.retry != null);
    assert(/^[0-9]+$/.test(retry.retry), 'retry: <ms>');
    const st = await s.next((e) => e.event === 'status');
    expectSchema('StatusEvent', JSON.parse(st.data), 'event: status');
    const first = await s.next((e) => e.event === 'log');
    expectSchema('LogLine', JSON.parse(first.data), 'event: log');
    eq(first.id, '1', 'the first id is lineNo 1');
    const batch = await openSse(`${base}${p}?after=0&batch=1`, { headers: bearer('reader') });
    const lines = await batch.next((e) => e.event === 'lines');
    const parsed = JSON.parse(lines.data);
    expectSchema('LinesEvent', parsed, 'event: lines');
    eq(lines.id, String(parsed[parsed.length - 1].lineNo), 'id: the last lineNo');
    // A third stream of the same token: 503 too_many_streams_for_client.
    const third = await openSse(`${base}${p}`, { headers: bearer('reader') });
    expectContract(t, 'GET', third, 503);
    eq(JSON.parse(third.body).error, 'too_many_streams_for_client', 'code');
    s.close();
    batch.close();
    await sleep(300);
    const reset = await openSse(`${base}${p}`, { headers: { ...bearer('ops'), 'Last-Event-ID': '99999999' } });
    const re = await reset.next((e) => e.event === 'reset');
    expectSchema('ResetEvent', JSON.parse(re.data), 'event: reset');
    reset.close();
    const bad = await openSse(`${base}${p}?since=x`, { headers: bearer('ops') });
    expectContract(t, 'GET', bad, 400);
    const badId = await openSse(`${base}${p}`, { headers: { ...bearer('ops'), 'Last-Event-ID': 'nope' } });
    expectContract(t, 'GET', badId, 400);
    const none = await openSse(`${base}/api/deployments/nosuch${runId}/logs/stream`, { headers: bearer('ops') });
    expectContract(t, 'GET', none, 404);
    const anon = await openSse(`${base}${p}`);
    expectContract(t, 'GET', anon, 401);
  });

  await check('server-wide answers: 405 + Allow per documented path, 404, 413, 411, 414, 431, 421, 400', async () => {
    for (const [p] of Object.entries(doc.paths)) {
      const concrete = p.replace('{id}', id).replace('{file}', 'x.js');
      const res = await request(`${base}${concrete}`, { method: 'PUT', headers: bearer('ops') });
      expectComponent('MethodNotAllowed', res, 405);
      eq(res.headers.allow.split(', ').sort().join(', '), documentedMethods(p).sort().join(', '),
        `PUT ${p}: Allow (a method served but not documented, or documented but not served)`);
    }
    expectComponent('NotFound', await get('/api/nosuch'), 404);
    const host = `Host: 127.0.0.1:${a.port}\r\n`;
    expectContract('/api/session', 'POST', await raw(a.port, `POST /api/session HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: 70000\r\n\r\n`), 413);
    expectContract('/api/session', 'POST', await raw(a.port, `POST /api/session HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`), 411);
    expectContract('/api/deployments', 'GET', await get(`/api/deployments?pad=${'x'.repeat(9000)}`), 414);
    const many = {};
    for (let i = 0; i < 70; i++) many[`X-Pad-${i}`] = 'x';
    expectContract('/api/deployments', 'GET', await get('/api/deployments', 'reader', many), 431);
    expectContract('/api/deployments', 'GET', await raw(a.port, `GET /api/deployments HTTP/1.1\r\nHost: rebound.invalid:${a.port}\r\n\r\n`), 421);
    expectContract('/api/deployments', 'GET', await raw(a.port, `GET /api/deployments HTTP/1.1 junk\r\n${host}\r\n`), 400);
  });

  await check('429 after 10 failed authentications from one address (sent from 127.0.0.2)', async () => {
    const from = '127.0.0.2';
    for (let i = 0; i < 11; i++) {
      const res = await request(`${base}/api/deployments`, { headers: { Authorization: 'Bearer zct_guess' }, from });
      if (res.status === 429) break;
      expectContract('/api/deployments', 'GET', res, 401);
    }
    const res = await request(`${base}/api/deployments`, { headers: bearer('reader'), from });
    expectContract('/api/deployments', 'GET', res, 429);
    expectContract('/healthz', 'GET', await request(`${base}/healthz`, { from }), 429);
  });

  await check('408 for a request that stops arriving', async () => {
    expectContract('/api/deployments', 'GET', await silent, 408);
  });

  await check('stop: 400, 404, 403 read scope / other Origin, 401, 202, then SSE event: end', async () => {
    const p = `/api/deployments/${id}`;
    const t = '/api/deployments/{id}';
    const del = (path, headers) => request(`${base}${path}`, { method: 'DELETE', headers });
    expectContract(t, 'DELETE', await del('/api/deployments/bad.id', bearer('ops')), 400);
    expectContract(t, 'DELETE', await del(`/api/deployments/nosuch${runId}`, bearer('ops')), 404);
    const scope = await del(p, bearer('reader'));
    expectContract(t, 'DELETE', scope, 403);
    eq(JSON.parse(scope.body).error, 'insufficient_scope', 'code');
    expectContract(t, 'DELETE', await del(p, { ...bearer('ops'), Origin: 'http://evil.invalid' }), 403);
    expectContract(t, 'DELETE', await del(p, {}), 401);
    const stream = await openSse(`${base}/api/deployments/${id}/logs/stream`, { headers: bearer('ops') });
    await stream.next((e) => e.event === 'status');
    const ok = expectContract(t, 'DELETE', await del(p, bearer('ops')), 202);
    eq(ok.status, 'stopped', 'status');
    const end = await stream.next((e) => e.event === 'end', 30_000);
    eq(end.data, '{}', 'event: end data');
    stream.close();
  });

  await check('every documented operation was called and validated', async () => {
    const missing = documentedOperations().filter((op) => ![...covered].some((c) => c.startsWith(`${op} `)));
    if (missing.length) throw new Error(`not exercised: ${missing.join(', ')}`);
    log(`validated ${covered.size} (operation, status) pairs: ${[...covered].sort().join('; ')}`);
  });
  return null;
}

runScript(main, reporter);
