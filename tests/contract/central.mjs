// The HTTP API contract in central mode: a fleet's central instance (`--runtime none --storage
// postgres`) reading a real PostgreSQL 15 that a host collector (real Docker engine, its own
// container of zynd-test-busybox:latest, --select-label of this run) fills through its sink.
// Every documented operation is called on the central instance and each answer validated against
// docs/openapi.yaml as in contract.mjs: the rows with their host, lines, search, download,
// samples, ports, the Prometheus targets (200 here, ScrapeTargets naming the host), the probes,
// /metrics, the session API with tokens off, the pages, SSE (status, log, end after a central
// stop carried out by the host) and the 4xx the central path has (400, 404, 405).
//
//   node tests/contract/central.mjs     (ctest: contract.central, labels contract;docker;postgres)
//
// Without Debian's PostgreSQL 15 binaries it skips ("0 passed, 0 failed, 1 skipped"), unless
// ZC_REQUIRE_POSTGRES=1. Prints "ok - <case>" / "not ok - <case>: <why>" and the summary; exits
// non-zero when anything failed. Stops everything it started (by pid) on every exit.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import {
  assert, binDir, cleanUpOnSignals, cleanups, dist, docker, eq, image, makeReporter, run, runScript,
  summaryTimeout, waitFor
} from '../web/harness.mjs';
import { covered, documentedOperations, expectComponent, expectContract, expectSchema } from './contract_check.mjs';
import { openSse, request } from './contract_http.mjs';
import { postgresInstalled, startCollector, startPostgres } from './contract_procs.mjs';

const kWholeRunMs = Number(process.env.ZC_CONTRACT_TIMEOUT_MS || 180_000);
const reporter = makeReporter('central');
const { log, check } = reporter;
cleanUpOnSignals(log);

const containerScript = `
trap 'echo "central: got SIGTERM"; exit 0' TERM
n=0
while true; do n=$((n+1)); echo "central: out $n"; echo "central: err $n" >&2; sleep 0.2 & wait $!; done
`;

async function main() {
  summaryTimeout(kWholeRunMs, reporter);
  if (!postgresInstalled()) {
    if (process.env.ZC_REQUIRE_POSTGRES === '1') throw new Error('PostgreSQL 15 is missing and ZC_REQUIRE_POSTGRES=1');
    console.log('SKIP: /usr/lib/postgresql/15/bin is missing (apt-get install -y postgresql-15)');
    console.log('0 passed, 0 failed, 1 skipped');
    return 0;
  }
  const exe = path.join(binDir, 'zynd-collector');
  assert(fs.existsSync(exe), `${exe} is missing (build the zynd-collector target)`);
  const runId = crypto.randomBytes(4).toString('hex');
  const label = `zynd.contract=${runId}`;
  const pg = await startPostgres(log);

  const h = await startCollector(exe, 'central-host', ['--select-label', label, '--stop-grace', '2s',
    '--metrics-interval', '2s', '--host-id', `host${runId}`, '--sink', 'postgres', '--postgres-url', pg.url], log);
  const host = h.launch(['--advertise-url', `http://127.0.0.1:${h.port}`]);
  await waitFor('the host collector to answer', async () => {
    if (host.exitCode != null) throw new Error(`the host collector exited with ${host.exitCode}`);
    return (await request(`http://127.0.0.1:${h.port}/readyz`)).status === 200;
  }, 30_000, 250);
  const c = await startCollector(exe, 'central', ['--runtime', 'none', '--storage', 'postgres',
    '--postgres-url', pg.url, '--host-id', 'central'], log);
  const central = c.launch();
  const base = `http://127.0.0.1:${c.port}`;
  const get = (p, headers = {}) => request(`${base}${p}`, { headers });
  await waitFor('the central instance to answer', async () => {
    if (central.exitCode != null) throw new Error(`the central instance exited with ${central.exitCode}`);
    return (await get('/readyz')).status === 200;
  }, 30_000, 250);

  const id = `central${runId}`;
  const containerName = `zynd-${id}`;
  cleanups.push(async () => log(`docker rm -f ${containerName}: exit ${(await run(docker, ['rm', '-f', containerName])).code}`));
  const r = await run(docker, ['run', '-d', '--name', containerName, '--label', label, '-p', '127.0.0.1::8080',
    image, 'sh', '-c', containerScript]);
  assert(r.code === 0, `docker run: ${r.stderr.trim()}`);
  await waitFor(`20 lines of ${id} on the central instance`, async () => {
    const d = await get(`/api/deployments/${id}/logs?limit=20`);
    return d.status === 200 && JSON.parse(d.body).lines.length === 20;
  }, 30_000, 250);

  await check('central: deployments with their host, one, 400, 404', async () => {
    const list = expectContract('/api/deployments', 'GET', await get(`/api/deployments?host=host${runId}`), 200);
    const row = list.deployments.find((d) => d.id === id);
    assert(row, `${id} listed under host${runId}`);
    eq(row.host, `host${runId}`, 'host');
    expectContract('/api/deployments', 'GET', await get('/api/deployments?host=%20'), 400);
    expectContract('/api/deployments/{id}', 'GET', await get(`/api/deployments/${id}`), 200);
    expectContract('/api/deployments/{id}', 'GET', await get('/api/deployments/bad.id'), 400);
    expectContract('/api/deployments/{id}', 'GET', await get(`/api/deployments/nosuch${runId}`), 404);
  });

  await check('central: logs page and searches, download, samples, ports', async () => {
    const t = '/api/deployments/{id}/logs';
    const p = `/api/deployments/${id}/logs`;
    expectSchema('LogPage', expectContract(t, 'GET', await get(`${p}?limit=5`), 200), 'page');
    expectSchema('SearchForwardPage', expectContract(t, 'GET', await get(`${p}?q=err&stream=stderr&limit=3`), 200), 'forward search');
    expectSchema('SearchBackwardPage', expectContract(t, 'GET', await get(`${p}?q=out&before=15&limit=3`), 200), 'backward search');
    expectContract(t, 'GET', await get(`${p}?limit=9999`), 400);
    expectContract(t, 'GET', await get(`/api/deployments/nosuch${runId}/logs`), 404);
    const nd = await get(`/api/deployments/${id}/logs/download?format=ndjson&until=5`);
    expectContract('/api/deployments/{id}/logs/download', 'GET', nd, 200);
    nd.body.trim().split('\n').forEach((l, i) => expectSchema('LogLine', JSON.parse(l), `ndjson line ${i}`));
    expectContract('/api/deployments/{id}/logs/download', 'GET', await get(`/api/deployments/${id}/logs/download?format=x`), 400);
    await waitFor('a sample forwarded to the central instance', async () => {
      const m = expectContract('/api/deployments/{id}/metrics', 'GET', await get(`/api/deployments/${id}/metrics`), 200);
      return m.samples.length > 0;
    }, 20_000, 500);
    expectContract('/api/deployments/{id}/metrics', 'GET', await get(`/api/deployments/${id}/metrics?to=x`), 400);
    const ports = expectContract('/api/ports', 'GET', await get('/api/ports'), 200);
    assert(ports.ports.some((x) => x.deploymentId === id), `${id} holds a port`);
  });

  await check('central: Prometheus targets name the live host; probes, /metrics, the document', async () => {
    const targets = await waitFor('the host in the targets', async () => {
      const t = expectContract('/api/prometheus/targets', 'GET', await get('/api/prometheus/targets'), 200);
      return t.some((x) => x.labels.host === `host${runId}`) && t;
    }, 20_000, 250);
    const mine = targets.find((x) => x.labels.host === `host${runId}`);
    eq(mine.targets[0], `127.0.0.1:${h.port}`, 'the host address');
    eq(mine.labels.__metrics_path__, '/metrics', '__metrics_path__');
    expectSchema('Health', expectContract('/healthz', 'GET', await get('/healthz'), 200), 'healthz');
    expectContract('/readyz', 'GET', await get('/readyz'), 200);
    expectContract('/metrics', 'GET', await get('/metrics'), 200);
    expectContract('/api/openapi.json', 'GET', await get('/api/openapi.json'), 200);
  });

  await check('central: session API with tokens off, pages, 405, 404', async () => {
    eq(expectContract('/api/session', 'GET', await get('/api/session'), 200).tokens, false, 'tokens');
    expectContract('/api/session', 'POST', await request(`${base}/api/session`, { method: 'POST', body: '{"token":"x"}' }), 404);
    expectContract('/api/session', 'DELETE', await request(`${base}/api/session`, { method: 'DELETE' }), 200);
    if (!fs.existsSync(path.join(dist, 'index.html'))) throw new Error(`${dist}/index.html is missing (build zc_web)`);
    const index = expectContract('/', 'GET', await get('/'), 200);
    expectContract('/d/{id}', 'GET', await get(`/d/${id}`), 200);
    const asset = /\/assets\/([A-Za-z0-9._-]+)/.exec(index);
    expectContract('/assets/{file}', 'GET', await get(`/assets/${asset[1]}`), 200);
    expectComponent('MethodNotAllowed', await request(`${base}/api/deployments`, { method: 'POST' }), 405);
    expectComponent('NotFound', await get('/api/nosuch'), 404);
  });

  await check('central: SSE from storage, a central stop carried out by the host, event: end', async () => {
    const t = '/api/deployments/{id}/logs/stream';
    const s = await openSse(`${base}/api/deployments/${id}/logs/stream?since=0`);
    expectContract(t, 'GET', { status: s.status, headers: s.headers, body: '' }, 200);
    expectSchema('StatusEvent', JSON.parse((await s.next((e) => e.event === 'status')).data), 'event: status');
    expectSchema('LogLine', JSON.parse((await s.next((e) => e.event === 'log')).data), 'event: log');
    const none = await openSse(`${base}/api/deployments/nosuch${runId}/logs/stream`);
    expectContract(t, 'GET', none, 404);
    expectContract('/api/deployments/{id}', 'DELETE', await request(`${base}/api/deployments/nosuch${runId}`, { method: 'DELETE' }), 404);
    const stop = expectContract('/api/deployments/{id}', 'DELETE', await request(`${base}/api/deployments/${id}`, { method: 'DELETE' }), 202);
    eq(stop.status, 'stopped', 'status');
    const end = await s.next((e) => e.event === 'end', 45_000);
    eq(end.data, '{}', 'event: end data');
    s.close();
  });

  await check('central: every documented operation was called and validated', async () => {
    const missing = documentedOperations().filter((op) => ![...covered].some((x) => x.startsWith(`${op} `)));
    if (missing.length) throw new Error(`not exercised: ${missing.join(', ')}`);
    log(`validated ${covered.size} (operation, status) pairs`);
  });
  return null;
}

runScript(main, reporter);
