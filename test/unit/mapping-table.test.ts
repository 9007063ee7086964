// The interval map of mappings against a model that keeps one entry per
// page: mmap over what is there (MAP_FIXED), munmap splitting ranges, mremap
// moving, shrinking and growing them, and exec.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import fc from 'fast-check';

import { MappingTable, type MappedRange } from '../../src/aggregate/mapping-table.js';
import { ResourceLedger } from '../../src/aggregate/resource-ledger.js';

const PAGE = 4096;
const BASE = 0x7f00_0000_0000;

/** [start page, end page, stack, kind] of every range, by start. */
function ranges(table: MappingTable, tgid = 1): [number, number, number, number][] {
  const out: [number, number, number, number][] = [];
  table.forEach((owner, range) => {
    if (owner === tgid) out.push([(range.start - BASE) / PAGE, (range.end - BASE) / PAGE, range.stack, range.kind]);
  });
  return out;
}

function range(startPage: number, pages: number, stack: number, kind = 0): MappedRange {
  return { start: BASE + startPage * PAGE, end: BASE + (startPage + pages) * PAGE, stack, ticks: 1, kind };
}

test('munmap in the middle splits a range; at an edge trims it', () => {
  const table = new MappingTable();
  table.map(1, range(0, 10, 1));
  table.unmap(1, BASE + 4 * PAGE, 2 * PAGE);
  table.unmap(1, BASE, PAGE);
  assert.deepEqual(ranges(table), [[1, 4, 1, 0], [6, 10, 1, 0]]);
  assert.deepEqual(table.totals, { bytes: 7 * PAGE, count: 2 });
});

test('a MAP_FIXED mapping replaces what it overlaps', () => {
  const table = new MappingTable();
  table.map(1, range(0, 4, 1));
  table.map(1, range(6, 4, 2));
  table.map(1, range(2, 6, 3, 1));
  assert.deepEqual(ranges(table), [[0, 2, 1, 0], [2, 8, 3, 1], [8, 10, 2, 0]]);
});

test('mremap moves the pieces with their stacks; growth is the first piece\'s', () => {
  const table = new MappingTable();
  table.map(1, range(0, 2, 1));
  table.map(1, range(2, 2, 2, 1));
  table.map(1, range(20, 1, 9));
  table.remap(1, BASE + PAGE, 3 * PAGE, BASE + 20 * PAGE, 5 * PAGE);
  assert.deepEqual(ranges(table), [[0, 1, 1, 0], [20, 21, 1, 0], [21, 23, 2, 1], [23, 25, 1, 0]]);
});

test('mremap shrinking in place drops the tail; an untracked old range moves nothing', () => {
  const table = new MappingTable();
  table.map(1, range(0, 8, 1));
  table.remap(1, BASE, 8 * PAGE, BASE, 3 * PAGE);
  table.map(1, range(30, 2, 5));
  table.remap(1, BASE + 10 * PAGE, 2 * PAGE, BASE + 30 * PAGE, 2 * PAGE);
  assert.deepEqual(ranges(table), [[0, 3, 1, 0], [30, 32, 5, 0]]);
});

test('an exec drops the process\'s mappings only; the kind comes from bits 8-11 of the flags', () => {
  const ledger = new ResourceLedger();
  ledger.map(1, BASE, PAGE, 70, 1, (3 << 8) | 1);
  ledger.map(2, BASE, PAGE, 70, 1, 2 << 8);
  ledger.mappings.exec(1);
  assert.deepEqual(ranges(ledger.mappings, 1), []);
  assert.deepEqual(ranges(ledger.mappings, 2), [[0, 1, 0, 2]]);
  assert.equal(ledger.stacks.truncated[0], true, 'flag bit 0: the stack was truncated');
});

/** Page -> [stack, kind]: what the table must hold. */
type Model = Map<number, [number, number]>;

function remapModel(model: Model, oldPage: number, oldPages: number, newPage: number, newPages: number): void {
  const moved: [number, [number, number]][] = [];
  for (let page = oldPage; page < oldPage + oldPages; page++) {
    const held = model.get(page);
    if (held) moved.push([page - oldPage, held]);
    model.delete(page);
  }
  if (moved.length === 0) return;
  for (let page = newPage; page < newPage + newPages; page++) model.delete(page);
  for (const [offset, held] of moved) if (offset < newPages) model.set(newPage + offset, held);
  for (let offset = oldPages; offset < newPages; offset++) model.set(newPage + offset, moved[0][1]);
}

const page = fc.integer({ min: 0, max: 40 });
const pages = fc.integer({ min: 0, max: 12 });
const operation = fc.oneof(
  fc.record({ op: fc.constant('map' as const), at: page, pages, stack: fc.nat(5), kind: fc.nat(3) }),
  fc.record({ op: fc.constant('unmap' as const), at: page, pages }),
  fc.record({ op: fc.constant('remap' as const), at: page, pages, to: page, toPages: pages }),
);

test('every page is where the model says, with its stack and kind', () => {
  fc.assert(
    fc.property(fc.array(operation, { maxLength: 200 }), (operations) => {
      const table = new MappingTable();
      const model: Model = new Map();
      for (const step of operations) {
        if (step.op === 'map') {
          table.map(1, range(step.at, step.pages, step.stack, step.kind));
          for (let p = step.at; p < step.at + step.pages; p++) model.set(p, [step.stack, step.kind]);
        } else if (step.op === 'unmap') {
          table.unmap(1, BASE + step.at * PAGE, step.pages * PAGE);
          for (let p = step.at; p < step.at + step.pages; p++) model.delete(p);
        } else {
          table.remap(1, BASE + step.at * PAGE, step.pages * PAGE, BASE + step.to * PAGE, step.toPages * PAGE);
          remapModel(model, step.at, step.pages, step.to, step.toPages);
        }
      }
      const held: Model = new Map();
      let previousEnd = -1;
      for (const [start, end, stack, kind] of ranges(table)) {
        assert.ok(start >= previousEnd && end > start, 'ranges are ordered, disjoint and not empty');
        previousEnd = end;
        for (let p = start; p < end; p++) held.set(p, [stack, kind]);
      }
      assert.deepEqual(new Map([...held].sort(([a], [b]) => a - b)), new Map([...model].sort(([a], [b]) => a - b)));
    }),
  );
});
