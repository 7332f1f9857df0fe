// List page (served at /): the deployments, polled every few seconds. A filter (name, slug,
// status, host; remembered in the URL's #fragment), sorting by any column (click a header; again
// to reverse), counts per status, and a host column when the rows have several hosts or the page
// is served by a fleet's central instance (then also when the filter leaves one host).
import './style.css';
import { api, idPath, isCentral, type Deployment, type Sample } from './api';
import { ensureSession } from './session';
import { installThemeToggle } from './theme';
import { byId, el, kDash, setBadge, setConn, timeNode } from './ui';

const kPollMs = 3000;

installThemeToggle();

const rows = byId<HTMLTableSectionElement>('rows');
const empty = byId('empty');
const error = byId('error');

function row(d: Deployment): HTMLTableRowElement {
  const tr = el('tr');
  tr.dataset.id = d.id;

  const name = el('td');
  name.dataset.label = 'Name';
  const a = el('a', 'name', d.name || d.id);
  a.href = '/d/' + encodeURIComponent(d.id);
  name.append(a);

  const slug = el('td', 'slug', d.slug || kDash);
  slug.dataset.label = 'Slug';

  const status = el('td');
  status.dataset.label = 'Status';
  const badge = el('span', 'badge');
  setBadge(badge, d.status);
  status.append(badge);
  const spark = sparks.get(d.id);
  if (d.status === 'running' && spark && spark.length > 1) status.append(sparkline(spark));

  const host = el('td', 'host', d.host || kDash);
  host.dataset.label = 'Host';
  host.hidden = !showHost;

  const port = el('td', 'port', d.hostPort != null ? String(d.hostPort) : kDash);
  port.dataset.label = 'Host port';

  const started = el('td', 'started');
  started.dataset.label = 'Started';
  started.append(timeNode(d.startedAt));

  tr.append(name, slug, status, host, port, started);
  return tr;
}

type SortKey = 'name' | 'slug' | 'status' | 'host' | 'hostPort' | 'startedAt';
let sortKey: SortKey | null = null; // null: the API's order (newest first)
let sortDesc = false;
let showHost = false;
let centralMode = false; // set once from isCentral() before the first render
let all: Deployment[] = [];
const filterBox = byId<HTMLInputElement>('listFilter');
const counts = byId('counts');

function sortValue(d: Deployment, key: SortKey): string | number {
  if (key === 'name') return (d.name || d.id).toLowerCase();
  if (key === 'hostPort') return d.hostPort ?? -1;
  const v = d[key];
  return v == null ? '' : String(v).toLowerCase();
}

function render(): void {
  const q = filterBox.value.trim().toLowerCase();
  const shown = all.filter((d) =>
    !q || [d.name, d.id, d.slug, d.status, d.host].some((v) => (v ?? '').toLowerCase().includes(q)),
  );
  if (sortKey) {
    const key = sortKey;
    shown.sort((a, b) => {
      const x = sortValue(a, key);
      const y = sortValue(b, key);
      const c = x < y ? -1 : x > y ? 1 : 0;
      return sortDesc ? -c : c;
    });
  }
  // A single host's collector: every row has that host; a fleet's central instance: its rows'
  // hosts, shown even when they are one host or the filter leaves one.
  showHost = centralMode || new Set(all.map((d) => d.host ?? '')).size > 1;
  document.querySelector<HTMLElement>('th.host-col')!.hidden = !showHost;
  rows.replaceChildren(...shown.map(row));
  const by = new Map<string, number>();
  for (const d of all) by.set(d.status, (by.get(d.status) ?? 0) + 1);
  const parts = [...by.entries()].sort().map(([s, n]) => `${n} ${s}`);
  counts.textContent =
    `${all.length} deployment${all.length === 1 ? '' : 's'}` +
    (parts.length ? ': ' + parts.join(', ') : '') +
    (shown.length !== all.length ? ` · ${shown.length} shown` : '');
  empty.hidden = all.length > 0;
}

filterBox.value = decodeURIComponent(location.hash.slice(1));
filterBox.addEventListener('input', () => {
  history.replaceState(null, '', filterBox.value ? '#' + encodeURIComponent(filterBox.value) : location.pathname);
  render();
});
for (const btn of document.querySelectorAll<HTMLButtonElement>('button.sort')) {
  btn.addEventListener('click', () => {
    const key = btn.dataset.key as SortKey;
    sortDesc = sortKey === key ? !sortDesc : false;
    sortKey = key;
    for (const b of document.querySelectorAll<HTMLElement>('button.sort')) {
      b.closest('th')?.removeAttribute('aria-sort');
    }
    btn.closest('th')?.setAttribute('aria-sort', sortDesc ? 'descending' : 'ascending');
    render();
  });
}

// CPU % of the last hour per running deployment, refreshed every kSparkPollMs (not with every
// list poll: one metrics read per running deployment).
const kSparkPollMs = 30_000;
const sparks = new Map<string, number[]>();
let lastSparkPoll = 0;

async function refreshSparks(list: Deployment[]): Promise<void> {
  if (Date.now() - lastSparkPoll < kSparkPollMs && sparks.size > 0) return;
  lastSparkPoll = Date.now();
  const from = Date.now() - 3600_000;
  await Promise.all(
    list
      .filter((d) => d.status === 'running')
      .slice(0, 50)
      .map(async (d) => {
        try {
          const body = await api<{ samples: Sample[] }>(idPath(d.id) + '/metrics?from=' + from);
          const v = (body?.samples ?? []).map((s) => s.cpuPct).filter((x): x is number => typeof x === 'number');
          sparks.set(d.id, v);
        } catch {
          /* no sparkline for this one */
        }
      }),
  );
}

// A small SVG polyline of `values` (CPU %), scaled to its own maximum (at least 1 %).
function sparkline(values: number[]): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const w = 80;
  const h = 18;
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('width', String(w));
  svg.setAttribute('height', String(h));
  svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  svg.setAttribute('role', 'img');
  const max = Math.max(1, ...values);
  const last = values[values.length - 1];
  svg.setAttribute('aria-label', `CPU over the last hour, now ${last.toFixed(1)} %`);
  const line = document.createElementNS(ns, 'polyline');
  const step = w / (values.length - 1);
  line.setAttribute(
    'points',
    values.map((v, i) => `${(i * step).toFixed(1)},${(h - 1 - (v / max) * (h - 2)).toFixed(1)}`).join(' '),
  );
  svg.append(line);
  return svg;
}

let inFlight = false;
async function refresh(): Promise<void> {
  if (inFlight) return;
  inFlight = true;
  try {
    centralMode = await isCentral();
    const body = await api<{ deployments: Deployment[] }>('/api/deployments');
    all = Array.isArray(body?.deployments) ? body.deployments : [];
    await refreshSparks(all);
    render();
    error.hidden = true;
    setConn('updated ' + new Date().toLocaleTimeString());
  } catch (e) {
    error.textContent = 'Cannot load the deployments: ' + (e as Error).message;
    error.hidden = false;
    setConn('offline', true);
  } finally {
    inFlight = false;
  }
}

ensureSession().then(
  () => {
    void refresh();
    setInterval(() => void refresh(), kPollMs);
  },
  (e: Error) => {
    error.textContent = 'Cannot reach the collector: ' + e.message;
    error.hidden = false;
    setConn('offline', true);
  },
);
