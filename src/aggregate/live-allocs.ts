// The allocations still outstanding in one process, by address, and the few
// blocks a realloc released that may yet come back.
import { AsideRing } from './aside-ring.js';
import { BlockTable } from './block-table.js';

/** Rows a process starts with: most followed children allocate little. */
const FIRST_CAPACITY = 64;

export class LiveAllocations {
  private readonly blocks = new BlockTable(FIRST_CAPACITY);
  /** Made at the first realloc: ~100 kB that most processes never need. */
  private aside: AsideRing | null = null;
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
    this.aside ??= new AsideRing();
    this.aside.put(addr, this.blocks.size(row), this.blocks.stack(row), this.blocks.ticks(row));
    this.bytes -= this.blocks.size(row);
    this.blocks.removeAt(row);
    return true;
  }

  /** Brings back a block set aside; false when there is none. */
  restore(addr: number): boolean {
    const { aside } = this;
    if (aside === null) return false;
    const at = aside.take(addr);
    if (at < 0) return false;
    this.add(addr, aside.size(at), aside.stack(at), aside.ticks(at));
    return true;
  }

  forEach(visit: (size: number, stack: number, ticks: number, addr: number) => void): void {
    this.blocks.forEach(visit);
  }
}
