// The walk copies as much of a thread's stack as its recent walks reached:
// a deep stack right after shallow ones must still be followed to the end.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { fixtureBinaries } from '../helpers/paths.js';
import { siteFigures, stacksAt } from '../helpers/report.js';
import { isSymbol } from '../helpers/symbols.js';
import { traceCommand } from '../helpers/trace.js';

test('stack depths: alternating shallow and 40-deep stacks in one thread are all whole', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const { run, report } = await traceCommand(t, [path.join(fixtureBinaries, 'stack-depths')]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(siteFigures(report, 'site_shallow'), { bytes: 10 * 32, allocations: 10 });
  assert.deepEqual(siteFigures(report, 'site_deep'), { bytes: 10 * 64, allocations: 10 });
  for (const [site, descents] of [['site_shallow', 0], ['site_deep', 40]] as const) {
    const stacks = stacksAt(report, site);
    assert.equal(stacks.length, 1, `${site}: one stack, whatever the walk before it reached`);
    const symbols = stacks[0].frames.map((f) => f.symbol);
    assert.equal(symbols.filter((s) => isSymbol(s, 'descend')).length, descents, symbols.join(' <- '));
    assert.ok(isSymbol(symbols.at(-3), '__libc_start_call_main') && isSymbol(symbols.at(-1), '_start'), `${site} reaches the start of the program: ${symbols.join(' <- ')}`);
    assert.equal(stacks[0].truncated, false);
    assert.equal(stacks[0].partial, false);
  }
  assert.equal(report.totals.failedStacks, 0);
});
