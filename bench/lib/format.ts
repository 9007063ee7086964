// Number formatting for RESULTS.md: few digits, so tables stay readable, and
// a visible mark for what could not be measured.

export function fixed(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

/** `1.23x` */
export function times(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}x` : 'n/a';
}

/** Thousands grouped: `1,048,576`. */
export function grouped(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a';
}

/** Raw repetitions as measured, in run order. */
export function raw(values: number[], digits = 1): string {
  return values.map((v) => fixed(v, digits)).join(', ');
}

export function ms(valueMs: number): string {
  return Number.isFinite(valueMs) ? `${valueMs.toFixed(0)} ms` : 'n/a';
}
