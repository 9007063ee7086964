// Double and invalid frees through the Ledger, and the bounds of what the
// check remembers.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { FreeCheck } from '../../src/aggregate/free-check.js';
import { Ledger } from '../../src/aggregate/ledger.js';
import { EventFlag } from '../../src/native/layout.js';

const A = 0x5555_0000_1000;
const B = 0x5555_0000_2000;

/** [kind, addr, stackId, previousStackId] of each invalid free kept. */
function found(check: FreeCheck | null): [string, number, number, number | null][] {
  assert.ok(check);
  return check.invalid.map((free) => [free.kind, free.addr, free.stackId, free.previousStackId]);
}

test('a second free of a block is a double free, with the first free\'s stack', () => {
  const ledger = new Ledger({ checkFrees: true });
  ledger.alloc(1, A, 32, 7, 1, 0);
  ledger.free(1, A, 0, 11);
  ledger.free(1, A, 0, 12);
  ledger.free(1, A, 0, 13);
  assert.deepEqual(found(ledger.freeCheck), [
    ['double-free', A, 12, 11],
    ['double-free', A, 13, 11],
  ]);
  assert.equal(ledger.frees, 1, 'only the first free released a block');
});

test('an allocation at a freed address forgets the free; so does a failed realloc giving its block back', () => {
  const ledger = new Ledger({ checkFrees: true });
  ledger.alloc(1, A, 32, 7, 1, 0);
  ledger.free(1, A, 0, 11);
  ledger.alloc(1, A, 64, 7, 2, 0);
  ledger.free(1, A, 0, 12);
  ledger.alloc(1, B, 16, 7, 3, 0);
  ledger.free(1, B, EventFlag.realloc, 13);
  ledger.alloc(1, B, 0, 0, 4, EventFlag.restored);
  ledger.free(1, B, 0, 14);
  assert.deepEqual(found(ledger.freeCheck), []);
});

test('a realloc of a freed block is never invalid, but a free after a moving realloc is', () => {
  const ledger = new Ledger({ checkFrees: true });
  ledger.alloc(1, A, 32, 7, 1, 0);
  ledger.free(1, A, 0, 11);
  ledger.free(1, A, EventFlag.realloc, 12);
  ledger.alloc(1, B, 32, 7, 1, 0);
  ledger.free(1, B, EventFlag.realloc, 13);
  ledger.alloc(1, A + 0x100, 64, 7, 2, 0);
  ledger.free(1, B, 0, 14);
  assert.deepEqual(found(ledger.freeCheck), [['double-free', B, 14, 13]]);
});

test('frees are per process; an exec forgets the process\'s', () => {
  const ledger = new Ledger({ checkFrees: true });
  ledger.free(1, A, 0, 11);
  ledger.free(2, A, 0, 12);
  ledger.free(3, A, 0, 13);
  ledger.exec(3);
  ledger.free(3, A, 0, 14);
  ledger.free(1, A, 0, 15);
  assert.deepEqual(found(ledger.freeCheck), [['double-free', A, 15, 11]]);
});

test('unknown pointers only when asked, and never in a forked child before it execs', () => {
  const plain = new Ledger({ checkFrees: true });
  plain.free(1, A, 0, 11);
  assert.deepEqual(found(plain.freeCheck), []);

  const ledger = new Ledger({ unknownPointers: true });
  ledger.free(1, A, 0, 11);
  ledger.free(1, B, EventFlag.realloc, 12);
  ledger.fork(1, 2);
  ledger.free(2, B, 0, 13);
  ledger.exec(2);
  ledger.free(2, A, 0, 14);
  assert.deepEqual(found(ledger.freeCheck), [
    ['unknown-pointer', A, 11, null],
    ['unknown-pointer', A, 14, null],
  ]);
});

test('no check unless asked, and none in a ledger shared by all processes', () => {
  assert.equal(new Ledger().freeCheck, null);
  assert.equal(new Ledger({ perProcess: false, checkFrees: true }).freeCheck, null);
});

test('only the most recent frees are remembered', () => {
  const check = new FreeCheck({ unknownPointers: false, recentLimit: 4 });
  for (let i = 0; i < 6; i++) check.freed(1, A + 16 * i, 100 + i, false);
  // The first two were pushed out of the ring by the last two.
  for (let i = 5; i >= 0; i--) check.freed(1, A + 16 * i, 200 + i, false);
  assert.deepEqual(
    found(check).map(([, addr]) => (addr - A) / 16),
    [5, 4, 3, 2],
  );
});

test('a free pushed out of the ring after its process exec\'d leaves the new program\'s alone', () => {
  const check = new FreeCheck({ unknownPointers: false, recentLimit: 3 });
  const C = 0x5555_0000_3000;
  check.freed(1, A, 10, false);
  check.exec(1);
  check.freed(1, A, 11, false);
  check.freed(1, B, 12, false);
  // Pushes out the old program's A, not the new one's.
  check.freed(1, C, 13, false);
  check.freed(1, A, 14, false);
  assert.deepEqual(found(check), [['double-free', A, 14, 11]]);
});

test('invalid frees kept are bounded in all and per stack; the rest are counted', () => {
  const check = new FreeCheck({ unknownPointers: true, keepLimit: 15 });
  for (let i = 0; i < 25; i++) check.freed(1, A + 16 * i, 7, false);
  for (let i = 0; i < 8; i++) check.freed(1, B + 16 * i, 8 + i, false);
  assert.equal(check.invalid.length, 15);
  assert.equal(check.invalid.filter((free) => free.stackId === 7).length, 10);
  assert.equal(check.invalid[9].repeats, 15, 'the stack\'s last kept free counts the ones after it');
  assert.equal(check.omitted, 3, 'new stacks past the limit');
});
