// LiveAllocations against a model built on Maps: adds, frees, realloc's
// set-aside and restore, and the running byte total. Sequences stay below
// the set-aside limit; test/unit/ingest.test.ts covers what happens past it.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import fc from 'fast-check';

import { LiveAllocations } from '../../src/aggregate/live-allocs.js';

interface Block {
  size: number;
  stack: number;
  ticks: number;
}

const addr = fc.integer({ min: 0, max: 40 }).map((n) => 0x7f00_0000_0000 + 16 * n);
const operation = fc.oneof(
  fc.record({ op: fc.constant('add' as const), addr, size: fc.nat(1 << 20), stack: fc.nat(50), ticks: fc.nat() }),
  fc.record({ op: fc.constantFrom('remove' as const, 'setAside' as const, 'restore' as const), addr }),
);

test('outstanding blocks, bytes and set-aside blocks match the model', () => {
  fc.assert(
    fc.property(fc.array(operation, { maxLength: 1500, size: 'large' }), (operations) => {
      const live = new LiveAllocations();
      const model = new Map<number, Block>();
      const aside = new Map<number, Block>();
      for (const step of operations) {
        const held = model.get(step.addr);
        const kept = aside.get(step.addr);
        switch (step.op) {
          case 'add':
            live.add(step.addr, step.size, step.stack, step.ticks);
            model.set(step.addr, { size: step.size, stack: step.stack, ticks: step.ticks });
            break;
          case 'remove':
            assert.equal(live.remove(step.addr), held !== undefined);
            model.delete(step.addr);
            break;
          case 'setAside':
            assert.equal(live.setAside(step.addr), held !== undefined);
            if (held) aside.set(step.addr, held);
            model.delete(step.addr);
            break;
          case 'restore':
            assert.equal(live.restore(step.addr), kept !== undefined);
            if (kept) model.set(step.addr, kept);
            aside.delete(step.addr);
            break;
        }
        assert.equal(live.count, model.size);
        assert.equal(live.bytes, [...model.values()].reduce((sum, b) => sum + b.size, 0));
      }
      const seen: Block[] = [];
      live.forEach((size, stack, ticks) => seen.push({ size, stack, ticks }));
      const order = (a: Block, b: Block) => a.size - b.size || a.stack - b.stack || a.ticks - b.ticks;
      assert.deepEqual(seen.sort(order), [...model.values()].sort(order));
    }),
    { numRuns: 200 },
  );
});
