// Outstanding blocks by address, with their size, birth time and stack held
// in the same row as the address: with a million blocks the table is far
// larger than the cache, and a free or an allocation then costs one row's
// cache line instead of a line in each of several parallel arrays.
// Open addressing with linear probing and backward-shift deletion, as in
// NumberMap: no tombstones, so heavy churn neither lengthens probes nor
// forces rehashes.
import { fillsHole, slotOf, tableBits } from './hash.js';

/** Doubles per row: key, size, then stack index and birth time as two u32
 * words. 24 bytes, not 32: at a million blocks the table is 48 MB instead of
 * 64, and on this kind of guest every fresh page a growth touches costs ~3 us. */
const ROW = 3;
const SIZE = 1;
/** The u32 words of the third double. Copied as words, never as a double:
 * their bits may spell a NaN, which a double copy need not preserve. */
const STACK_WORD = 4;
const TICKS_WORD = 5;
const WORDS = ROW * 2;
/** Rows key addresses as address + 1, so that the zeroed array a growth
 * allocates is already an empty table: no fill pass over tens of MB. */
const EMPTY = 0;
const TWO_32 = 2 ** 32;

export class BlockTable {
  private rows: Float64Array;
  /** The same memory as u32 words. */
  private words: Uint32Array;
  /** The latest birth time put: a row keeps only its time's low 32 bits,
   * read back as the time at most 2^32 ticks before this one (49 days of
   * jiffies at HZ=1000), as the kernel compares jiffies. */
  private latestTicks = 0;
  /** Number of rows - 1. */
  private mask: number;
  /** 32 - log2(rows): the hash's top bits pick the home row. */
  private shift: number;
  count = 0;

  constructor(capacity = 1024) {
    const bits = tableBits(capacity);
    this.rows = new Float64Array((1 << bits) * ROW);
    this.words = new Uint32Array(this.rows.buffer);
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
    return this.fullTicks(this.words[row * WORDS + TICKS_WORD]);
  }

  stack(row: number): number {
    return this.words[row * WORDS + STACK_WORD];
  }

  /** Adds or replaces `addr` (`stack` below 2^32); returns the size it
   * replaced, or -1 when new. */
  put(addr: number, size: number, ticks: number, stack: number): number {
    const { rows, mask } = this;
    const key = addr + 1;
    if (ticks > this.latestTicks) this.latestTicks = ticks;
    for (let i = slotOf(key, this.shift); ; i = (i + 1) & mask) {
      const at = i * ROW;
      const k = rows[at];
      if (k === key || k === EMPTY) {
        const replaced = k === key ? rows[at + SIZE] : -1;
        rows[at] = key;
        rows[at + SIZE] = size;
        this.words[i * WORDS + STACK_WORD] = stack;
        this.words[i * WORDS + TICKS_WORD] = ticks % TWO_32;
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
        this.moveRow(rows, this.words, j, i);
        i = j;
      }
    }
    rows[i * ROW] = EMPTY;
    this.count--;
  }

  forEach(visit: (size: number, stack: number, ticks: number, addr: number) => void): void {
    const { rows, words } = this;
    for (let i = 0; i * ROW < rows.length; i++) {
      if (rows[i * ROW] !== EMPTY) visit(rows[i * ROW + SIZE], words[i * WORDS + STACK_WORD], this.fullTicks(words[i * WORDS + TICKS_WORD]), rows[i * ROW] - 1);
    }
  }

  private fullTicks(low: number): number {
    return this.latestTicks - ((this.latestTicks % TWO_32) - low >>> 0);
  }

  /** Copies row `from` of (rows, words) over row `to` of this table. */
  private moveRow(rows: Float64Array, words: Uint32Array, from: number, to: number): void {
    this.rows[to * ROW] = rows[from * ROW];
    this.rows[to * ROW + SIZE] = rows[from * ROW + SIZE];
    this.words[to * WORDS + STACK_WORD] = words[from * WORDS + STACK_WORD];
    this.words[to * WORDS + TICKS_WORD] = words[from * WORDS + TICKS_WORD];
  }

  private grow(): void {
    const old = this.rows;
    const oldWords = this.words;
    const oldMask = this.mask;
    const bits = 33 - this.shift;
    const rows = new Float64Array((1 << bits) * ROW);
    const mask = (1 << bits) - 1;
    this.rows = rows;
    this.words = new Uint32Array(rows.buffer);
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
      const from = (start + n) & oldMask;
      const key = old[from * ROW];
      if (key === EMPTY) continue;
      let i = slotOf(key, this.shift);
      if (i <= highest) while (rows[i * ROW] !== EMPTY) i = (i + 1) & mask;
      if (i > highest) highest = i;
      this.moveRow(old, oldWords, from, i);
    }
  }
}
