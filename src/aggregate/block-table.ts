// Outstanding blocks by address, with their size, birth time and stack held
// in the same row as the address: with a million blocks the table is far
// larger than the cache, and a free or an allocation then costs one row's
// cache line instead of a line in each of several parallel arrays.
// Open addressing with linear probing and backward-shift deletion, as in
// NumberMap: no tombstones, so heavy churn neither lengthens probes nor
// forces rehashes.
import { fillsHole, slotOf, tableBits } from './hash.js';

/** Doubles per row: key, size, birth time, stack index. 32 bytes, so
 * whatever the array's 16-byte alignment a row's key and size share a cache
 * line and the whole row spans at most two. */
const ROW = 4;
const SIZE = 1;
const TICKS = 2;
const STACK = 3;
/** Rows key addresses as address + 1, so that the zeroed array a growth
 * allocates is already an empty table: no fill pass over tens of MB. */
const EMPTY = 0;

export class BlockTable {
  private rows: Float64Array;
  /** Number of rows - 1. */
  private mask: number;
  /** 32 - log2(rows): the hash's top bits pick the home row. */
  private shift: number;
  count = 0;

  constructor(capacity = 1024) {
    const bits = tableBits(capacity);
    this.rows = new Float64Array((1 << bits) * ROW);
    this.mask = (1 << bits) - 1;
    this.shift = 32 - bits;
  }

  /** The row holding `addr` (below 2^48), or -1. Rows move on put and removeAt. */
  find(addr: number): number {
    const { rows, mask } = this;
    const key = addr + 1;
    for (let i = slotOf(key, this.shift); ; i = (i + 1) & mask) {
      const k = rows[i * ROW];
      if (k === key) return i;
      if (k === EMPTY) return -1;
    }
  }

  size(row: number): number {
    return this.rows[row * ROW + SIZE];
  }

  ticks(row: number): number {
    return this.rows[row * ROW + TICKS];
  }

  stack(row: number): number {
    return this.rows[row * ROW + STACK];
  }

  /** Adds or replaces `addr`; returns the size it replaced, or -1 when new. */
  put(addr: number, size: number, ticks: number, stack: number): number {
    const { rows, mask } = this;
    const key = addr + 1;
    for (let i = slotOf(key, this.shift); ; i = (i + 1) & mask) {
      const at = i * ROW;
      const k = rows[at];
      if (k === key || k === EMPTY) {
        const replaced = k === key ? rows[at + SIZE] : -1;
        rows[at] = key;
        rows[at + SIZE] = size;
        rows[at + TICKS] = ticks;
        rows[at + STACK] = stack;
        if (replaced < 0 && ++this.count * 2 > mask + 1) this.grow();
        return replaced;
      }
    }
  }

  /** Empties a row that find() returned. */
  removeAt(row: number): void {
    const { rows, mask } = this;
    let i = row;
    // Pull later rows of the same probe run back over the hole.
    for (let j = (i + 1) & mask; rows[j * ROW] !== EMPTY; j = (j + 1) & mask) {
      if (fillsHole(i, j, slotOf(rows[j * ROW], this.shift))) {
        rows[i * ROW] = rows[j * ROW];
        rows[i * ROW + SIZE] = rows[j * ROW + SIZE];
        rows[i * ROW + TICKS] = rows[j * ROW + TICKS];
        rows[i * ROW + STACK] = rows[j * ROW + STACK];
        i = j;
      }
    }
    rows[i * ROW] = EMPTY;
    this.count--;
  }

  forEach(visit: (size: number, stack: number, ticks: number) => void): void {
    const { rows } = this;
    for (let at = 0; at < rows.length; at += ROW) if (rows[at] !== EMPTY) visit(rows[at + SIZE], rows[at + STACK], rows[at + TICKS]);
  }

  private grow(): void {
    const old = this.rows;
    const oldMask = this.mask;
    const bits = 33 - this.shift;
    const rows = new Float64Array((1 << bits) * ROW);
    const mask = (1 << bits) - 1;
    this.rows = rows;
    this.mask = mask;
    this.shift = 32 - bits;
    // A new home is twice the old one or one more, so old rows taken in
    // order, from an empty one (no probe run cut in two), arrive with homes
    // nearly in order: most land past every row written so far, in a row
    // known to be empty without reading it. Reading the fresh zeroed memory
    // first would fault each page twice (the zero page, then a copy).
    let start = 0;
    while (old[start * ROW] !== EMPTY) start++;
    let highest = -1;
    for (let n = 1; n <= oldMask + 1; n++) {
      const from = ((start + n) & oldMask) * ROW;
      const key = old[from];
      if (key === EMPTY) continue;
      let i = slotOf(key, this.shift);
      if (i <= highest) while (rows[i * ROW] !== EMPTY) i = (i + 1) & mask;
      if (i > highest) highest = i;
      const to = i * ROW;
      rows[to] = key;
      rows[to + SIZE] = old[from + SIZE];
      rows[to + TICKS] = old[from + TICKS];
      rows[to + STACK] = old[from + STACK];
    }
  }
}
