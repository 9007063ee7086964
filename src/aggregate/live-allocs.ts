// The allocations still outstanding, by address. Sizes, times and stacks sit
// in typed arrays indexed by a slot; the map only holds address -> slot.
import { NumberMap } from './number-map.js';

export class LiveAllocations {
  private readonly slotOf = new NumberMap();
  private sizes = new Float64Array(1024);
  private times = new Float64Array(1024);
  private stacks = new Int32Array(1024);
  private readonly freeSlots: number[] = [];
  private used = 0;
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
