// The scan's word pass on synthetic memory: which words are references,
// from which block, to which block, by start or interior; checked by hand
// and against a linear search over random memory.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import fc from 'fast-check';

import { BlockSet } from '../../src/reachability/blocks.js';
import { ROOT, scanWords } from '../../src/reachability/scan.js';

const BASE = 0x7f12_3456_0000;

/** Little-endian u32 pairs holding `values`. */
function memory(values: number[]): Uint32Array {
  const words = new Uint32Array(values.length * 2);
  values.forEach((value, i) => {
    words[2 * i] = value % 2 ** 32;
    words[2 * i + 1] = Math.floor(value / 2 ** 32);
  });
  return words;
}

function references(words: Uint32Array, base: number, blocks: BlockSet): [number, number, boolean][] {
  const found: [number, number, boolean][] = [];
  scanWords(words, base, blocks, { reference: (from, to, interior) => found.push([from, to, interior]) });
  return found;
}

test('scan: start and interior pointers from roots; past the end, kernel-half and small values are none', () => {
  const blocks = new BlockSet([
    { addr: BASE + 0x2000, size: 48, stackId: 2 },
    { addr: BASE + 0x1000, size: 32, stackId: 1 },
    { addr: BASE + 0x3000, size: 0, stackId: 3 },
  ]);
  const words = memory([BASE + 0x1000, BASE + 0x2000 + 40, BASE + 0x1000 + 32, 0xffff_8000_0000_1000 - 2 ** 63, 42, BASE + 0x3000, BASE + 0x2000 + 48]);
  // The far words sit far below the blocks: every word is a root.
  assert.deepEqual(references(words, 0x5555_0000_0000, blocks), [
    [ROOT, 0, false],
    [ROOT, 1, true],
    [ROOT, 2, false],
  ]);
});

test('scan: a word inside a block is that block\'s reference, the words around it are roots', () => {
  const a = BASE + 0x100;
  const b = BASE + 0x200;
  const blocks = new BlockSet([
    { addr: a, size: 16, stackId: 1 },
    { addr: b, size: 32, stackId: 2 },
  ]);
  // Memory from BASE + 0xf8: one root word, then block a's two words (the second points into b), then a root.
  const words = memory([b, 0, b + 8, a]);
  assert.deepEqual(references(words, a - 8, blocks), [
    [ROOT, 1, false],
    [0, 1, true],
    [ROOT, 0, false],
  ]);
  // A chunk that begins inside a block still knows it is inside.
  assert.deepEqual(references(memory([b]), a + 8, blocks), [[0, 1, false]]);
});

test('scan: matches a linear search over random blocks and memory', () => {
  const layout = fc.uniqueArray(fc.integer({ min: 0, max: 63 }), { maxLength: 20 }).chain((slots) =>
    fc.tuple(
      fc.constant(slots),
      fc.array(fc.integer({ min: 0, max: 64 }), { minLength: slots.length, maxLength: slots.length }),
      fc.array(fc.integer({ min: -16, max: 64 * 64 + 16 }), { maxLength: 600 }),
    ),
  );
  fc.assert(
    fc.property(layout, ([slots, sizes, offsets]) => {
      const list = slots.map((slot, i) => ({ addr: BASE + slot * 64, size: sizes[i], stackId: i }));
      const blocks = new BlockSet(list);
      const sorted = [...list].sort((x, y) => x.addr - y.addr);
      const holding = (addr: number) => sorted.findIndex((block) => addr >= block.addr && addr < block.addr + block.size);
      const target = (value: number) => sorted.findIndex((block) => value === block.addr || (value > block.addr && value < block.addr + block.size));
      const expected: [number, number, boolean][] = [];
      offsets.forEach((offset, i) => {
        const to = target(BASE + offset);
        if (to >= 0) expected.push([holding(BASE + 8 * i), to, BASE + offset !== sorted[to].addr]);
      });
      assert.deepEqual(references(memory(offsets.map((offset) => BASE + offset)), BASE, blocks), expected);
    }),
  );
});
