// A stand-in for the collector's HTTP side (the REST contract) used while the real REST/SSE server
// was unfinished, and still useful to work on the pages alone:
//   node tests/web/mock/server.mjs --dist build/web/dist --port 7071 [--lines 100000]
// It serves the built pages exactly as the collector does (/, /d/<id>, /assets/<file>) and fakes
// one deployment "mock1" with a large stored log, live lines over SSE, metrics and DELETE.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const kTypes = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export function startMock({ dist, port = 0, host = '127.0.0.1', lines = 100000, liveMs = 300 }) {
  const now = Date.now();
  const dep = {
    id: 'mock1',
    name: 'Mock Agent',
    slug: 'mock-agent',
    entityType: 'agent',
    status: 'running',
    publicUrl: 'https://mock-agent.example.test',
    registryUrl: 'https://registry.example.test/agents/mock-agent',
    entityId: 'ent-0001',
    publicKey: 'ed25519:AAAAC3NzaC1lZDI1NTE5AAAAIMockPublicKeyForTheE2ETestsOnly',
    hostPort: 18080,
    containerId: 'c0ffee'.repeat(10) + 'abcd',
    createdAt: new Date(now - 3600e3).toISOString(),
    startedAt: new Date(now - 3500e3).toISOString(),
    lastExitCode: null,
    lastCrashAt: null,
    errorMessage: null,
  };
  const log = [];
  const push = (stream, text) => {
    const l = { lineNo: log.length + 1, stream, ts: new Date().toISOString(), text };
    log.push(l);
    for (const c of clients) sendLine(c, l);
    return l;
  };
  for (let i = 1; i <= lines; i++) {
    log.push({ lineNo: i, stream: i % 97 === 0 ? 'stderr' : 'stdout', ts: new Date(now - (lines - i) * 10).toISOString(), text: `stored line ${i}` });
  }
  const samples = [];
  for (let i = 0; i < 120; i++) {
    samples.push({ sampledAt: new Date(now - (120 - i) * 30e3).toISOString(), cpuPct: 5 + 4 * Math.sin(i / 7), memUsedMb: 40 + i / 4, memLimitMb: 1536 });
  }
  const clients = new Set();
  let ended = false;

  // A stream opened with ?batch=1 gets runs of lines (event: lines), like the collector's.
  const sendLines = (res, ls) => {
    if (!ls.length) return;
    if (res.batched) res.write(`event: lines\nid: ${ls[ls.length - 1].lineNo}\ndata: ${JSON.stringify(ls)}\n\n`);
    else for (const l of ls) res.write(`event: log\nid: ${l.lineNo}\ndata: ${JSON.stringify(l)}\n\n`);
  };
  const sendLine = (res, l) => sendLines(res, [l]);
  const json = (res, code, body, extra = {}) => {
    const b = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...extra });
    res.end(b);
  };
  const file = (res, p) => {
    fs.readFile(p, (err, data) => {
      if (err) return json(res, 404, { error: 'not_found', message: 'no such file' });
      res.writeHead(200, { 'Content-Type': kTypes[path.extname(p)] ?? 'application/octet-stream' });
      res.end(data);
    });
  };

  let tick = 0;
  const timer = setInterval(() => {
    if (dep.status === 'stopped') return;
    tick++;
    push('stdout', `live line ${tick}`);
    if (tick % 10 === 3) push('stderr', `warning: live stderr ${tick}`);
    if (tick === 5) push('stdout', '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">');
    if (tick % 20 === 7) push('system', '[HEALTH] probe ok');
    if (tick % 10 === 0) samples.push({ sampledAt: new Date().toISOString(), cpuPct: Math.random() * 10, memUsedMb: 70, memLimitMb: 1536 });
  }, liveMs);

  const server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://mock');
    const p = u.pathname;
    if (req.method === 'GET' && p === '/') return file(res, path.join(dist, 'index.html'));
    if (req.method === 'GET' && /^\/d\/[^/]+$/.test(p)) return file(res, path.join(dist, 'detail.html'));
    if (req.method === 'GET' && p.startsWith('/assets/')) {
      const name = p.slice('/assets/'.length);
      if (!/^[A-Za-z0-9._-]+$/.test(name)) return json(res, 404, { error: 'not_found', message: 'no such file' });
      return file(res, path.join(dist, 'assets', name));
    }
    if (req.method === 'GET' && p === '/api/session') {
      return json(res, 200, { tokens: false, loggedIn: false, token: null, scope: null });
    }
    if (req.method === 'GET' && p === '/api/deployments') return json(res, 200, { deployments: [dep] });
    const m = /^\/api\/deployments\/([^/]+)(\/.*)?$/.exec(p);
    if (!m) return json(res, 404, { error: 'not_found', message: 'no such path' });
    if (m[1] !== dep.id) return json(res, 404, { error: 'not_found', message: 'no such deployment' });
    const rest = m[2] ?? '';
    if (rest === '' && req.method === 'GET') return json(res, 200, dep);
    if (rest === '' && req.method === 'DELETE') {
      if (dep.status !== 'stopped') {
        dep.status = 'stopped';
        push('system', '[STOP] stop requested');
        for (const c of clients) c.write(`event: status\ndata: {"status":"stopped"}\n\n`);
        setTimeout(() => {
          push('system', '[STOP] container removed');
          dep.containerId = null;
          dep.hostPort = null;
          ended = true;
          for (const c of clients) { c.write('event: end\ndata: {}\n\n'); c.end(); }
          clients.clear();
        }, 1500);
      }
      return json(res, 202, { id: dep.id, status: 'stopped' });
    }
    if (rest === '/logs' && req.method === 'GET') {
      const since = Number(u.searchParams.get('since') ?? u.searchParams.get('after') ?? 0);
      const limit = Math.min(Number(u.searchParams.get('limit') ?? 500), 5000);
      if (!Number.isInteger(since) || since < 0 || !Number.isInteger(limit) || limit < 1) {
        return json(res, 400, { error: 'bad_request', message: 'bad since or limit' });
      }
      const out = log.slice(since, since + limit);
      return json(res, 200, { lines: out, nextSince: out.length ? out[out.length - 1].lineNo : since, oldestLineNo: log.length ? 1 : null });
    }
    if (rest === '/metrics' && req.method === 'GET') return json(res, 200, { samples });
    if (rest === '/logs/stream' && req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' });
      res.write('retry: 2000\n\n');
      const last = req.headers['last-event-id'];
      let from = last != null ? Number(last) : u.searchParams.has('since') ? Number(u.searchParams.get('since')) : Math.max(0, log.length - 500);
      if (!Number.isInteger(from) || from < 0) from = Math.max(0, log.length - 500);
      res.batched = ['1', 'true'].includes(u.searchParams.get('batch'));
      const backlog = log.slice(from);
      for (let i = 0; i < backlog.length; i += 1000) sendLines(res, backlog.slice(i, i + 1000));
      if (ended) { res.write('event: end\ndata: {}\n\n'); return res.end(); }
      clients.add(res);
      req.on('close', () => clients.delete(res));
      return;
    }
    return json(res, 405, { error: 'method_not_allowed', message: 'method not allowed' });
  });
  const hb = setInterval(() => { for (const c of clients) c.write(': hb\n\n'); }, 15000);
  return new Promise((resolve) => {
    server.listen(port, host, () => {
      resolve({
        port: server.address().port,
        dep,
        // Like a busy container: k lines in chunks of 2,000, without blocking this process.
        flood: (k) => {
          let i = 1;
          const chunk = () => {
            for (const end = Math.min(k, i + 1999); i <= end; i++) push('stdout', `e2e: flood ${i}`);
            if (i <= k) setTimeout(chunk, 5);
          };
          chunk();
        },
        close: () => new Promise((r) => { clearInterval(timer); clearInterval(hb); for (const c of clients) c.destroy(); server.close(() => r()); }),
      });
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name, def) => { const i = process.argv.indexOf('--' + name); return i > 0 ? process.argv[i + 1] : def; };
  const m = await startMock({ dist: path.resolve(arg('dist', 'build/web/dist')), port: Number(arg('port', 7071)), lines: Number(arg('lines', 100000)) });
  console.log(`mock collector on http://127.0.0.1:${m.port}/ (deployment ${m.dep.id})`);
}
