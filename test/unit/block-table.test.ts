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
const operation = fc.oneof(
  fc.record({ op: fc.constant('put' as const), addr, size: fc.nat(2 ** 40), ticks: fc.nat(), stack: fc.nat(100_000) }),
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
