// List page (served at /): the deployments, polled every few seconds.
import './style.css';
import { api, type Deployment } from './api';
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

  const port = el('td', 'port', d.hostPort != null ? String(d.hostPort) : kDash);
  port.dataset.label = 'Host port';

  const started = el('td', 'started');
  started.dataset.label = 'Started';
  started.append(timeNode(d.startedAt));

  tr.append(name, slug, status, port, started);
  return tr;
}

let inFlight = false;
async function refresh(): Promise<void> {
  if (inFlight) return;
  inFlight = true;
  try {
    const body = await api<{ deployments: Deployment[] }>('/api/deployments');
    const list = Array.isArray(body?.deployments) ? body.deployments : [];
    rows.replaceChildren(...list.map(row));
    empty.hidden = list.length > 0;
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
