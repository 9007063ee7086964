// The few statistics the benchmarks report: medians of repeated runs and
// ratios between medians taken in the same run.

/** Of the finite values (a failed run leaves NaN in its place). */
export function median(values: number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The median of a[i] / b[i]: runs made next to each other share the
 * machine's mood, which on a shared VM drifts by tens of percent within
 * minutes; the ratio of two medians mixes moods. */
export function pairedRatio(a: number[], b: number[]): number {
  return median(a.map((value, i) => ratio(value, b[i])));
}

/** a / b, or NaN when either is missing or b is not positive. */
export function ratio(a: number, b: number): number {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN;
}

/** The wall and CPU figures of the repeated runs of one case under one tool. */
export interface Cell {
  wall: number[];
  cpu: number[];
}

/** Cells by case and tool, each made empty on first use. */
export class Cells {
  readonly #cells = new Map<string, Cell>();

  get(caseName: string, tool: string): Cell {
    const key = `${caseName}/${tool}`;
    let cell = this.#cells.get(key);
    if (!cell) this.#cells.set(key, (cell = { wall: [], cpu: [] }));
    return cell;
  }
}
