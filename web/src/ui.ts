// Small DOM helpers shared by both pages. Data is always set with textContent or attributes.

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string | null,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text != null) e.textContent = text;
  return e;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error('missing element #' + id);
  return e as T;
}

export const kDash = '—';

const kKnownStatus = new Set(['running', 'unhealthy', 'crashed', 'stopped']);

/** Sets a status badge: the text is the status, data-status drives the colour. */
export function setBadge(badge: HTMLElement, status: string | null | undefined): void {
  const s = status ?? 'unknown';
  badge.textContent = s;
  badge.dataset.status = kKnownStatus.has(s) ? s : 'unknown';
  badge.title = 'Status: ' + s;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** "2026-11-01 12:03:04" in the reader's time zone, or null for absent/unparsable values. */
export function formatTime(iso: string | null | undefined): string | null {
  if (!iso) return null;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

/** A <time> element (datetime = the API's RFC 3339 value) or a dash. */
export function timeNode(iso: string | null | undefined): Node {
  const text = formatTime(iso);
  if (text == null) return el('span', 'none', kDash);
  const t = el('time', undefined, text);
  t.dateTime = iso as string;
  t.title = iso as string;
  return t;
}

/** Only http(s) URLs become links; anything else is shown as plain text. */
export function safeHref(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

/** Shows a connection state in the top bar ("" hides it). */
export function setConn(text: string, bad = false): void {
  const c = document.getElementById('conn');
  if (!c) return;
  c.textContent = text;
  c.classList.toggle('bad', bad);
}
