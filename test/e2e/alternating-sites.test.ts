// A thread's walks share work: one that starts where the thread's last walk
// of its kind did, and finds every word that walk read unchanged, reuses its
// stack (bpf/walk-memo.bpf.h). The alternating-sites fixture calls malloc
// and free from one place under two callers further out, in turn: each
// walk starts as the one before it did, and only a word further out tells
// them apart. Both must stay apart, to the block.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { fixtureBinaries } from '../helpers/paths.js';
import { stacksMentioning } from '../helpers/report.js';
import { describeFrames, invalidFrees } from '../helpers/resources.js';
import { isSymbol } from '../helpers/symbols.js';
import { traceCommand } from '../helpers/trace.js';

const FIXTURE = path.join(fixtureBinaries, 'alternating-sites');
/** The fixture's LEAKS: blocks of 32 bytes, half through each caller. */
const LEAKS = 200;

for (const first of ['a', 'b'] as const) {
  test(`alternating sites (${first}): allocations and frees from one place under two callers keep their own stacks`, { timeout: 60_000 }, async (t) => {
    if (!requireBpf(t)) return;
    const { run, report } = await traceCommand(t, [FIXTURE, first]);
    assert.equal(run.code, 134, `the double free aborts; stderr: ${run.stderr}`);
    assert.equal(report.totals.lostEvents, 0);

    for (const caller of ['leak_a', 'leak_b']) {
      const stacks = stacksMentioning(report, caller);
      const figures = stacks.map((s) => [s.allocations, s.bytes]);
      assert.deepEqual(figures, [[LEAKS / 2, (LEAKS / 2) * 32]], `${caller}: ${stacks.map((s) => describeFrames(s.frames)).join('; ')}`);
    }

    const frees = invalidFrees(report);
    assert.equal(frees.length, 1, JSON.stringify(frees));
    const bad = frees[0]!;
    assert.ok(bad.frames.some((f) => isSymbol(f.symbol, 'second_free')), describeFrames(bad.frames));
    // The free before the first of the block was path_b's: with `a` the
    // walk must not take its stack, with `b` it may.
    const previous = bad.previousFree?.frames ?? [];
    const callers = ['path_a', 'path_b'].filter((caller) => previous.some((f) => isSymbol(f.symbol, caller)));
    assert.deepEqual(callers, [`path_${first}`], describeFrames(previous));
    assert.ok(previous.some((f) => isSymbol(f.symbol, 'main')), `whole: ${describeFrames(previous)}`);
  });
}
