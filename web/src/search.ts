// The detail page's search over the whole stored log (GET /logs?q=..., README "HTTP API").
//
// Enter in the search box runs a new search (or, for the same query, goes to the next match).
// Matches come in pages of kPage from `since` onward; a page that scanned its bound without
// finding enough continues by itself (at most kAutoPages requests per Enter), so a rare term is
// found however far back it was written. The current match is shown with kContext lines around
// it (one small page read) and its text highlighted. Nothing from the log is ever parsed as
// HTML: highlights are built from text nodes and <mark> elements.

import { stripAnsi } from './ansi';
import { api, ApiError, idPath, type LogLine } from './api';
import { el } from './ui';

const kPage = 50;
const kContext = 2;
const kAutoPages = 20;

interface SearchPage {
  lines: LogLine[];
  nextSince: number;
  scanned: number;
  done: boolean;
}

export interface SearchElements {
  input: HTMLInputElement;
  regex: HTMLInputElement;
  state: HTMLElement;
  results: HTMLElement;
}

export class SearchPanel {
  private query = '';
  private regex = false;
  private matches: LogLine[] = [];
  private nodes: HTMLElement[] = [];
  private current = -1;
  private nextSince = 0;
  private scanned = 0;
  private done = false;
  private busy = false;
  private generation = 0; // a newer search drops the answers of an older one

  constructor(
    private readonly id: string,
    private readonly ui: SearchElements,
    private readonly onPick: (lineNo: number) => void = () => {},
  ) {
    ui.input.addEventListener('keydown', (ev) => {
      if (ev.key !== 'Enter') return;
      ev.preventDefault();
      void this.enter();
    });
    ui.regex.addEventListener('change', () => this.reset());
  }

  /** Focuses the search box (the page's `/` key). */
  focus(): void {
    this.ui.input.focus();
    this.ui.input.select();
  }

  private reset(): void {
    ++this.generation;
    this.query = '';
    this.matches = [];
    this.nodes = [];
    this.current = -1;
    this.nextSince = 0;
    this.scanned = 0;
    this.done = false;
    this.busy = false;
    this.ui.results.replaceChildren();
    this.ui.state.textContent = '';
  }

  private async enter(): Promise<void> {
    const q = this.ui.input.value;
    if (!q) return this.reset();
    if (q !== this.query || this.ui.regex.checked !== this.regex) {
      this.reset();
      this.query = q;
      this.regex = this.ui.regex.checked;
    }
    if (this.busy) return;
    if (this.current + 1 < this.matches.length) return this.select(this.current + 1);
    if (!this.done) {
      await this.more();
      if (this.current + 1 < this.matches.length) return this.select(this.current + 1);
    }
    if (this.matches.length > 0) {
      this.select(0);
      this.ui.state.textContent = this.summary() + ' · end of the log, back to the first match';
    }
  }

  // Loads pages until one brings matches, the log ends, or kAutoPages requests were made.
  private async more(): Promise<void> {
    const gen = this.generation;
    this.busy = true;
    try {
      for (let i = 0; i < kAutoPages && !this.done; i++) {
        let path = `${idPath(this.id)}/logs?q=${encodeURIComponent(this.query)}`;
        path += `&limit=${kPage}&since=${this.nextSince}`;
        if (this.regex) path += '&regex=1';
        this.ui.state.textContent = `searching… ${this.scanned.toLocaleString()} lines scanned`;
        const p = await api<SearchPage>(path);
        if (gen !== this.generation) return;
        this.nextSince = p.nextSince;
        this.scanned += p.scanned;
        this.done = p.done;
        for (const line of p.lines ?? []) this.add(line);
        if ((p.lines ?? []).length > 0) break;
      }
      this.ui.state.textContent = this.summary();
    } catch (e) {
      if (gen !== this.generation) return;
      const err = e as ApiError;
      this.ui.state.textContent =
        err.code === 'invalid_pattern' || err.code === 'invalid_parameter'
          ? 'Bad search: ' + err.message
          : 'Search failed: ' + err.message;
      this.ui.state.dataset.error = '1';
      return;
    } finally {
      if (gen === this.generation) this.busy = false;
    }
    delete this.ui.state.dataset.error;
  }

  private summary(): string {
    const n = this.matches.length;
    const where = this.done ? 'whole log' : `${this.scanned.toLocaleString()} lines so far`;
    if (n === 0) return this.done ? 'No match in the whole log.' : `No match yet (${where}).`;
    const at = this.current >= 0 ? `${this.current + 1} of ` : '';
    return `Match ${at}${n}${this.done ? '' : '+'} (${where}).`;
  }

  private add(line: LogLine): void {
    const row = el('div', 'match');
    row.dataset.lineNo = String(line.lineNo);
    row.append(el('span', 'no', String(line.lineNo)), this.highlighted(line.text ?? ''));
    row.addEventListener('click', () => {
      this.select(this.matches.indexOf(line));
      this.onPick(line.lineNo); // and show it in the log above
    });
    this.matches.push(line);
    this.nodes.push(row);
    this.ui.results.append(row);
  }

  private select(i: number): void {
    if (i < 0 || i >= this.nodes.length) return;
    this.nodes[this.current]?.classList.remove('current');
    this.nodes[this.current]?.querySelector('.context')?.remove();
    this.current = i;
    const node = this.nodes[i];
    node.classList.add('current');
    node.scrollIntoView({ block: 'nearest' });
    if (!this.ui.state.dataset.error) this.ui.state.textContent = this.summary();
    void this.showContext(i);
  }

  // The kContext lines before and after the current match, under it.
  private async showContext(i: number): Promise<void> {
    const line = this.matches[i];
    const since = Math.max(0, line.lineNo - kContext - 1);
    try {
      const p = await api<{ lines: LogLine[] }>(
        `${idPath(this.id)}/logs?since=${since}&limit=${2 * kContext + 1}`,
      );
      if (this.current !== i) return;
      const box = el('div', 'context');
      for (const l of p.lines ?? []) {
        const c = el('div', 'ctx' + (l.lineNo === line.lineNo ? ' hit' : ''));
        c.append(el('span', 'no', String(l.lineNo)), this.highlighted(l.text ?? ''));
        box.append(c);
      }
      this.nodes[i].append(box);
    } catch {
      /* the match itself is shown; the context is a convenience */
    }
  }

  // The text with each occurrence of the query in <mark>; plain text when the pattern has no
  // JavaScript equivalent.
  private highlighted(raw: string): HTMLElement {
    const text = stripAnsi(raw);
    const span = el('span', 'tx');
    let re: RegExp | null = null;
    try {
      const source = this.regex ? this.query : this.query.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      re = new RegExp(source, 'gi');
    } catch {
      re = null;
    }
    if (!re) {
      span.textContent = text;
      return span;
    }
    let last = 0;
    for (const m of text.matchAll(re)) {
      const at = m.index ?? 0;
      if (m[0].length === 0) continue;
      span.append(document.createTextNode(text.slice(last, at)), el('mark', undefined, m[0]));
      last = at + m[0].length;
    }
    span.append(document.createTextNode(text.slice(last)));
    return span;
  }
}
