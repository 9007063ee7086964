// NumberMap against the Map it replaces, over random operation sequences.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import fc from 'fast-check';

import { NumberMap } from '../../src/aggregate/number-map.js';

const key = fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom(2 ** 32, 2 ** 32 + 1, 2 ** 47 - 8, 2 ** 53 - 1));
const operation = fc.oneof(
  fc.record({ op: fc.constant('set' as const), key, value: fc.integer({ min: 0, max: 2 ** 31 - 1 }) }),
  fc.record({ op: fc.constant('delete' as const), key }),
);

test('behaves as a Map for sets, deletes and lookups, through growth', () => {
  fc.assert(
    fc.property(fc.array(operation, { maxLength: 3000, size: 'large' }), (operations) => {
      const ours = new NumberMap(4);
      const reference = new Map<number, number>();
      for (const step of operations) {
        if (step.op === 'set') {
          ours.set(step.key, step.value);
          reference.set(step.key, step.value);
        } else {
          assert.equal(ours.delete(step.key), reference.get(step.key) ?? -1);
          reference.delete(step.key);
        }
        assert.equal(ours.size, reference.size);
      }
      for (const [k, v] of reference) assert.equal(ours.get(k), v);
    }),
    { numRuns: 200 },
  );
});

test('deleting from the middle of a probe run keeps the rest reachable', () => {
  const map = new NumberMap(16);
  // Keys that share low bits collide often; delete every other one.
  const keys = Array.from({ length: 500 }, (_, i) => i * 2 ** 32);
  keys.forEach((k, i) => map.set(k, i));
  keys.forEach((k, i) => i % 2 === 0 && map.delete(k));
  keys.forEach((k, i) => assert.equal(map.get(k), i % 2 === 0 ? -1 : i));
});
