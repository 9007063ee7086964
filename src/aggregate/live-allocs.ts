// The allocations still outstanding, by address. Sizes, times and stacks sit
// in typed arrays indexed by a slot; the map only holds address -> slot.
import { NumberMap } from './number-map.js';

/** Blocks a realloc released, kept until it is clear realloc did not fail:
 * the answer comes microseconds later, so the most recent few suffice. */
const ASIDE_LIMIT = 4096;

export class LiveAllocations {
  private readonly slotOf = new NumberMap();
  private sizes = new Float64Array(1024);
  private times = new Float64Array(1024);
  private stacks = new Int32Array(1024);
  private readonly freeSlots: number[] = [];
  private used = 0;
  private readonly aside = new NumberMap();
  private readonly asideAddrs = new Float64Array(ASIDE_LIMIT);
  private readonly asideSlots = new Int32Array(ASIDE_LIMIT).fill(-1);
  private asideNext = 0;
  bytes = 0;

  get count(): number {
    return this.slotOf.size;
  }

  add(addr: number, size: number, stack: number, tsNs: number): void {
    let slot = this.slotOf.get(addr);
    if (slot < 0) {
      slot = this.freeSlots.pop() ?? this.newSlot();
      this.slotOf.set(addr, slot);
    } else {
      this.bytes -= this.sizes[slot];
    }
    this.sizes[slot] = size;
    this.times[slot] = tsNs;
    this.stacks[slot] = stack;
    this.bytes += size;
  }

  /** False when the address was not outstanding. */
  remove(addr: number): boolean {
    const slot = this.slotOf.delete(addr);
    if (slot < 0) return false;
    this.bytes -= this.sizes[slot];
    this.freeSlots.push(slot);
    return true;
  }

  /** Like remove, but the block can come back with restore() (realloc may fail). */
  setAside(addr: number): boolean {
    const slot = this.slotOf.delete(addr);
    if (slot < 0) return false;
    this.bytes -= this.sizes[slot];
    const previous = this.aside.get(addr);
    if (previous >= 0) this.freeSlots.push(previous);
    this.aside.set(addr, slot);
    // The oldest block set aside gives way, unless it came back already.
    const oldest = this.asideSlots[this.asideNext];
    if (oldest >= 0 && this.aside.get(this.asideAddrs[this.asideNext]) === oldest) {
      this.aside.delete(this.asideAddrs[this.asideNext]);
      this.freeSlots.push(oldest);
    }
    this.asideAddrs[this.asideNext] = addr;
    this.asideSlots[this.asideNext] = slot;
    this.asideNext = (this.asideNext + 1) % ASIDE_LIMIT;
    return true;
  }

  /** Brings back a block set aside; false when there is none. */
  restore(addr: number): boolean {
    const slot = this.aside.delete(addr);
    if (slot < 0) return false;
    this.slotOf.set(addr, slot);
    this.bytes += this.sizes[slot];
    return true;
  }

  forEach(visit: (size: number, stack: number, tsNs: number) => void): void {
    this.slotOf.forEachValue((slot) => visit(this.sizes[slot], this.stacks[slot], this.times[slot]));
  }

  private newSlot(): number {
    if (this.used === this.sizes.length) {
      const grow = <T extends Float64Array | Int32Array>(old: T, make: (n: number) => T): T => {
        const bigger = make(old.length * 2);
        bigger.set(old);
        return bigger;
      };
      this.sizes = grow(this.sizes, (n) => new Float64Array(n));
      this.times = grow(this.times, (n) => new Float64Array(n));
      this.stacks = grow(this.stacks, (n) => new Int32Array(n));
    }
    return this.used++;
  }
}
