// The outstanding blocks of one process, sorted by address, for the scan's
// lookups: which block a word points into, and which block a word lies in.

export interface OutstandingBlock {
  addr: number;
  size: number;
  /** The BPF stack id of the allocation (0: none). */
  stackId: number;
}

export class BlockSet {
  /** Ascending; blocks never overlap. */
  readonly starts: Float64Array;
  readonly ends: Float64Array;
  readonly stackIds: Float64Array;
  /** The lowest start and the highest end: most words fall outside. */
  readonly low: number;
  readonly high: number;

  constructor(blocks: readonly OutstandingBlock[]) {
    const sorted = [...blocks].sort((a, b) => a.addr - b.addr);
    this.starts = Float64Array.from(sorted, (block) => block.addr);
    this.ends = Float64Array.from(sorted, (block) => block.addr + block.size);
    this.stackIds = Float64Array.from(sorted, (block) => block.stackId);
    this.low = sorted.length > 0 ? this.starts[0] : 0;
    // A pointer to a zero-size block's start counts: the bound is past it.
    let high = 0;
    for (let i = 0; i < sorted.length; i++) high = Math.max(high, this.ends[i], this.starts[i] + 1);
    this.high = high;
  }

  get count(): number {
    return this.starts.length;
  }

  size(block: number): number {
    return this.ends[block] - this.starts[block];
  }

  /** The last block starting at or below `addr`, or -1. */
  atOrBelow(addr: number): number {
    const { starts } = this;
    let lo = 0;
    let hi = starts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid] <= addr) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }
}
