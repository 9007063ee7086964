// Stacks through code without frame pointers: whole from the unwind tables,
// figures exact; with frame pointers alone, the stacks the walk could not
// finish are marked partial; stacks through code with frame pointers are not.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { assertReportMatches } from '../helpers/check-report.js';
import { fixtureBinary, loadExpectation } from '../helpers/expectations.js';
import { fixtureBinaries } from '../helpers/paths.js';
import { siteFigures, stacksAt } from '../helpers/report.js';
import { traceCommand } from '../helpers/trace.js';

test('frame pointers: a program built without them gets whole stacks from its unwind table, and exact figures', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const { run, report } = await traceCommand(t, [path.join(fixtureBinaries, 'no-frame-pointers')], ['--verbose']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /unwind table of \S*no-frame-pointers: \d+ rows/);
  assert.deepEqual(siteFigures(report, 'site_without_frame_pointer'), { bytes: 7 * 48, allocations: 7 });
  const stacks = stacksAt(report, 'site_without_frame_pointer');
  assert.equal(stacks.length, 1);
  assert.equal(stacks[0].partial, false);
  assert.deepEqual(
    stacks[0].frames.map((f) => f.symbol).slice(0, 4),
    ['site_without_frame_pointer', 'caller_without_frame_pointer', 'main', '__libc_start_call_main'],
  );
  assert.equal(report.totals.partialStacks, 0);
});

test('frame pointers: with frame pointers alone (--unwind-rows 0), the same program keeps exact figures, its stacks marked partial', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const { run, report } = await traceCommand(t, [path.join(fixtureBinaries, 'no-frame-pointers')], ['--verbose', '--unwind-rows', '0']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /code without frame pointers: .*no-frame-pointers/);
  assert.deepEqual(siteFigures(report, 'site_without_frame_pointer'), { bytes: 7 * 48, allocations: 7 });
  const stacks = stacksAt(report, 'site_without_frame_pointer');
  assert.ok(stacks.length > 0 && stacks.every((s) => s.partial), 'every stack from the site is partial');
  assert.equal(report.totals.partialStacks, report.stacks.filter((s) => s.partial).length);
});

test('frame pointers: stacks through code that keeps them are whole, not partial', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const e = loadExpectation('allocators');
  const { report } = await traceCommand(t, [fixtureBinary(e)]);
  assertReportMatches(report, e);
  // The constructor runs from the C library's start-up code, before main.
  for (const site of e.sites.filter((s) => s.symbol !== 'site_constructor')) {
    for (const stack of stacksAt(report, site.symbol)) {
      assert.equal(stack.partial, false, `${site.symbol}: ${stack.frames.map((f) => f.symbol).join(' <- ')}`);
      // Through the C library's start-up code (from its unwind table) to _start.
      assert.ok(stack.frames.some((f) => f.symbol === '__libc_start_call_main'), `${site.symbol} reaches the start of the program`);
      assert.equal(stack.frames.at(-1)?.symbol, '_start', `${site.symbol}: ${stack.frames.map((f) => f.symbol).join(' <- ')}`);
    }
  }
});
