// The blocks a realloc released, kept until it is clear realloc did not
// fail: the answer comes microseconds later, so the most recent few suffice.
import { NumberMap } from './number-map.js';

const ASIDE_LIMIT = 4096;
/** A position holding nothing (restored, or set aside again since). */
const NONE = -1;

/** A ring, the oldest block overwritten first; `at` finds an address's position. */
export class AsideRing {
  private readonly at = new NumberMap();
  private readonly addrs = new Float64Array(ASIDE_LIMIT).fill(NONE);
  private readonly sizes = new Float64Array(ASIDE_LIMIT);
  private readonly times = new Float64Array(ASIDE_LIMIT);
  private readonly stacks = new Int32Array(ASIDE_LIMIT);
  private next = 0;

  put(addr: number, size: number, stack: number, ticks: number): void {
    const next = this.next;
    // An address set aside again replaces its earlier entry.
    const previous = this.at.get(addr);
    if (previous >= 0) this.addrs[previous] = NONE;
    // The oldest block set aside gives way, unless it came back already.
    if (this.addrs[next] !== NONE) this.at.delete(this.addrs[next]);
    this.addrs[next] = addr;
    this.sizes[next] = size;
    this.times[next] = ticks;
    this.stacks[next] = stack;
    this.at.set(addr, next);
    this.next = (next + 1) % ASIDE_LIMIT;
  }

  /** Takes `addr`'s block out of the ring: its position, read with size(),
   * stack() and ticks() before the next put(); -1 when it holds none. */
  take(addr: number): number {
    const at = this.at.delete(addr);
    if (at >= 0) this.addrs[at] = NONE;
    return at;
  }

  size(at: number): number {
    return this.sizes[at];
  }

  stack(at: number): number {
    return this.stacks[at];
  }

  ticks(at: number): number {
    return this.times[at];
  }
}
