// Stack history: which stacks are followed, and memory bounded in points and stacks.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { StackTotal } from '../../src/aggregate/ledger.js';
import { StackHistory } from '../../src/aggregate/stack-history.js';

function totals(bytes: Record<number, number>): StackTotal[] {
  return Object.entries(bytes).map(([id, n]) => ({ stackId: Number(id), bytes: n, allocations: 1, truncated: false, cut: false, pids: [], firstPid: 1, allocatedBytes: n, allocatedCount: 1 }));
}

test('a stack is followed from the point it has grown since first seen; a stable one never', () => {
  const history = new StackHistory();
  history.record(100, totals({ 1: 10, 2: 500 }), undefined);
  history.record(200, totals({ 1: 20, 2: 500 }), undefined);
  history.record(300, totals({ 2: 500 }), undefined);
  assert.deepEqual(history.series(1), [null, 20, 0], 'freed at the third: 0');
  assert.equal(history.series(2), undefined);
  assert.deepEqual(history.points.map((p) => [p.atMs, p.outstandingBytes]), [[100, 510], [200, 520], [300, 500]]);
});

test('points stay within bounds, thinned evenly over the whole trace', () => {
  const history = new StackHistory<number>({ maxPoints: 4, maxStacks: 8 });
  for (let i = 0; i < 9; i++) history.record(i * 100, totals({ 1: i }), i);
  // 0..3 kept; at 4, thinned to 0,2 (+4); 5 skipped, 6 taken; at 8, thinned to 0,4 (+8).
  assert.deepEqual(history.points.map((p) => p.atMs), [0, 400, 800]);
  assert.deepEqual(history.points.map((p) => p.extra), [0, 4, 8], 'the caller\'s figures thinned in step');
  assert.deepEqual(history.series(1), [null, 4, 8]);
  for (let i = 9; i < 100; i++) history.record(i * 100, totals({ 1: i }), i);
  assert.ok(history.points.length <= 4, `${history.points.length} points`);
  assert.equal(history.points[0].atMs, 0);
});

test('stacks stay within bounds: a newcomer that grew more takes the place of the one that grew least', () => {
  const history = new StackHistory({ maxPoints: 16, maxStacks: 2 });
  history.record(0, totals({ 1: 0, 2: 0, 3: 0 }), undefined);
  history.record(1, totals({ 1: 50, 2: 10, 3: 5 }), undefined);
  assert.equal(history.followedStacks, 2);
  assert.ok(history.series(1) && history.series(2) && !history.series(3), 'the two that grew most');
  history.record(2, totals({ 1: 60, 2: 10, 3: 100 }), undefined);
  assert.equal(history.followedStacks, 2);
  assert.ok(history.series(3) && !history.series(2), 'stack 3 (grew 100) took the place of stack 2 (grew 10)');
  assert.throws(() => new StackHistory({ maxPoints: 1, maxStacks: 1 }), RangeError);
});
