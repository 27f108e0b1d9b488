/** Small display helpers for the console (no DOM state). */

export function pct(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined ? '–' : `${(100 * x).toFixed(digits)}%`;
}

export function num(x: number | null | undefined, digits = 3): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits);
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export function duration(ms: number): string {
  if (ms < 0) ms = 0;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

export function ago(at: number, now = Date.now()): string {
  const d = now - at;
  if (d < 5_000) return 'just now';
  return `${duration(d)} ago`;
}

export function time(at: number | null | undefined): string {
  if (!at) return '–';
  const d = new Date(at);
  return d.toLocaleString(undefined, {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

/** A table cell; text only (never HTML from the server). */
export function td(text: string | number, cls?: string): HTMLTableCellElement {
  const el = document.createElement('td');
  el.textContent = String(text);
  if (cls) el.className = cls;
  return el;
}

export function button(
  label: string,
  onClick: () => void,
  opts: { cls?: string; testId?: string; disabled?: boolean; title?: string } = {},
): HTMLButtonElement {
  const b = document.createElement('button');
  b.textContent = label;
  b.className = `small ${opts.cls ?? ''}`.trim();
  if (opts.testId) b.dataset.testid = opts.testId;
  if (opts.disabled) b.disabled = true;
  if (opts.title) b.title = opts.title;
  b.addEventListener('click', onClick);
  return b;
}

/** A full-width row with a note, for an empty table. */
export function emptyRow(cols: number, text: string): HTMLTableRowElement {
  const tr = document.createElement('tr');
  const cell = td(text, 'muted');
  cell.colSpan = cols;
  tr.append(cell);
  return tr;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
