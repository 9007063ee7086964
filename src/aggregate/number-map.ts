// A hash map from exact non-negative integers below 2^53 (addresses, stack
// ids) to int32 values, in typed arrays. V8's Map hashes such numbers as heap
// objects once they pass 2^31, which made it the ingest's bottleneck.
// Open addressing with linear probing and backward-shift deletion: no
// tombstones, so a table that churns stays fast.

import { fillsHole, slotOf, tableBits } from './hash.js';

const EMPTY = -1;

export class NumberMap {
  private keys: Float64Array;
  private values: Int32Array;
  private mask: number;
  /** 32 - log2(slots), for slotOf. */
  private shift: number;
  size = 0;

  constructor(capacity = 1024) {
    const bits = tableBits(capacity);
    this.keys = new Float64Array(1 << bits).fill(EMPTY);
    this.values = new Int32Array(1 << bits);
    this.mask = (1 << bits) - 1;
    this.shift = 32 - bits;
  }

  private home(key: number): number {
    return slotOf(key, this.shift);
  }

  /** The value, or -1 when the key is absent. */
  get(key: number): number {
    for (let i = this.home(key); ; i = (i + 1) & this.mask) {
      const k = this.keys[i];
      if (k === key) return this.values[i];
      if (k === EMPTY) return -1;
    }
  }

  set(key: number, value: number): void {
    for (let i = this.home(key); ; i = (i + 1) & this.mask) {
      const k = this.keys[i];
      if (k === key) {
        this.values[i] = value;
        return;
      }
      if (k === EMPTY) {
        this.keys[i] = key;
        this.values[i] = value;
        if (++this.size * 2 > this.keys.length) this.grow();
        return;
      }
    }
  }

  /** Removes the key; returns its value, or -1 when it was absent. */
  delete(key: number): number {
    let i = this.home(key);
    for (; ; i = (i + 1) & this.mask) {
      const k = this.keys[i];
      if (k === key) break;
      if (k === EMPTY) return -1;
    }
    const value = this.values[i];
    // Pull later entries of the same probe run back over the hole.
    for (let j = (i + 1) & this.mask; this.keys[j] !== EMPTY; j = (j + 1) & this.mask) {
      if (fillsHole(i, j, this.home(this.keys[j]))) {
        this.keys[i] = this.keys[j];
        this.values[i] = this.values[j];
        i = j;
      }
    }
    this.keys[i] = EMPTY;
    this.size--;
    return value;
  }

  private grow(): void {
    const { keys, values } = this;
    this.keys = new Float64Array(keys.length * 2).fill(EMPTY);
    this.values = new Int32Array(keys.length * 2);
    this.mask = this.keys.length - 1;
    this.shift--;
    this.size = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== EMPTY) this.set(keys[i], values[i]);
  }
}
