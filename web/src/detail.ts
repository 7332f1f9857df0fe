// Detail page (served at /d/<id>): header with live status and Stop, info grid, live logs,
// metric plots. The id is the last path segment of location.pathname.
import './style.css';
import { api, ApiError, idPath, isCentral, type Deployment, type Sample } from './api';
import { MetricCharts } from './charts';
import { LogView } from './logview';
import { SearchPanel } from './search';
import { canOperate, ensureSession } from './session';
import { installThemeToggle } from './theme';
import { byId, el, kDash, safeHref, setBadge, setConn, timeNode } from './ui';

installThemeToggle();

const kInfoPollMs = 5000;
const kMetricsPollMs = 10_000;

function remembered(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}
function remember(key: string, value: string): void {
  try {
    if (value) localStorage.setItem(key, value);
    else localStorage.removeItem(key);
  } catch {
    /* private mode: for this page only */
  }
}

function deploymentIdFromPath(): string | null {
  const m = /^\/d\/([^/]+)\/?$/.exec(location.pathname);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return null;
  }
}

const errorBox = byId('error');
function showError(text: string | null): void {
  errorBox.textContent = text ?? '';
  errorBox.hidden = text == null;
}

const badge = byId('status');
const stopBtn = byId<HTMLButtonElement>('stop');
const stopResult = byId('stopResult');
let currentStatus = '';

function setStatus(status: string): void {
  currentStatus = status;
  setBadge(badge, status);
  stopBtn.disabled = status === 'stopped';
}

function field(name: string): HTMLElement {
  const dd = document.querySelector<HTMLElement>(`dd[data-field="${name}"]`);
  if (!dd) throw new Error('missing info field ' + name);
  return dd;
}

function setText(name: string, value: string | number | null | undefined): void {
  const dd = field(name);
  if (value == null || value === '') {
    dd.replaceChildren(el('span', 'none', kDash));
    dd.dataset.value = '';
  } else {
    dd.replaceChildren(el('code', undefined, String(value)));
    dd.dataset.value = String(value);
  }
}

function setLink(name: string, url: string | null | undefined): void {
  const dd = field(name);
  dd.dataset.value = url ?? '';
  const href = safeHref(url);
  if (!url) dd.replaceChildren(el('span', 'none', kDash));
  else if (!href) dd.replaceChildren(el('span', undefined, url));
  else {
    const a = el('a', undefined, url);
    a.href = href;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    dd.replaceChildren(a);
  }
}

function setTime(name: string, iso: string | null | undefined): void {
  const dd = field(name);
  dd.dataset.value = iso ?? '';
  dd.replaceChildren(timeNode(iso));
}

async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    /* fall back below */
  }
  const ta = el('textarea');
  ta.value = text;
  ta.setAttribute('readonly', '');
  ta.style.position = 'fixed';
  ta.style.opacity = '0';
  document.body.append(ta);
  ta.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  ta.remove();
  return ok;
}

function shorten(s: string, head = 10, tail = 6): string {
  return s.length <= head + tail + 1 ? s : s.slice(0, head) + '…' + s.slice(-tail);
}

function setKey(key: string | null | undefined): void {
  const dd = field('publicKey');
  dd.dataset.value = key ?? '';
  if (!key) {
    dd.replaceChildren(el('span', 'none', kDash));
    return;
  }
  const code = el('code', 'short', shorten(key));
  code.title = key;
  const btn = el('button', 'small copy', 'Copy');
  btn.type = 'button';
  btn.setAttribute('aria-label', 'Copy the public key');
  btn.addEventListener('click', async () => {
    const ok = await copyText(key);
    btn.textContent = ok ? 'Copied' : 'Copy failed';
    setTimeout(() => (btn.textContent = 'Copy'), 1500);
  });
  dd.replaceChildren(code, btn);
}

function setContainer(id: string | null | undefined): void {
  const dd = field('containerId');
  dd.dataset.value = id ?? '';
  if (!id) {
    dd.replaceChildren(el('span', 'none', kDash));
    return;
  }
  const code = el('code', undefined, id.slice(0, 12));
  code.title = id;
  dd.replaceChildren(code);
}

function render(d: Deployment): void {
  const name = d.name || d.id;
  byId('name').textContent = name;
  document.title = name + ' · zynd-collector';
  byId('slug').textContent = d.slug ?? '';
  byId('entityType').textContent = d.entityType ?? '';
  setStatus(d.status);
  setLink('publicUrl', d.publicUrl);
  setLink('registryUrl', d.registryUrl);
  setText('entityId', d.entityId);
  setKey(d.publicKey);
  setText('host', d.host);
  // The owning host, on a fleet's central instance (a host collector's rows all carry its own).
  void isCentral().then((c) => (byId('hostRow').hidden = !(c && !!d.host)));
  setText('hostPort', d.hostPort);
  setContainer(d.containerId);
  setTime('createdAt', d.createdAt);
  setTime('startedAt', d.startedAt);
  setText('lastExitCode', d.lastExitCode);
  renderCrash(d);
}

// The banner of a crashed or unhealthy deployment: what the collector recorded, and a way to
// the system line that says it.
function renderCrash(d: Deployment): void {
  const banner = byId('crash');
  const bad = d.status === 'crashed' || d.status === 'unhealthy';
  banner.hidden = !bad;
  if (!bad) return;
  banner.dataset.status = d.status;
  byId('crashTitle').textContent =
    d.status === 'crashed' ? 'This deployment crashed.' : 'This deployment is unhealthy (its /health probe fails).';
  byId('crashExit').textContent = d.lastExitCode != null ? String(d.lastExitCode) : kDash;
  byId('crashAt').replaceChildren(timeNode(d.lastCrashAt));
  byId('crashMessage').textContent = d.errorMessage ?? '';
  byId('crashMessage').hidden = !d.errorMessage;
}

const id = deploymentIdFromPath();

async function refreshInfo(): Promise<void> {
  if (!id) return;
  try {
    render(await api<Deployment>(idPath(id)));
    showError(null);
    setConn('updated ' + new Date().toLocaleTimeString());
  } catch (e) {
    const err = e as ApiError;
    showError(
      err.status === 404 ? 'No deployment with the id ' + id + '.' : 'Cannot load the deployment: ' + err.message,
    );
    setConn('offline', true);
  }
}

const charts = new MetricCharts(byId('cpuChart'), byId('memChart'));
// The charts' range: 1 h, 6 h, 24 h or 3 d (the default and what the collector keeps by default).
let rangeHours = 72;
for (const btn of document.querySelectorAll<HTMLButtonElement>('.range button')) {
  btn.addEventListener('click', () => {
    rangeHours = Number(btn.dataset.range);
    for (const b of document.querySelectorAll('.range button')) b.removeAttribute('aria-pressed');
    btn.setAttribute('aria-pressed', 'true');
    byId('rangeLabel').textContent = `(last ${rangeHours < 72 ? rangeHours + ' h' : '3 days'})`;
    void refreshMetrics();
  });
}
async function refreshMetrics(): Promise<void> {
  if (!id) return;
  try {
    const from = Date.now() - rangeHours * 3600_000;
    const body = await api<{ samples: Sample[] }>(idPath(id) + '/metrics?from=' + from);
    const samples = Array.isArray(body?.samples) ? body.samples : [];
    byId('metricsEmpty').hidden = samples.length > 0;
    charts.update(samples);
  } catch {
    /* the info poll reports connectivity; keep the last plot */
  }
}

stopBtn.addEventListener('click', async () => {
  if (!id) return;
  if (!window.confirm('Stop this deployment? Its container is stopped and removed.')) return;
  stopBtn.disabled = true;
  stopResult.classList.remove('bad');
  stopResult.textContent = 'Stopping…';
  try {
    const r = await api<{ id: string; status: string }>(idPath(id), { method: 'DELETE' });
    setStatus(r?.status ?? 'stopped');
    stopResult.textContent = 'Stop requested: the deployment is ' + (r?.status ?? 'stopped') + '.';
  } catch (e) {
    stopResult.classList.add('bad');
    stopResult.textContent = 'Stop failed: ' + (e as Error).message;
    stopBtn.disabled = currentStatus === 'stopped';
  }
});

function start(): void {
  if (!id) {
    showError('This page needs a deployment id: /d/<id>.');
    stopBtn.disabled = true;
    return;
  }
  const logs = new LogView(
    id,
    {
      scroller: byId('log'),
      rows: byId('logRows'),
      older: byId<HTMLButtonElement>('older'),
      jump: byId<HTMLButtonElement>('jump'),
      filter: byId<HTMLInputElement>('filter'),
      toggles: {
        stdout: byId<HTMLInputElement>('show-stdout'),
        stderr: byId<HTMLInputElement>('show-stderr'),
        system: byId<HTMLInputElement>('show-system'),
      },
      state: byId('streamState'),
    },
    (status) => setStatus(status),
    () => void refreshInfo(),
  );
  const search = new SearchPanel(
    id,
    {
      input: byId<HTMLInputElement>('search'),
      regex: byId<HTMLInputElement>('searchRegex'),
      state: byId('searchState'),
      results: byId('searchResults'),
    },
    (lineNo) => void logs.goTo(lineNo),
  );
  // Keys anywhere but in a text field: `/` search, `g` the first stored lines, `G` the latest.
  document.addEventListener('keydown', (ev) => {
    const t = ev.target as HTMLElement | null;
    if (ev.ctrlKey || ev.metaKey || ev.altKey || t?.closest('input, textarea, select, [contenteditable]')) return;
    if (ev.key === '/') search.focus();
    else if (ev.key === 'g') void logs.goTo(1, 'start');
    else if (ev.key === 'G') void logs.jumpToLatest();
    else return;
    ev.preventDefault();
  });
  // The whole stored log as a file (streamed by the collector, however large).
  byId<HTMLAnchorElement>('downloadText').href = idPath(id) + '/logs/download?format=text';
  byId<HTMLAnchorElement>('downloadNdjson').href = idPath(id) + '/logs/download?format=ndjson';
  const wrap = byId<HTMLInputElement>('wrap');
  wrap.addEventListener('change', () => byId('log').classList.toggle('nowrap', !wrap.checked));
  const utc = byId<HTMLInputElement>('utc');
  utc.checked = remembered('zc-utc') === '1';
  logs.setUtc(utc.checked);
  utc.addEventListener('change', () => {
    remember('zc-utc', utc.checked ? '1' : '');
    logs.setUtc(utc.checked);
  });
  const jumpState = byId('jumpState');
  byId('jumpGo').addEventListener('click', async () => {
    const value = byId<HTMLInputElement>('jumpTime').value; // "YYYY-MM-DDTHH:MM[:SS]"
    if (!value) return;
    const at = new Date(utc.checked ? value + 'Z' : value);
    if (Number.isNaN(at.getTime())) {
      jumpState.textContent = 'Not a time.';
      return;
    }
    try {
      const p = await api<{ lines: { lineNo: number }[] }>(
        `${idPath(id)}/logs?limit=1&fromTs=${encodeURIComponent(at.toISOString())}`,
      );
      const first = p.lines?.[0];
      if (!first) {
        jumpState.textContent = 'No line at or after that time.';
        return;
      }
      jumpState.textContent = 'Line ' + first.lineNo + '.';
      await logs.goTo(first.lineNo);
    } catch (e) {
      jumpState.textContent = 'Cannot jump: ' + (e as Error).message;
    }
  });
  byId('crashJump').addEventListener('click', async () => {
    // The newest [CRASH] or [UNHEALTHY] system line.
    const q = currentStatus === 'unhealthy' ? '[UNHEALTHY]' : '[CRASH]';
    try {
      const p = await api<{ lines: { lineNo: number }[] }>(
        `${idPath(id)}/logs?q=${encodeURIComponent(q)}&stream=system&limit=1&before=${Number.MAX_SAFE_INTEGER}`,
      );
      const hit = p.lines?.[0];
      if (hit) await logs.goTo(hit.lineNo);
    } catch {
      /* the banner stays; the log is still there to scroll */
    }
  });
  void refreshInfo();
  void refreshMetrics();
  logs.start();
  setInterval(() => void refreshInfo(), kInfoPollMs);
  setInterval(() => void refreshMetrics(), kMetricsPollMs);
}

ensureSession().then(
  (session) => {
    // Stop only for those who may: everyone with tokens off, an operate token otherwise.
    stopBtn.hidden = !canOperate(session);
    start();
  },
  (e: Error) => {
    showError('Cannot reach the collector: ' + e.message);
    setConn('offline', true);
  },
);
