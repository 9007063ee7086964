// Stacks through code without frame pointers: figures stay exact, and the
// stacks the walk could not finish are marked partial; stacks through code
// with frame pointers are not.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { assertReportMatches } from '../helpers/check-report.js';
import { fixtureBinary, loadExpectation } from '../helpers/expectations.js';
import { fixtureBinaries } from '../helpers/paths.js';
import { siteFigures, stacksAt } from '../helpers/report.js';
import { traceCommand } from '../helpers/trace.js';

test('frame pointers: a program built without them keeps exact figures, its stacks marked partial', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const { run, report } = await traceCommand(t, [path.join(fixtureBinaries, 'no-frame-pointers')], ['--verbose']);
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
      assert.equal(stack.frames.at(-1)?.symbol, '__libc_start_call_main', `${site.symbol} reaches the start of the program`);
    }
  }
});
