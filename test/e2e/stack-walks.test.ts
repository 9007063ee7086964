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

async function traceWith(t: TestContext, walk: string, fixture = 'stack-depths'): Promise<Report> {
  process.env.LEAKHOUND_STACK_WALK = walk;
  try {
    const { run, report } = await traceCommand(t, [path.join(fixtureBinaries, fixture)], ['--verbose']);
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
    assert.ok(isSymbol(symbols.at(-3), '__libc_start_call_main') && isSymbol(symbols.at(-1), '_start'), `${site}: ${symbols.join(' <- ')}`);
    assert.equal(stacks[0].partial, false);
  }
  assert.equal(report.totals.failedStacks, 0);
}

/** Every frame-pointer chain in hostile-frames leads to a return address no
 * user code can be at: the walk stops before it and flags the stack. */
function checkHostile(report: Report): void {
  assert.deepEqual(siteFigures(report, 'site_hostile_frames'), { bytes: 6 * 40, allocations: 6 });
  const stacks = stacksAt(report, 'site_hostile_frames');
  assert.equal(stacks.length, 1, 'one stack whatever the garbage held');
  assert.deepEqual(stacks[0].frames.map((f) => f.symbol), ['site_hostile_frames', 'through_fake_frames', 'fake_frame_marker']);
  assert.equal(stacks[0].partial, true);
  assert.equal(report.totals.cutStacks, 1);
}

function directMapUnavailable(): string | null {
  if (!addon().kernelFeatures().rdonlyCast) return 'this kernel has no bpf_rdonly_cast (6.2+): only the copy walk runs here';
  if (!/ page_offset_base$/m.test(readFileSync('/proc/kallsyms', 'utf8'))) return 'this kernel does not export page_offset_base (built without CONFIG_KALLSYMS_ALL): only the copy walk runs here';
  return null;
}

test('stack walks: the copy walk gives whole stacks and exact figures on any kernel', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const report = await traceWith(t, 'copy');
  checkDepths(report);
  assert.equal((report as Report & { capabilities: { stackWalk: { chosen: string } } }).capabilities.stackWalk.chosen, 'copy');
});

test('stack walks: the direct-map walk gives the same stacks as the copy', { timeout: 60_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const unavailable = directMapUnavailable();
  if (unavailable) {
    t.skip(unavailable);
    return;
  }
  const direct = await traceWith(t, 'direct-map');
  checkDepths(direct);
  const copy = await traceWith(t, 'copy');
  const frames = (report: Report) => report.stacks.map((s) => `${s.bytes} ${s.frames.map((f) => f.symbol).join(';')}`).sort();
  assert.deepEqual(frames(direct), frames(copy));
});

test('stack walks: both walks stop at a return address that is no user address, and flag the stack', { timeout: 60_000 }, async (t) => {
  if (!requireBpf(t)) return;
  checkHostile(await traceWith(t, 'copy', 'hostile-frames'));
  const unavailable = directMapUnavailable();
  if (unavailable) {
    t.diagnostic(`direct map not tried: ${unavailable}`);
    return;
  }
  checkHostile(await traceWith(t, 'direct-map', 'hostile-frames'));
});
