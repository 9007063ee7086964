// Number, size and duration wording shared by the human-readable renderers.
// Written by hand rather than with Intl so output is identical on every Node
// build (small-icu builds format differently), which golden files rely on.

/** `24000` → `24,000`. Exact: no rounding. */
export function groupDigits(n: number): string {
  const [whole, fraction] = String(n).split('.');
  const grouped = whole!.replace(/\B(?=(\d{3})+$)/g, ',');
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** `24000` → `23.4 KiB`; below 1 KiB, `512 B`. An approximation to print beside the exact count. */
export function humanBytes(n: number): string {
  if (Math.abs(n) < 1024) return `${n} B`;
  let value = n;
  let unit = -1;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** `850` → `850 ms`, `12345` → `12.3 s`, `3723000` → `1 h 2 min 3 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const totalSeconds = Math.round(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const parts = hours > 0 ? [`${hours} h`, `${minutes} min`] : [`${minutes} min`];
  parts.push(`${seconds} s`);
  return parts.join(' ');
}

/** `1 allocation`, `1,000 allocations`. */
export function countOf(n: number, noun: string): string {
  return `${groupDigits(n)} ${noun}${n === 1 ? '' : 's'}`;
}
