// The allocations still outstanding, by address, and the few blocks a
// realloc released that may yet come back.
import { BlockTable } from './block-table.js';
import { NumberMap } from './number-map.js';

/** Blocks a realloc released, kept until it is clear realloc did not fail:
 * the answer comes microseconds later, so the most recent few suffice. */
const ASIDE_LIMIT = 4096;
/** An aside position holding nothing (restored, or set aside again since). */
const NONE = -1;

export class LiveAllocations {
  private readonly blocks = new BlockTable();
  /** Set-aside blocks in a ring, the oldest overwritten first; `asideAt`
   * finds an address's position. */
  private readonly asideAt = new NumberMap();
  private readonly asideAddrs = new Float64Array(ASIDE_LIMIT).fill(NONE);
  private readonly asideSizes = new Float64Array(ASIDE_LIMIT);
  private readonly asideTimes = new Float64Array(ASIDE_LIMIT);
  private readonly asideStacks = new Int32Array(ASIDE_LIMIT);
  private asideNext = 0;
  bytes = 0;

  get count(): number {
    return this.blocks.count;
  }

  add(addr: number, size: number, stack: number, ticks: number): void {
    const replaced = this.blocks.put(addr, size, ticks, stack);
    this.bytes += replaced < 0 ? size : size - replaced;
  }

  /** False when the address was not outstanding. */
  remove(addr: number): boolean {
    const row = this.blocks.find(addr);
    if (row < 0) return false;
    this.bytes -= this.blocks.size(row);
    this.blocks.removeAt(row);
    return true;
  }

  /** Like remove, but the block can come back with restore() (realloc may fail). */
  setAside(addr: number): boolean {
    const row = this.blocks.find(addr);
    if (row < 0) return false;
    const next = this.asideNext;
    // An address set aside again replaces its earlier entry.
    const previous = this.asideAt.get(addr);
    if (previous >= 0) this.asideAddrs[previous] = NONE;
    // The oldest block set aside gives way, unless it came back already.
    if (this.asideAddrs[next] !== NONE) this.asideAt.delete(this.asideAddrs[next]);
    this.asideAddrs[next] = addr;
    this.asideSizes[next] = this.blocks.size(row);
    this.asideTimes[next] = this.blocks.ticks(row);
    this.asideStacks[next] = this.blocks.stack(row);
    this.asideAt.set(addr, next);
    this.asideNext = (next + 1) % ASIDE_LIMIT;
    this.bytes -= this.asideSizes[next];
    this.blocks.removeAt(row);
    return true;
  }

  /** Brings back a block set aside; false when there is none. */
  restore(addr: number): boolean {
    const at = this.asideAt.delete(addr);
    if (at < 0) return false;
    this.asideAddrs[at] = NONE;
    this.add(addr, this.asideSizes[at], this.asideStacks[at], this.asideTimes[at]);
    return true;
  }

  forEach(visit: (size: number, stack: number, ticks: number) => void): void {
    this.blocks.forEach(visit);
  }
}
