// BlockTable against a Map of rows, over random operation sequences: the
// backward shift after a removal must leave every other row reachable.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import fc from 'fast-check';

import { BlockTable } from '../../src/aggregate/block-table.js';

interface Row {
  size: number;
  ticks: number;
  stack: number;
}

// Few distinct addresses, so puts replace and removes hit; aligned as heaps
// align them, plus 0 and the top of the 48-bit range.
const addr = fc.oneof(
  fc.integer({ min: 0, max: 200 }).map((n) => 0x5555_5555_0000 + 16 * n),
  fc.integer({ min: 0, max: 200 }).map((n) => 0xffff_8880_0000 + 8 * n),
  fc.constantFrom(0, 8, 2 ** 48 - 16),
);
// Jiffies on a 64-bit kernel pass 2^32 five minutes after boot; a row keeps
// only the low 32 bits, so births spread over most of that span.
const JIFFIES = 2 ** 32 + 123_456;
const operation = fc.oneof(
  fc.record({
    op: fc.constant('put' as const),
    addr,
    size: fc.nat(2 ** 40),
    ticks: fc.nat(2 ** 32 - 1).map((n) => JIFFIES + n),
    stack: fc.nat(2 ** 32 - 1),
  }),
  fc.record({ op: fc.constant('remove' as const), addr }),
);

function rowOf(table: BlockTable, addr: number): Row | undefined {
  const row = table.find(addr);
  return row < 0 ? undefined : { size: table.size(row), ticks: table.ticks(row), stack: table.stack(row) };
}

test('behaves as a Map for puts, removes and lookups, through growth', () => {
  fc.assert(
    fc.property(fc.array(operation, { maxLength: 2000, size: 'large' }), (operations) => {
      const table = new BlockTable(4);
      const reference = new Map<number, Row>();
      for (const step of operations) {
        if (step.op === 'put') {
          const { size, ticks, stack } = step;
          assert.equal(table.put(step.addr, size, ticks, stack), reference.get(step.addr)?.size ?? -1);
          reference.set(step.addr, { size, ticks, stack });
        } else {
          const row = table.find(step.addr);
          assert.equal(row >= 0, reference.has(step.addr));
          if (row >= 0) table.removeAt(row);
          reference.delete(step.addr);
        }
        assert.equal(table.count, reference.size);
      }
      for (const [a, row] of reference) assert.deepEqual(rowOf(table, a), row);
      const visited: Row[] = [];
      table.forEach((size, stack, ticks) => visited.push({ size, ticks, stack }));
      const order = (a: Row, b: Row) => a.size - b.size || a.ticks - b.ticks || a.stack - b.stack;
      assert.deepEqual(visited.sort(order), [...reference.values()].sort(order));
    }),
    { numRuns: 200 },
  );
});

test('a dense heap survives growth and removal of every other block', () => {
  const table = new BlockTable(16);
  const addrs = Array.from({ length: 20_000 }, (_, i) => 0x5555_5555_0000 + 16 * i);
  addrs.forEach((a, i) => table.put(a, i, i, i));
  addrs.forEach((a, i) => i % 2 === 0 && table.removeAt(table.find(a)));
  assert.equal(table.count, 10_000);
  addrs.forEach((a, i) => assert.equal(table.find(a) >= 0 ? table.size(table.find(a)) : -1, i % 2 === 0 ? -1 : i));
});

test('address 0 is a block like any other, and an empty table finds nothing', () => {
  const table = new BlockTable();
  assert.equal(table.find(0), -1);
  table.put(0, 5, 6, 7);
  assert.deepEqual(rowOf(table, 0), { size: 5, ticks: 6, stack: 7 });
  table.removeAt(table.find(0));
  assert.equal(table.find(0), -1);
  assert.equal(table.count, 0);
});

test('births are read back exactly up to 2^32 ticks before the latest, and the bits of a row never pass as a double', () => {
  const table = new BlockTable();
  // 0x7ff8_0000 in the ticks word and all-ones in the stack word spell a
  // NaN in the row's third double: a move through growth must keep them.
  const oldest = JIFFIES + 0x7ff8_0000;
  const latest = oldest + 2 ** 32 - 1;
  table.put(16, 1, oldest, 2 ** 32 - 1);
  for (let i = 1; i < 5000; i++) table.put(16 + 16 * i, 1, oldest + i, i);
  table.put(8, 1, latest, 3);
  assert.deepEqual(rowOf(table, 16), { size: 1, ticks: oldest, stack: 2 ** 32 - 1 });
  assert.deepEqual(rowOf(table, 16 + 16 * 4999), { size: 1, ticks: oldest + 4999, stack: 4999 });
  assert.deepEqual(rowOf(table, 8), { size: 1, ticks: latest, stack: 3 });
});
