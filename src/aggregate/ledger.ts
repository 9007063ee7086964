// The running account of one trace: every decoded event lands here. It
// knows which allocations are outstanding and under which stack.
import type { EventSink } from '../ingest/decode.js';
import { EventFlag } from '../native/layout.js';
import { LiveAllocations } from './live-allocs.js';
import { NumberMap } from './number-map.js';

export interface StackTotal {
  /** The BPF stack id (0: no stack could be captured). */
  stackId: number;
  bytes: number;
  allocations: number;
  truncated: boolean;
  /** A walk of this stack stopped short of the outermost frame. */
  cut: boolean;
}

export class Ledger implements EventSink {
  /** Replaced whole when the process execs. */
  live = new LiveAllocations();
  /** BPF stack id -> dense index. */
  private readonly stackIndex = new NumberMap();
  private readonly stackIds: number[] = [];
  private readonly truncated: boolean[] = [];
  private readonly cut: boolean[] = [];
  allocations = 0;
  frees = 0;

  get stackCount(): number {
    return this.stackIds.length;
  }

  alloc(addr: number, size: number, stackId: number, ticks: number, flags: number): void {
    // A failed realloc gives its block back: that undoes a free, it is not
    // a new allocation.
    if (flags & EventFlag.restored) {
      if (this.live.restore(addr)) this.frees--;
      return;
    }
    let index = this.stackIndex.get(stackId);
    if (index < 0) {
      index = this.stackIds.length;
      this.stackIndex.set(stackId, index);
      this.stackIds.push(stackId);
      this.truncated.push(false);
      this.cut.push(false);
    }
    if (flags & EventFlag.stackTruncated) this.truncated[index] = true;
    if (flags & EventFlag.stackCut) this.cut[index] = true;
    this.live.add(addr, size, index, ticks);
    this.allocations++;
  }

  /** Frees of blocks allocated before tracing began find nothing: ignored,
   * never counted negative. */
  free(addr: number, flags: number): void {
    const freed = flags & EventFlag.realloc ? this.live.setAside(addr) : this.live.remove(addr);
    if (freed) this.frees++;
  }

  /** An exec took the process's memory with it: nothing it held is outstanding. */
  exec(): void {
    this.live = new LiveAllocations();
  }

  /** Outstanding allocations per stack, largest first; only those allocated
   * at or before `bornBeforeTick` count (for --older-than). */
  byStack(bornBeforeTick = Infinity): StackTotal[] {
    const bytes = new Float64Array(this.stackIds.length);
    const counts = new Float64Array(this.stackIds.length);
    this.live.forEach((size, stack, ticks) => {
      if (ticks > bornBeforeTick) return;
      bytes[stack] += size;
      counts[stack] += 1;
    });
    const totals: StackTotal[] = [];
    for (let i = 0; i < this.stackIds.length; i++) {
      if (counts[i] === 0) continue;
      totals.push({ stackId: this.stackIds[i], bytes: bytes[i], allocations: counts[i], truncated: this.truncated[i], cut: this.cut[i] });
    }
    return totals.sort((a, b) => b.bytes - a.bytes || b.allocations - a.allocations || a.stackId - b.stackId);
  }
}
