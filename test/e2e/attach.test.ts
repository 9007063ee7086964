// Attach mode (--pid) on the attach fixture: only what happens after the
// attach counts. Blocks made before it and freed after it are ignored (never
// negative), a pre-attach block grown after it belongs to the realloc site.
// The trace ends on the target's exit, on SIGINT, or after --duration.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { release, attachTo, startTarget } from '../helpers/attach.js';
import { requireBpf } from '../helpers/bpf.js';
import { assertReportMatches } from '../helpers/check-report.js';
import { loadExpectation } from '../helpers/expectations.js';
import { exited } from '../helpers/process.js';
import { readReport } from '../helpers/report.js';

const e = loadExpectation('attach');

test('attach: ends with the target and reports only what was leaked after the attach', { timeout: 90_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const target = await startTarget(t, e);
  const tracer = await attachTo(t, target.pid!);
  await release(target);
  assert.deepEqual(await exited(target, 5_000), { code: 0, signal: null });
  const end = await exited(tracer.cli, 15_000);
  assert.deepEqual(end, { code: 0, signal: null }, `stderr: ${tracer.stderr()}`);
  const report = readReport(tracer.json);
  assert.equal(report.target.pid, target.pid);
  assert.ok(report.target.exitCode === null || report.target.exitCode === 0, `exitCode ${report.target.exitCode}`);
  assertReportMatches(report, e);
});

test('attach: SIGINT ends the trace while the target runs on', { timeout: 90_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const target = await startTarget(t, e, ['--stay']);
  const tracer = await attachTo(t, target.pid!);
  await release(target);
  tracer.cli.kill('SIGINT');
  const end = await exited(tracer.cli, 15_000);
  assert.deepEqual(end, { code: 0, signal: null }, `stderr: ${tracer.stderr()}`);
  assert.equal(target.exitCode, null, 'the target outlives the trace');
  assertReportMatches(readReport(tracer.json), e);
  target.kill('SIGTERM');
  assert.deepEqual(await exited(target, 5_000), { code: 0, signal: null });
});

test('attach: --duration ends the trace on its own', { timeout: 90_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const target = await startTarget(t, e, ['--stay']);
  const tracer = await attachTo(t, target.pid!, ['--duration', '2']);
  await release(target);
  const end = await exited(tracer.cli, 15_000);
  assert.deepEqual(end, { code: 0, signal: null }, `stderr: ${tracer.stderr()}`);
  assert.equal(target.exitCode, null, 'the target outlives the trace');
  const report = readReport(tracer.json);
  // 2 s, less a little for clocks read a few ms apart and rounded.
  assert.ok(report.durationMs >= 1_950, `durationMs ${report.durationMs}`);
  assertReportMatches(report, e);
});
