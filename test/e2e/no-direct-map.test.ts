// Where the direct map cannot be found, the walk cannot read user memory:
// leakhound says so, every allocation keeps its caller as its one frame,
// each such stack is counted as failed, and the figures stay exact.
// LEAKHOUND_NO_DIRECT_MAP=1 takes that path here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { assertTotals } from '../helpers/check-report.js';
import { fixtureBinary, loadExpectation } from '../helpers/expectations.js';
import { siteFigures } from '../helpers/report.js';
import { traceCommand } from '../helpers/trace.js';

// node --test runs each file in its own process: this reaches only the CLIs it starts.
process.env.LEAKHOUND_NO_DIRECT_MAP = '1';

test('no direct map: a warning, one frame per stack, every stack counted as failed, exact figures', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const e = loadExpectation('allocators');
  const { run, report } = await traceCommand(t, [fixtureBinary(e), ...e.args]);
  assert.equal(run.code, e.exitCode, run.stderr);
  assert.match(run.stderr, /warning: cannot find the kernel's direct map/);
  assertTotals(report, e);
  assert.ok(report.stacks.every((stack) => stack.frames.length === 1), 'only the allocator\'s caller');
  assert.equal(report.totals.failedStacks, report.totals.allocations);
  // The caller is the site itself: figures per site survive.
  assert.deepEqual(siteFigures(report, 'site_malloc'), { bytes: 300, allocations: 3 });
});
