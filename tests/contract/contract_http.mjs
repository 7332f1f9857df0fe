// The HTTP clients of the contract test, each bounded in time: request() (Node's http, optionally
// from another loopback address), raw() (bytes written as given, for what http refuses to send:
// a malformed request line, Transfer-Encoding, a false Content-Length, a silent request) and
// openSse() (an event-stream reader that parses events as they arrive).
import http from 'node:http';
import net from 'node:net';

/** One request: { status, headers, body }. `from` is the local address to send from. */
export function request(url, { method = 'GET', headers = {}, body, timeoutMs = 10_000, from } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, timeout: timeoutMs, localAddress: from, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Writes `text` on a fresh connection and reads until the server closes it (or `timeoutMs`):
 * { status, headers, body } of the first response. The server closes after each error answer.
 */
export function raw(port, text, { timeoutMs = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`raw request: no answer in ${timeoutMs} ms`)); }, timeoutMs);
    s.on('connect', () => s.write(text));
    s.on('data', (c) => (data = Buffer.concat([data, c])));
    s.on('error', (e) => { if (e.code !== 'ECONNRESET' && e.code !== 'EPIPE') { clearTimeout(timer); reject(e); } });
    s.on('close', () => {
      clearTimeout(timer);
      const textIn = data.toString('utf8');
      const end = textIn.indexOf('\r\n\r\n');
      if (end < 0) return reject(new Error(`raw request: no response head in ${JSON.stringify(textIn.slice(0, 200))}`));
      const [statusLine, ...fields] = textIn.slice(0, end).split('\r\n');
      const headers = {};
      for (const f of fields) {
        const i = f.indexOf(':');
        headers[f.slice(0, i).trim().toLowerCase()] = f.slice(i + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: textIn.slice(end + 4) });
    });
  });
}

/**
 * Opens an SSE stream: { status, headers, events, body, next(pred, ms), close() }. Each event is
 * { event, id, data } (data joined with '\n'); `retry` fields and comments are kept as
 * { retry } and { comment }. next() waits (bounded) for the first event from the current read
 * position that satisfies pred, and returns it. A non-200 answer resolves with its body.
 */
export function openSse(url, { headers = {}, timeoutMs = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const events = [];
    const waiters = [];
    let buf = '';
    const req = http.request(url, { headers: { Accept: 'text/event-stream', ...headers }, agent: false }, (res) => {
      res.setEncoding('utf8');
      const stream = {
        status: res.statusCode, headers: res.headers, events, body: '', pos: 0, ended: false,
        close: () => req.destroy(),
        next(pred, ms = 10_000) {
          return new Promise((ok, fail) => {
            const w = { pred, ok, fail, timer: setTimeout(() => fail(new Error(`no matching SSE event in ${ms} ms (got ${events.length} events)`)), ms) };
            waiters.push(w);
            pump();
          });
        },
      };
      const pump = () => {
        for (const w of [...waiters]) {
          while (stream.pos < events.length) {
            const e = events[stream.pos++];
            if (w.pred(e)) {
              clearTimeout(w.timer);
              waiters.splice(waiters.indexOf(w), 1);
              w.ok(e);
              break;
            }
          }
          if (stream.ended && waiters.includes(w)) {
            clearTimeout(w.timer);
            waiters.splice(waiters.indexOf(w), 1);
            w.fail(new Error('the stream ended'));
          }
        }
      };
      res.on('data', (chunk) => {
        if (res.statusCode !== 200) { stream.body += chunk; return; }
        buf += chunk;
        let at;
        while ((at = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, at);
          buf = buf.slice(at + 2);
          const e = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) { e.comment = line.slice(1).trim(); continue; }
            const i = line.indexOf(':');
            const field = i < 0 ? line : line.slice(0, i);
            const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
            if (field === 'data') e.data = e.data == null ? value : `${e.data}\n${value}`;
            else e[field] = value;
          }
          events.push(e);
        }
        pump();
      });
      res.on('end', () => { stream.ended = true; pump(); });
      res.on('close', () => { stream.ended = true; pump(); });
      if (res.statusCode !== 200) res.on('end', () => resolve(stream));
      else resolve(stream);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('SSE: no answer')));
    req.on('error', (e) => { if (e.code !== 'ECONNRESET') reject(e); });
    req.end();
  });
}
