// Both ways of walking user stacks give the same stacks and the same exact
// figures: the direct-map walk (plain loads, kernel 6.2+) and the copy
// (bpf_probe_read_user per frame record, any kernel leakhound runs on).
// LEAKHOUND_STACK_WALK forces one; the report's capabilities say which ran.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { addon } from '../../src/native/binding.js';
import { requireBpf } from '../helpers/bpf.js';
import { fixtureBinaries } from '../helpers/paths.js';
import { siteFigures, stacksAt, type Report } from '../helpers/report.js';
import { isSymbol } from '../helpers/symbols.js';
import { traceCommand } from '../helpers/trace.js';

async function traceWith(t: TestContext, walk: string): Promise<Report> {
  process.env.LEAKHOUND_STACK_WALK = walk;
  try {
    const { run, report } = await traceCommand(t, [path.join(fixtureBinaries, 'stack-depths')], ['--verbose']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, new RegExp(`stack walk: ${walk} \\(forced`));
    return report;
  } finally {
    delete process.env.LEAKHOUND_STACK_WALK;
  }
}

function checkDepths(report: Report): void {
  assert.deepEqual(siteFigures(report, 'site_shallow'), { bytes: 10 * 32, allocations: 10 });
  assert.deepEqual(siteFigures(report, 'site_deep'), { bytes: 10 * 64, allocations: 10 });
  for (const [site, descents] of [['site_shallow', 0], ['site_deep', 40]] as const) {
    const stacks = stacksAt(report, site);
    assert.equal(stacks.length, 1, site);
    const symbols = stacks[0].frames.map((f) => f.symbol);
    assert.equal(symbols.filter((s) => isSymbol(s, 'descend')).length, descents, symbols.join(' <- '));
    assert.ok(isSymbol(symbols.at(-1), '__libc_start_call_main'), `${site}: ${symbols.join(' <- ')}`);
    assert.equal(stacks[0].partial, false);
  }
  assert.equal(report.totals.failedStacks, 0);
}

test('stack walks: the copy walk gives whole stacks and exact figures on any kernel', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const report = await traceWith(t, 'copy');
  checkDepths(report);
  assert.equal((report as Report & { capabilities: { stackWalk: { chosen: string } } }).capabilities.stackWalk.chosen, 'copy');
});

test('stack walks: the direct-map walk gives the same stacks as the copy', { timeout: 60_000 }, async (t) => {
  if (!requireBpf(t)) return;
  if (!addon().kernelFeatures().rdonlyCast) {
    t.skip('this kernel has no bpf_rdonly_cast (6.2+): only the copy walk runs here');
    return;
  }
  if (!/ page_offset_base$/m.test(readFileSync('/proc/kallsyms', 'utf8'))) {
    t.skip('this kernel does not export page_offset_base (built without CONFIG_KALLSYMS_ALL): only the copy walk runs here');
    return;
  }
  const direct = await traceWith(t, 'direct-map');
  checkDepths(direct);
  const copy = await traceWith(t, 'copy');
  const frames = (report: Report) => report.stacks.map((s) => `${s.bytes} ${s.frames.map((f) => f.symbol).join(';')}`).sort();
  assert.deepEqual(frames(direct), frames(copy));
});
