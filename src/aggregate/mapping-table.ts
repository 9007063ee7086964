// The mappings made while tracing that are still mapped, per process: an
// interval map whose ranges never overlap, each with the stack and kind of
// the call that mapped it. Ranges mapped before the trace are never tracked.

import { firstEndingAfter } from '../sorted-ranges.js';

export interface MappedRange {
  start: number;
  /** One past the last byte. */
  end: number;
  /** Dense stack index (StackIndex) of the call that mapped it. */
  stack: number;
  ticks: number;
  /** enum lh_map_kind. */
  kind: number;
}

export class MappingTable {
  /** tgid -> its ranges, by start address. */
  private readonly processes = new Map<number, MappedRange[]>();

  /** A new mapping replaces whatever it overlaps (MAP_FIXED). */
  map(tgid: number, range: MappedRange): void {
    if (range.end <= range.start) return;
    const ranges = this.rangesOf(tgid);
    cut(ranges, range.start, range.end);
    insert(ranges, range);
  }

  unmap(tgid: number, start: number, length: number): void {
    const ranges = this.processes.get(tgid);
    if (ranges !== undefined) cut(ranges, start, start + length);
  }

  /**
   * mremap: the tracked pieces of the old range move, keeping their stack
   * and kind; what the range grew by is the first piece's. An old range
   * with nothing tracked in it moves nothing.
   */
  remap(tgid: number, oldStart: number, oldLength: number, newStart: number, newLength: number): void {
    const ranges = this.processes.get(tgid);
    if (ranges === undefined) return;
    const pieces = cut(ranges, oldStart, oldStart + oldLength);
    if (pieces.length === 0) return;
    const newEnd = newStart + newLength;
    cut(ranges, newStart, newEnd);
    const shift = newStart - oldStart;
    const moved = pieces.map((piece) => ({ ...piece, start: piece.start + shift, end: Math.min(piece.end + shift, newEnd) }));
    // One mapping grown is still one: the growth joins the piece it extends.
    const last = moved[moved.length - 1];
    if (newLength > oldLength && last.end === newStart + oldLength && last.stack === pieces[0].stack && last.kind === pieces[0].kind) last.end = newEnd;
    else if (newLength > oldLength) moved.push({ ...pieces[0], start: newStart + oldLength, end: newEnd });
    for (const piece of moved) if (piece.start < piece.end) insert(ranges, piece);
  }

  /** An exec replaced the whole address space. */
  exec(tgid: number): void {
    this.processes.delete(tgid);
  }

  /** Every range still mapped, with its process. */
  forEach(visit: (tgid: number, range: MappedRange) => void): void {
    for (const [tgid, ranges] of this.processes) {
      for (const range of ranges) visit(tgid, range);
    }
  }

  /** What is still mapped, over every process. */
  get totals(): { bytes: number; count: number } {
    let bytes = 0;
    let count = 0;
    this.forEach((_tgid, range) => {
      bytes += range.end - range.start;
      count++;
    });
    return { bytes, count };
  }

  private rangesOf(tgid: number): MappedRange[] {
    let ranges = this.processes.get(tgid);
    if (ranges === undefined) {
      ranges = [];
      this.processes.set(tgid, ranges);
    }
    return ranges;
  }
}

/** Takes [start, end) out of `ranges`, splitting the ranges at its edges;
 * returns what was taken, piece by piece, in address order. */
function cut(ranges: MappedRange[], start: number, end: number): MappedRange[] {
  if (end <= start) return [];
  const first = firstEndingAfter(ranges, start);
  let last = first;
  while (last < ranges.length && ranges[last].start < end) last++;
  if (last === first) return [];
  const hit = ranges.slice(first, last);
  const kept: MappedRange[] = [];
  if (hit[0].start < start) kept.push({ ...hit[0], end: start });
  if (hit[hit.length - 1].end > end) kept.push({ ...hit[hit.length - 1], start: end });
  ranges.splice(first, last - first, ...kept);
  return hit.map((range) => ({ ...range, start: Math.max(range.start, start), end: Math.min(range.end, end) }));
}

/** Adds a range that overlaps none. */
function insert(ranges: MappedRange[], range: MappedRange): void {
  ranges.splice(firstEndingAfter(ranges, range.start), 0, range);
}
