// Address ranges kept sorted by start and disjoint: /proc/PID/maps as the
// symbolizer holds it, a process's mappings as the resource ledger does.

/** The index of the first range ending after `addr` (ranges.length when none does). */
export function firstEndingAfter(ranges: readonly { end: number }[], addr: number): number {
  let low = 0;
  let high = ranges.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (ranges[mid].end <= addr) low = mid + 1;
    else high = mid;
  }
  return low;
}
