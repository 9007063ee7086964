// Suspects: ranked by a steady slope; a cache that fills and holds, a buffer
// that comes and goes, or a stack too briefly seen is none.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { fitLine, grewShare, judge, rankSuspects } from '../../src/report/suspects.js';
import type { StackHistoryReport } from '../../src/report/types.js';

/** A point every 200 ms, from 200 ms on. */
function every200ms(bytes: number[]): StackHistoryReport {
  return { atMs: bytes.map((_, i) => 200 * (i + 1)), bytes };
}

const leak = every200ms(Array.from({ length: 15 }, (_, i) => 40_000 * (i + 1)));
// Fills in the first intervals, then holds.
const cache = every200ms([16_000, 32_000, 32_000, 30_000, 32_000, 32_000, 32_000, 32_000, 32_000, 32_000, 32_000, 32_000, 32_000, 32_000, 32_000]);
const transient = every200ms([0, 8192, 0, 8192, 8192, 0, 0, 8192, 0, 8192, 0, 0, 8192, 0, 8192]);

test('a straight line fits exactly: the slope in bytes per second, R² 1', () => {
  const fit = fitLine(leak);
  assert.ok(Math.abs(fit.slope - 200_000) < 1e-6, `slope ${fit.slope}`);
  assert.ok(Math.abs(fit.rSquared - 1) < 1e-12, `R² ${fit.rSquared}`);
  assert.deepEqual(fitLine(every200ms([5, 5, 5, 5])), { slope: 0, rSquared: 0 }, 'no change: no slope, no fit');
});

test('grewShare counts the steps that grew', () => {
  assert.equal(grewShare([1, 2, 2, 3, 1]), 0.5);
  assert.equal(grewShare([7]), 0);
});

test('only the steady leak is a suspect, with its slope and a reason', () => {
  const suspects = rankSuspects([{ history: cache }, {}, { history: leak }, { history: transient }]);
  assert.deepEqual(
    suspects.map((s) => [s.stack, s.growthBytesPerSecond, s.rSquared, s.grewShare]),
    [[2, 200_000, 1, 1]],
  );
  assert.equal(suspects[0].reason, 'grew 560000 bytes over 2.8 s, in 14 of 14 intervals and in both halves of the trace, close to a straight line (R² 1.00)');
});

test('growth that stopped halfway is not sustained', () => {
  const stopped = every200ms([10, 20, 30, 40, 50, 60, 70, 70, 70, 70, 70, 70, 70]);
  assert.equal(judge(0, stopped), null);
});

test('a noisy but steady climb is a suspect; shrinking or too few points is not', () => {
  const noisy = every200ms([100, 300, 250, 500, 450, 700, 650, 900, 850, 1100]);
  const suspect = judge(0, noisy);
  assert.ok(suspect, 'noisy climb');
  assert.equal(suspect.grewShare, 0.56);
  assert.equal(judge(0, every200ms([1000, 900, 800, 700, 600])), null, 'shrinking');
  assert.equal(judge(0, every200ms([100, 200, 300])), null, 'three points');
});

test('suspects come fastest first', () => {
  const slow = every200ms([1, 2, 3, 4, 5, 6]);
  const fast = every200ms([10, 20, 30, 40, 50, 60]);
  assert.deepEqual(rankSuspects([{ history: slow }, { history: fast }]).map((s) => s.stack), [1, 0]);
});
