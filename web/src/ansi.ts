// ANSI escape sequences in log text: SGR colours (the 16 standard ones, foreground and
// background), bold and their resets are rendered as classed <span>s; every other escape
// sequence (cursor moves, 256/true colours, OSC titles and links, ...) is dropped. The text
// itself only ever goes into text nodes, so a line that looks like HTML stays text.

// CSI (ESC [ params intermediates final), OSC (ESC ] ... BEL or ESC \), and two-byte escapes.
// eslint-disable-next-line no-control-regex
const kEscape = /\x1b\[([0-9;:?]*)([ -/]*)([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?/g;

interface Style {
  fg: number | null; // 0..15
  bg: number | null;
  bold: boolean;
}

function applySgr(params: string, s: Style): void {
  const ps = params === '' ? [0] : params.split(/[;:]/).map((p) => (p === '' ? 0 : Number(p)));
  for (let i = 0; i < ps.length; i++) {
    const p = ps[i];
    if (p === 0) {
      s.fg = null;
      s.bg = null;
      s.bold = false;
    } else if (p === 1) s.bold = true;
    else if (p === 22) s.bold = false;
    else if (p >= 30 && p <= 37) s.fg = p - 30;
    else if (p >= 90 && p <= 97) s.fg = p - 90 + 8;
    else if (p === 39) s.fg = null;
    else if (p >= 40 && p <= 47) s.bg = p - 40;
    else if (p >= 100 && p <= 107) s.bg = p - 100 + 8;
    else if (p === 49) s.bg = null;
    else if (p === 38 || p === 48) {
      // 256 colours (5;n) or true colour (2;r;g;b): not rendered, their parameters skipped.
      i += ps[i + 1] === 5 ? 2 : ps[i + 1] === 2 ? 4 : 0;
    }
  }
}

/** The text without any escape sequence (what a search highlights and copies). */
export function stripAnsi(text: string): string {
  return text.includes('\x1b') ? text.replace(kEscape, '') : text;
}

/** Appends `text` to `into`, rendered: SGR styles as spans, other escapes dropped. */
export function appendAnsi(into: HTMLElement, text: string): void {
  if (!text.includes('\x1b')) {
    into.append(text);
    return;
  }
  const style: Style = { fg: null, bg: null, bold: false };
  let last = 0;
  const emit = (chunk: string) => {
    if (!chunk) return;
    if (style.fg == null && style.bg == null && !style.bold) {
      into.append(chunk);
      return;
    }
    const span = document.createElement('span');
    const cls: string[] = [];
    if (style.fg != null) cls.push('ansi-fg-' + style.fg);
    if (style.bg != null) cls.push('ansi-bg-' + style.bg);
    if (style.bold) cls.push('ansi-b');
    span.className = cls.join(' ');
    span.textContent = chunk;
    into.append(span);
  };
  for (const m of text.matchAll(kEscape)) {
    const at = m.index ?? 0;
    emit(text.slice(last, at));
    last = at + m[0].length;
    if (m[3] === 'm' && !m[2]) applySgr(m[1] ?? '', style);
  }
  emit(text.slice(last));
}
