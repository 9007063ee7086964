// The hash both tables place keys with: exact integers below 2^53.

const INV_TWO_32 = 1 / 2 ** 32;

/** log2 of the slots a table of `capacity` keys starts with: at most half full. */
export function tableBits(capacity: number): number {
  return Math.ceil(Math.log2(Math.max(16, capacity * 2)));
}

/** Fibonacci hashing: the top `32 - shift` bits of the product pick a slot,
 * and every input bit reaches them (16-byte alignment does not cluster).
 * The high word is mixed in apart; dividing by 2^32 is exact either way,
 * multiplying is cheaper. */
export function slotOf(key: number, shift: number): number {
  return Math.imul((key >>> 0) ^ Math.imul((key * INV_TWO_32) >>> 0, 0x85ebca6b), 0x9e3779b1) >>> shift;
}

/** Backward-shift deletion: whether the entry at slot `at`, whose home slot
 * is `home`, may move back into the hole at `hole` without leaving its probe
 * run (which may wrap past the table's end). */
export function fillsHole(hole: number, at: number, home: number): boolean {
  return hole <= at ? home <= hole || home > at : home <= hole && home > at;
}
