// The CI gate: more than the limit fails, exactly the limit passes; with
// reachability only definitely-lost bytes count; 23 replaces only a 0.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leakGateLine, renderLeakGateStacks } from '../../src/render/leak-gate-text.js';
import { exitCodeWithGate, judgeLeakGate, LEAK_GATE_EXIT_CODE, type LeakGateVerdict } from '../../src/report/leak-gate.js';
import { applySuppressions, parseSuppressions } from '../../src/report/suppressions.js';
import type { Report } from '../../src/report/types.js';
import { userReport } from '../fixtures/render-reports.js';

const total = userReport.totals.outstandingBytes;

test('more than the limit fails; the limit itself passes', () => {
  assert.equal(judgeLeakGate(userReport, total).failed, false);
  const verdict = judgeLeakGate(userReport, total - 1);
  assert.deepEqual({ failed: verdict.failed, bytes: verdict.bytes, measure: verdict.measure, limit: verdict.limit }, { failed: true, bytes: 95_244, measure: 'outstanding', limit: total - 1 });
  assert.deepEqual(verdict.stacks.map((entry) => entry.bytes), [65_536, 24_000, 4_096, 1_000, 512, 100], 'largest first');
});

test('the totals are judged, not the stacks: blocks without a stack count too', () => {
  const report: Report = { ...userReport, totals: { ...userReport.totals, outstandingBytes: total + 10 } };
  assert.equal(judgeLeakGate(report, total).failed, true);
});

test('suppressed stacks do not count', () => {
  const report = applySuppressions(userReport, parseSuppressions('fun:Cache::grow*\nfun:leak_small\n', 'a.supp'));
  const verdict = judgeLeakGate(report, 4_707);
  assert.equal(verdict.bytes, 95_244 - 65_536 - 25_000);
  assert.equal(verdict.failed, true);
  assert.equal(judgeLeakGate(report, 4_708).failed, false);
});

test('with reachability, definitely-lost bytes count; a stack without it counts whole', () => {
  const none = { bytes: 0, allocations: 0 };
  const lost = (bytes: number) => ({ reachability: { definitelyLost: { bytes, allocations: bytes > 0 ? 1 : 0 }, indirectlyLost: none, possiblyLost: none, stillReachable: none } });
  const [a, b, c, ...rest] = userReport.stacks;
  const report: Report = { ...userReport, stacks: [{ ...a!, ...lost(0) }, { ...b!, ...lost(512) }, { ...c!, ...lost(4_096) }, ...rest] };
  const verdict = judgeLeakGate(report, 6_000);
  assert.equal(verdict.measure, 'definitely lost');
  assert.equal(verdict.bytes, 512 + 4_096 + 512 + 1_000 + 100);
  assert.equal(verdict.failed, true);
  assert.deepEqual(verdict.stacks.map((entry) => entry.bytes), [4_096, 1_000, 512, 512, 100], 'a stack with nothing lost is not listed');
  assert.equal(judgeLeakGate(report, 6_220).failed, false);
});

test(`the gate's ${LEAK_GATE_EXIT_CODE} replaces only a 0`, () => {
  const failed = judgeLeakGate(userReport, 0);
  const passed = judgeLeakGate(userReport, total);
  assert.equal(LEAK_GATE_EXIT_CODE, 23);
  assert.deepEqual(
    [exitCodeWithGate(failed, 0), exitCodeWithGate(failed, 5), exitCodeWithGate(failed, 1), exitCodeWithGate(failed, 134), exitCodeWithGate(passed, 0), exitCodeWithGate(passed, 3), exitCodeWithGate(null, 0), exitCodeWithGate(null, 7)],
    [23, 5, 1, 134, 0, 3, 0, 7],
  );
});

test('a failed gate says so in one line and lists the stacks over it, largest first', () => {
  const verdict = judgeLeakGate(userReport, 1_000);
  assert.equal(leakGateLine(verdict), 'leak gate failed: 95,244 bytes (93.0 KiB) outstanding, over --fail-on-leak 1,000 bytes');
  const text = renderLeakGateStacks(verdict, 'user', 2);
  const lines = text.split('\n');
  assert.equal(lines[0], '#1  65,536 bytes (64.0 KiB) in 2 allocations');
  assert.match(lines[2]!, /^ {4}Cache::grow\(unsigned long\) \(cache\.cpp:88\)$/);
  assert.ok(lines.includes('#2  24,000 bytes (23.4 KiB) in 1,000 allocations'));
  assert.ok(!lines.some((line) => line.startsWith('#3')));
  assert.equal(lines.at(-2), '(4 more stacks with 5,708 bytes not shown)');
});

test('a passed gate says so and lists nothing', () => {
  const verdict: LeakGateVerdict = judgeLeakGate(userReport, total);
  assert.equal(leakGateLine(verdict), 'leak gate passed: 95,244 bytes (93.0 KiB) outstanding, within --fail-on-leak 95,244 bytes');
  assert.equal(renderLeakGateStacks(verdict, 'user', 10), '');
});
