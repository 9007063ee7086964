// Invalid frees (issue 20), on the double-free fixture: glibc aborts the
// program in the bad free, and leakhound still exits with its status (134)
// and writes a whole report naming the free, the pointer, the stack of the
// bad free from free's caller and, for a double free, the stack of the first.
// A program that frees each block once has none, threads and all; attached,
// neither are frees of blocks made before the attach.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { attachTo } from '../helpers/attach.js';
import { requireBpf } from '../helpers/bpf.js';
import type { CliRun } from '../helpers/cli.js';
import { fixtureBinary, loadExpectation } from '../helpers/expectations.js';
import { fixtureBinaries } from '../helpers/paths.js';
import { exited, lineMatching } from '../helpers/process.js';
import { readReport } from '../helpers/report.js';
import type { Report } from '../helpers/report.js';
import { callerOf, describeFrames, invalidFrees, type InvalidFree, type ResourceReport } from '../helpers/resources.js';
import { traceCommand } from '../helpers/trace.js';

const DOUBLE_FREE = path.join(fixtureBinaries, 'double-free');

/** The pointer the fixture says it is about to free the bad way. */
function pointerOf(stdout: string): bigint {
  const printed = stdout.match(/^block (0x[0-9a-f]+)$/m);
  assert.ok(printed, `the fixture says its pointer: ${JSON.stringify(stdout)}`);
  return BigInt(printed[1]!);
}

/**
 * The program aborted in the bad free (glibc's `message` on its stderr,
 * leakhound exiting 134) and the report holds that one free, of `kind`, at
 * the pointer the fixture printed.
 */
function theInvalidFree(run: CliRun, report: Report, message: RegExp, kind: InvalidFree['kind']): InvalidFree {
  assert.equal(run.code, 134, `SIGABRT's status; stderr: ${run.stderr}`);
  assert.match(run.stderr, message, 'glibc caught it too');
  assert.equal(report.totals.lostEvents, 0);
  const frees = invalidFrees(report);
  assert.deepEqual(frees.map((f) => [f.kind, BigInt(f.address)]), [[kind, pointerOf(run.stdout)]], JSON.stringify(frees));
  return frees[0]!;
}

test('invalid frees: a double free is reported with both frees\' stacks, and the aborted program\'s status passed on', { timeout: 60_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const { run, report } = await traceCommand(t, [DOUBLE_FREE]);
  const bad = theInvalidFree(run, report, /free\(\): double free detected/, 'double-free');
  assert.equal(callerOf(bad.frames), 'second_free', describeFrames(bad.frames));
  assert.ok(bad.frames.some((f) => f.symbol === 'main'), describeFrames(bad.frames));
  assert.ok(bad.previousFree, 'the first free is known');
  assert.equal(callerOf(bad.previousFree.frames), 'first_free', describeFrames(bad.previousFree.frames));
  // The block was freed (once): nothing held from it.
  assert.deepEqual(report.stacks.filter((s) => s.frames.some((f) => f.symbol === 'site_alloc')), []);
});

test('invalid frees: a free of a pointer no allocator returned is an unknown pointer, with no earlier free', { timeout: 60_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const { run, report } = await traceCommand(t, [DOUBLE_FREE, '--unknown']);
  const bad = theInvalidFree(run, report, /free\(\): invalid pointer/, 'unknown-pointer');
  // The program's first allocator call: no allocation comes before it.
  assert.equal(callerOf(bad.frames), 'site_free_unknown', `${describeFrames(bad.frames)}; failed stacks: ${report.totals.failedStacks}`);
  assert.equal(bad.previousFree, null);
});

test('invalid frees: none where threads free their blocks once, though glibc hands each thread\'s cached blocks back through free at its end', { timeout: 60_000 }, async (t) => {
  if (!requireBpf(t)) return;
  // threads: 4 workers, each freeing 500 blocks of its own and 50 of main's.
  const { run, report } = await traceCommand(t, [fixtureBinary(loadExpectation('threads'))]);
  assert.equal(run.code, 0, run.stderr);
  const described = invalidFrees(report).map((f) => `${f.kind} of ${f.address} at ${describeFrames(f.frames)}`);
  assert.deepEqual(described, [], 'no invalid free');
  assert.ok(!(report as ResourceReport).invalidFreesOmitted, 'none omitted either');
});

test('invalid frees: attached, a double free is reported, and frees of blocks older than the attach are not invalid', { timeout: 60_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const target = spawn(DOUBLE_FREE, ['--wait'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    if (target.exitCode === null && target.signalCode === null) target.kill('SIGKILL');
  });
  await lineMatching(target.stdout!, /^ready \d+$/, 5_000);
  const tracer = await attachTo(t, target.pid!);
  // Both lines may come after the exit is seen: waited for as lines.
  const block = lineMatching(target.stdout!, /^block 0x[0-9a-f]+$/, 5_000);
  const glibc = lineMatching(target.stderr!, /free\(\): double free detected/, 5_000);
  target.kill('SIGUSR1');
  assert.deepEqual(await exited(target, 5_000), { code: null, signal: 'SIGABRT' });
  const [printed] = await block;
  await glibc;
  assert.deepEqual(await exited(tracer.cli, 15_000), { code: 0, signal: null }, `the trace ends with the target; stderr: ${tracer.stderr()}`);

  const frees = invalidFrees(readReport(tracer.json));
  assert.deepEqual(frees.map((f) => [f.kind, BigInt(f.address)]), [['double-free', pointerOf(printed)]], JSON.stringify(frees));
  assert.equal(callerOf(frees[0]!.frames), 'second_free', describeFrames(frees[0]!.frames));
  assert.equal(callerOf(frees[0]!.previousFree?.frames ?? []), 'first_free');
});
