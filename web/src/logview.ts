// The live log panel of the detail page.
//
// Lines arrive from the SSE stream (event: lines, a run of lines per event, id: <last lineNo>) and, when the reader scrolls, from
// GET /logs?since=. The DOM holds a bounded window of at most kMaxRows contiguous lines
// [lo, hi] so that a log of 100,000 lines never freezes the tab:
// - at the tail (hi == newest line seen) live lines are appended; while the reader follows the
//   tail the window slides (oldest rows removed) and the view stays at the bottom; a flood (a
//   whole window's worth of lines between two screen updates) replaces the window with its last
//   500 lines, and DOM updates space out when they are slow, so the tab stays responsive;
// - when the reader has scrolled up and the window is full, live lines are no longer appended
//   (they stay in storage): the window is "detached" and a "jump to latest" button appears;
//   scrolling to the bottom pages forward with /logs?since=hi until the tail is reached;
// - scrolling to the top loads the 500 lines before lo.
// EventSource reconnects by itself and sends Last-Event-ID; when the browser gives up (the
// server answered with an error), the view reopens the stream with ?since=<newest seen>.
// When that position is past the server's last line (its store was replaced, e.g. an ephemeral
// store after a restart), the server sends `event: reset` with {"lastLineNo": N}: the view drops
// its window, reloads the lines up to N from storage and follows the lines after N.
// goTo(lineNo) shows the stored lines around one line (a search hit, a crash, a time) and
// marks it; the reader is then off the tail until "jump to latest". Text is rendered with its
// ANSI colours (ansi.ts, text nodes only); times are local or, with setUtc(true), UTC.

import { appendAnsi } from './ansi';
import { api, idPath, type LogLine, type LogPage } from './api';
import { el } from './ui';

export const kMaxRows = 2000;
const kPage = 500;
const kNearPx = 40;
const kFlushMs = 100;

interface Row {
  line: LogLine;
  node: HTMLElement;
}

export interface LogViewElements {
  scroller: HTMLElement; // the scrolling box
  rows: HTMLElement; // the container of line rows
  older: HTMLButtonElement;
  jump: HTMLButtonElement;
  filter: HTMLInputElement;
  toggles: Record<string, HTMLInputElement>;
  state: HTMLElement;
}

export class LogView {
  private rows: Row[] = [];
  private newestSeen = 0; // highest lineNo seen anywhere (stream or page)
  private oldest: number | null = null; // oldestLineNo reported by /logs
  private following = true;
  private queue: LogLine[] = [];
  private flushScheduled = false;
  private loading = false;
  private es: EventSource | null = null;
  private ended = false;
  private retryMs = 2000;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private filterText = '';
  private programmaticScroll = false;
  private resets = 0; // counts reset events; a reload answered after a newer reset is dropped
  private utc = false;

  constructor(
    private readonly id: string,
    private readonly ui: LogViewElements,
    private readonly onStatus: (status: string) => void,
    private readonly onEnd: () => void,
  ) {
    ui.scroller.addEventListener('scroll', () => this.onScroll(), { passive: true });
    ui.older.addEventListener('click', () => void this.loadOlder());
    ui.jump.addEventListener('click', () => void this.jumpToLatest());
    ui.filter.addEventListener('input', () => {
      this.filterText = ui.filter.value.toLowerCase();
      this.applyFilterAll();
    });
    for (const t of Object.values(ui.toggles)) {
      t.addEventListener('change', () => this.applyFilterAll());
    }
  }

  /** Opens the stream (the server sends the last 500 lines first, then live lines). */
  start(): void {
    this.open(null);
  }

  close(): void {
    this.es?.close();
    this.es = null;
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  private get lo(): number {
    return this.rows.length ? this.rows[0].line.lineNo : this.newestSeen + 1;
  }
  private get hi(): number {
    return this.rows.length ? this.rows[this.rows.length - 1].line.lineNo : this.newestSeen;
  }
  // At the tail when the window (plus the lines waiting for the next frame) ends at the newest line.
  private get atTail(): boolean {
    const queued = this.queue.length ? this.queue[this.queue.length - 1].lineNo : 0;
    return Math.max(this.hi, queued) >= this.newestSeen;
  }

  private setState(text: string): void {
    this.ui.state.textContent = text;
  }

  private open(since: number | null): void {
    this.close();
    if (this.ended) return;
    let url = idPath(this.id) + '/logs/stream?batch=1';
    if (since != null) url += '&since=' + since;
    const es = new EventSource(url);
    this.es = es;
    this.setState('connecting…');
    es.onopen = () => {
      this.retryMs = 2000;
      this.setState('live');
    };
    // The stream is opened with ?batch=1: each event carries a run of consecutive lines (up to
    // 1,000), so that a flood costs a few events a second instead of one per line.
    es.addEventListener('lines', (ev) => {
      let lines: unknown;
      try {
        lines = JSON.parse((ev as MessageEvent<string>).data);
      } catch {
        return;
      }
      if (!Array.isArray(lines)) return;
      for (const line of lines as LogLine[]) {
        if (typeof line?.lineNo === 'number') this.receive(line);
      }
    });
    es.addEventListener('status', (ev) => {
      try {
        const s = JSON.parse((ev as MessageEvent<string>).data) as { status?: string };
        if (s?.status) this.onStatus(s.status);
      } catch {
        /* not JSON: ignore */
      }
    });
    es.addEventListener('reset', (ev) => {
      let last: unknown;
      try {
        last = (JSON.parse((ev as MessageEvent<string>).data) as { lastLineNo?: unknown })
          ?.lastLineNo;
      } catch {
        return;
      }
      if (typeof last === 'number' && last >= 0) void this.reloadTo(last);
    });
    es.addEventListener('end', () => {
      this.ended = true;
      this.close();
      this.setState('ended (deployment stopped)');
      this.onEnd();
    });
    es.onerror = () => {
      if (this.ended) return;
      if (es.readyState === EventSource.CLOSED) {
        // The browser gave up (an error status or a wrong content type): retry by hand.
        this.setState('disconnected, retrying…');
        this.retryTimer = setTimeout(() => this.open(this.newestSeen), this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, 30_000);
      } else {
        this.setState('reconnecting…');
      }
    };
  }

  private receive(line: LogLine): void {
    if (line.lineNo <= this.newestSeen) return; // a duplicate across a reconnect
    const wasAtTail = this.atTail;
    this.newestSeen = line.lineNo;
    if (!wasAtTail) {
      this.ui.jump.hidden = false;
      return; // detached: the line stays in storage and is paged in on scroll
    }
    this.queue.push(line);
    // Only the last kMaxRows queued lines can reach the window; trim in amortised O(1).
    if (this.queue.length >= 2 * kMaxRows) this.queue = this.queue.slice(-kMaxRows);
    this.scheduleFlush();
  }

  private lastFlush = 0;
  private flushCostMs = 0; // how long the last flush took

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // rAF batches a burst into one DOM update, at most every kFlushMs so that a flood costs a
    // few layouts per second; the timeout covers hidden tabs (no frames). When a flush is slow
    // (a slow machine under a flood) the next one waits longer, so that flushes never take
    // more than about a fifth of the main thread.
    let done = false;
    const run = () => {
      if (done) return;
      done = true;
      this.flushScheduled = false;
      const t0 = performance.now();
      this.lastFlush = t0;
      this.flush();
      this.flushCostMs = performance.now() - t0;
    };
    const gap = Math.max(kFlushMs, 4 * this.flushCostMs);
    const wait = Math.max(0, this.lastFlush + gap - performance.now());
    setTimeout(() => requestAnimationFrame(run), wait);
    setTimeout(run, wait + 250);
  }

  private flush(): void {
    if (this.queue.length === 0) return;
    // A flood (a whole window of new lines since the last flush) while following: the window
    // becomes the last kPage lines, the rest is a scroll away; rendering fewer rows keeps each
    // flush short on a slow machine.
    const flood = this.following && this.queue.length >= kMaxRows;
    const keep = flood ? kPage : kMaxRows;
    let batch = this.queue.length > keep ? this.queue.slice(-keep) : this.queue;
    this.queue = [];
    if (!this.following && this.rows.length + batch.length > kMaxRows) {
      // The reader is looking at older lines: fill up the window, then detach.
      const room = Math.max(0, kMaxRows - this.rows.length);
      batch = batch.slice(0, room);
      this.ui.jump.hidden = false;
    }
    const first = this.rows.length ? this.hi : -1;
    const fresh: Row[] = [];
    const frag = document.createDocumentFragment();
    for (const line of batch) {
      if (line.lineNo <= first) continue;
      const node = this.render(line);
      fresh.push({ line, node });
      frag.append(node);
    }
    if (flood && fresh.length > 0) {
      // The whole window is replaced: one DOM operation instead of a removal per row.
      this.rows = fresh;
      this.ui.rows.replaceChildren(frag);
    } else {
      this.rows.push(...fresh);
      this.ui.rows.append(frag);
    }
    if (this.following) {
      this.trimTop();
      this.scrollToBottom();
    }
    this.updateOlder();
  }

  private render(line: LogLine): HTMLElement {
    const stream = line.stream === 'stderr' || line.stream === 'system' ? line.stream : 'stdout';
    const row = el('div', 'logline ' + stream);
    row.dataset.lineNo = String(line.lineNo);
    row.dataset.stream = stream;
    const tx = el('span', 'tx');
    appendAnsi(tx, line.text ?? '');
    row.append(el('span', 'no', String(line.lineNo)), el('span', 'ts', shortTime(line.ts, this.utc)), tx);
    if (line.ts) row.title = line.ts;
    row.hidden = !this.matches(line, stream);
    return row;
  }

  private matches(line: LogLine, stream: string): boolean {
    const t = this.ui.toggles[stream];
    if (t && !t.checked) return false;
    return !this.filterText || (line.text ?? '').toLowerCase().includes(this.filterText);
  }

  private applyFilterAll(): void {
    for (const r of this.rows) r.node.hidden = !this.matches(r.line, r.node.dataset.stream ?? '');
    if (this.following) this.scrollToBottom();
  }

  private trimTop(): void {
    const extra = this.rows.length - kMaxRows;
    if (extra <= 0) return;
    for (const r of this.rows.splice(0, extra)) r.node.remove();
  }

  private trimBottom(): void {
    const extra = this.rows.length - kMaxRows;
    if (extra <= 0) return;
    for (const r of this.rows.splice(this.rows.length - extra, extra)) r.node.remove();
    this.ui.jump.hidden = false;
  }

  private scrollToBottom(): void {
    const s = this.ui.scroller;
    this.programmaticScroll = true;
    s.scrollTop = 1e9; // clamped to the end; no forced layout to read scrollHeight
  }

  private onScroll(): void {
    const s = this.ui.scroller;
    const nearBottom = s.scrollTop + s.clientHeight >= s.scrollHeight - kNearPx;
    if (this.programmaticScroll) {
      this.programmaticScroll = false;
      if (nearBottom) return;
    }
    this.following = nearBottom && this.atTail;
    if (this.following) this.ui.jump.hidden = true;
    if (s.scrollTop <= kNearPx) void this.loadOlder();
    else if (nearBottom && !this.atTail) void this.loadNewer();
  }

  private updateOlder(): void {
    const more = this.rows.length > 0 && this.lo > 1 && (this.oldest == null || this.lo > this.oldest);
    this.ui.older.hidden = !more;
  }

  /** Loads up to kPage lines before the window (lines with lineNo < lo). */
  async loadOlder(): Promise<void> {
    if (this.loading || this.rows.length === 0) return;
    const lo = this.lo;
    if (lo <= 1 || (this.oldest != null && lo <= this.oldest)) return;
    this.loading = true;
    try {
      const got = await this.fetchBefore(lo);
      if (got.length === 0) {
        this.oldest = lo; // nothing older is stored
        return;
      }
      const s = this.ui.scroller;
      const before = s.scrollHeight;
      const frag = document.createDocumentFragment();
      const fresh: Row[] = [];
      for (const line of got) {
        const node = this.render(line);
        fresh.push({ line, node });
        frag.append(node);
      }
      this.ui.rows.prepend(frag);
      this.rows = fresh.concat(this.rows);
      this.programmaticScroll = true;
      s.scrollTop += s.scrollHeight - before; // keep the lines the reader looks at in place
      this.trimBottom();
      if (!this.atTail) this.following = false;
    } catch (e) {
      this.setState('could not load older lines: ' + (e as Error).message);
    } finally {
      this.loading = false;
      this.updateOlder();
    }
  }

  // Paging only goes forward (lineNo > since), and retention can leave holes: step back from
  // lo until some lines are found, keeping the kPage lines nearest to lo.
  private async fetchBefore(lo: number): Promise<LogLine[]> {
    let step = kPage;
    for (let attempt = 0; attempt < 6; attempt++) {
      const start = Math.max(0, lo - 1 - step);
      let since = start;
      let kept: LogLine[] = [];
      for (let page = 0; page < 20; page++) {
        const p = await api<LogPage>(`${idPath(this.id)}/logs?since=${since}&limit=${kPage}`);
        if (p.oldestLineNo != null) this.oldest = p.oldestLineNo;
        const lines = (p.lines ?? []).filter((l) => l.lineNo < lo);
        kept = kept.concat(lines).slice(-kPage);
        const all = p.lines ?? [];
        if (all.length < kPage || all[all.length - 1].lineNo >= lo - 1) break;
        since = p.nextSince;
      }
      if (kept.length > 0 || start === 0) return kept;
      if (this.oldest != null && start < this.oldest) return kept;
      step *= 8;
    }
    return [];
  }

  /** Pages forward from hi when the window is detached from the tail. */
  async loadNewer(): Promise<void> {
    if (this.loading || this.atTail) return;
    this.loading = true;
    try {
      const p = await api<LogPage>(`${idPath(this.id)}/logs?since=${this.hi}&limit=${kPage}`);
      const s = this.ui.scroller;
      const frag = document.createDocumentFragment();
      for (const line of p.lines ?? []) {
        if (line.lineNo <= this.hi) continue;
        const node = this.render(line);
        this.rows.push({ line, node });
        frag.append(node);
        if (line.lineNo > this.newestSeen) this.newestSeen = line.lineNo;
      }
      this.ui.rows.append(frag);
      // Trim the top but keep the visible lines where they are.
      const extra = this.rows.length - kMaxRows;
      if (extra > 0) {
        const removed = this.rows.splice(0, extra);
        const h = removed.reduce((sum, r) => sum + r.node.offsetHeight, 0);
        for (const r of removed) r.node.remove();
        this.programmaticScroll = true;
        s.scrollTop -= h;
      }
      if (this.atTail) this.ui.jump.hidden = true;
    } catch (e) {
      this.setState('could not load newer lines: ' + (e as Error).message);
    } finally {
      this.loading = false;
      this.updateOlder();
    }
  }

  /** Drops the window and reloads the last lines from storage, then follows the tail. */
  async jumpToLatest(): Promise<void> {
    if (this.atTail) {
      this.following = true;
      this.ui.jump.hidden = true;
      this.scrollToBottom();
      return;
    }
    if (this.loading) return;
    this.loading = true;
    try {
      const since = Math.max(0, this.newestSeen - kPage);
      const p = await api<LogPage>(`${idPath(this.id)}/logs?since=${since}&limit=${kPage}`);
      for (const r of this.rows) r.node.remove();
      this.rows = [];
      const frag = document.createDocumentFragment();
      for (const line of p.lines ?? []) {
        const node = this.render(line);
        this.rows.push({ line, node });
        frag.append(node);
        if (line.lineNo > this.newestSeen) this.newestSeen = line.lineNo;
      }
      this.ui.rows.append(frag);
      this.following = true;
      this.ui.jump.hidden = true;
      this.scrollToBottom();
    } catch (e) {
      this.setState('could not load the latest lines: ' + (e as Error).message);
    } finally {
      this.loading = false;
      this.updateOlder();
    }
  }

  /**
   * The server's log was replaced and ends at `last`: drops the window and every line seen,
   * follows the lines after `last` (the stream goes on from there) and loads the kPage lines up
   * to `last` in front of them.
   */
  private async reloadTo(last: number): Promise<void> {
    const reset = ++this.resets;
    for (const r of this.rows) r.node.remove();
    this.rows = [];
    this.queue = [];
    this.newestSeen = last;
    this.oldest = null;
    this.following = true;
    this.ui.jump.hidden = true;
    this.updateOlder();
    if (last === 0) return;
    try {
      const since = Math.max(0, last - kPage);
      const p = await api<LogPage>(`${idPath(this.id)}/logs?since=${since}&limit=${kPage}`);
      if (reset !== this.resets) return; // a newer reset replaced the window meanwhile
      if (p.oldestLineNo != null) this.oldest = p.oldestLineNo;
      // Live lines after `last` may already be in the window: put the stored ones before them.
      const before = this.rows.length ? this.rows[0].line.lineNo : last + 1;
      const fresh: Row[] = [];
      const frag = document.createDocumentFragment();
      for (const line of p.lines ?? []) {
        if (line.lineNo > last || line.lineNo >= before) continue;
        const node = this.render(line);
        fresh.push({ line, node });
        frag.append(node);
      }
      this.ui.rows.prepend(frag);
      this.rows = fresh.concat(this.rows);
      if (this.following) {
        this.trimTop();
        this.scrollToBottom();
      }
    } catch (e) {
      this.setState('could not reload the log: ' + (e as Error).message);
    } finally {
      this.updateOlder();
    }
  }

  /** Times in UTC (true) or local time; the rows shown are updated at once. */
  setUtc(utc: boolean): void {
    this.utc = utc;
    for (const r of this.rows) {
      const ts = r.node.querySelector('.ts');
      if (ts) ts.textContent = shortTime(r.line.ts, utc);
    }
  }

  /**
   * Shows the stored lines around `lineNo` (from it on with `place` 'start') and marks the
   * first line at or after it; the reader leaves the tail. False when no such line is stored.
   */
  async goTo(lineNo: number, place: 'center' | 'start' = 'center'): Promise<boolean> {
    if (this.loading) return false;
    this.loading = true;
    try {
      const since = Math.max(0, lineNo - 1 - (place === 'center' ? kPage / 2 : 0));
      const p = await api<LogPage>(`${idPath(this.id)}/logs?since=${since}&limit=${kPage}`);
      if (p.oldestLineNo != null) this.oldest = p.oldestLineNo;
      this.following = false;
      this.queue = [];
      const fresh: Row[] = [];
      const frag = document.createDocumentFragment();
      for (const line of p.lines ?? []) {
        const node = this.render(line);
        fresh.push({ line, node });
        frag.append(node);
        if (line.lineNo > this.newestSeen) this.newestSeen = line.lineNo;
      }
      this.rows = fresh;
      this.ui.rows.replaceChildren(frag);
      this.ui.jump.hidden = this.atTail;
      const target = fresh.find((r) => r.line.lineNo >= lineNo);
      if (!target) return false;
      target.node.classList.add('target');
      this.programmaticScroll = true;
      target.node.scrollIntoView({ block: place === 'center' ? 'center' : 'start' });
      return true;
    } catch (e) {
      this.setState('could not load the lines: ' + (e as Error).message);
      return false;
    } finally {
      this.loading = false;
      this.updateOlder();
    }
  }

  /** For tests and the page: how many rows the DOM holds now. */
  get domRows(): number {
    return this.rows.length;
  }
}

function shortTime(ts: string | undefined, utc: boolean): string {
  if (!ts) return '';
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return '';
  return utc ? d.toISOString().slice(11, 19) : d.toTimeString().slice(0, 8);
}
