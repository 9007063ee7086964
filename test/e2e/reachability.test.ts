// --reachability on the reachability fixture's six kinds of block, each
// from its own site: a launched command scanned as it calls _exit, an
// attached one at the trace's end with --pause, and valgrind's classes for
// the same sites.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';

import { attachTo, release, startTarget } from '../helpers/attach.js';
import { requireBpf } from '../helpers/bpf.js';
import { fixtureBinaries } from '../helpers/paths.js';
import { exited } from '../helpers/process.js';
import { readReport, type Report, stacksAt } from '../helpers/report.js';
import { scratchDir } from '../helpers/tmp.js';
import { traceCommand } from '../helpers/trace.js';
import { memcheck, valgrindMissing } from '../helpers/valgrind.js';

const FIXTURE = path.join(fixtureBinaries, 'reachability');

type ClassName = 'definitelyLost' | 'indirectlyLost' | 'possiblyLost' | 'stillReachable';
type Classes = Record<ClassName, { bytes: number; allocations: number }>;

/** From test/fixtures/reachability.c: each site's one block and its class. */
const SITES: [symbol: string, bytes: number, className: ClassName, valgrindKind: string][] = [
  ['site_referenced', 32, 'stillReachable', 'still reachable'],
  ['site_unreferenced', 48, 'definitelyLost', 'definitely lost'],
  ['site_lost_parent', 64, 'definitelyLost', 'definitely lost'],
  ['site_lost_child', 80, 'indirectlyLost', 'indirectly lost'],
  ['site_interior', 96, 'possiblyLost', 'possibly lost'],
  ['site_thread_stack', 112, 'stillReachable', 'still reachable'],
  // Held only in a blocked thread's r12: reachable once registers are read.
  ['site_register', 128, 'stillReachable', 'still reachable'],
];

interface ScanSummary extends Classes {
  pid: number;
  when: string;
  bytesScanned: number;
  threads: number;
  threadsRunning: number;
  threadsWithoutRegisters: number;
  registersMs: number | null;
  scanMs: number;
  pausedMs: number | null;
}

function classesAt(report: Report, symbol: string): Classes {
  const stacks = stacksAt(report, symbol) as (Report['stacks'][number] & { reachability?: Classes })[];
  assert.equal(stacks.length, 1, `one stack at ${symbol}`);
  assert.ok(stacks[0].reachability, `${symbol} has no reachability`);
  return stacks[0].reachability;
}

/** Every site's block in its class and in no other. */
function assertSites(report: Report): void {
  for (const [symbol, bytes, className] of SITES) {
    const classes = classesAt(report, symbol);
    for (const key of Object.keys(classes) as ClassName[]) {
      const expected = key === className ? { bytes, allocations: 1 } : { bytes: 0, allocations: 0 };
      assert.deepEqual(classes[key], expected, `${symbol}: ${key}`);
    }
  }
}

function summaryOf(report: Report): ScanSummary {
  const scan = (report as Report & { reachability?: ScanSummary }).reachability;
  assert.ok(scan, 'the report has no reachability summary');
  return scan;
}

test('reachability: a launched command, scanned as it calls _exit, then let go', { timeout: 60_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const { run, report } = await traceCommand(t, [FIXTURE], ['--reachability']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(report.target.exitCode, 0);
  assertSites(report);
  const scan = summaryOf(report);
  assert.equal(scan.when, 'exit');
  assert.equal(scan.pid, report.target.pid);
  // Every thread stopped, each stack read from its stack pointer, and its registers.
  assert.equal(scan.threads, 3);
  assert.equal(scan.threadsRunning, 0);
  assert.equal(scan.threadsWithoutRegisters, 0);
  // Part of the scan; scanMs is rounded to tenths, registersMs to hundredths.
  assert.ok(scan.registersMs !== null && scan.registersMs <= scan.scanMs + 0.05, `registers ${scan.registersMs} ms, scanned ${scan.scanMs} ms`);
  assert.ok(scan.pausedMs !== null && scan.pausedMs >= scan.scanMs, `paused ${scan.pausedMs} ms, scanned ${scan.scanMs} ms`);
});

test('reachability: an attached process with --pause, scanned at the trace\'s end and running on', { timeout: 60_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const target = await startTarget(t, { binary: 'reachability' }, ['--wait']);
  // Loading and attaching take seconds under the kernel matrix's emulation.
  const tracer = await attachTo(t, target.pid!, ['--reachability', '--pause']);
  await release(target);
  tracer.cli.kill('SIGINT');
  assert.deepEqual(await exited(tracer.cli, 30_000), { code: 0, signal: null }, tracer.stderr());
  const report = readReport(tracer.json);
  assertSites(report);
  const scan = summaryOf(report);
  assert.equal(scan.when, 'end');
  assert.equal(scan.threads, 3);
  assert.equal(scan.threadsRunning, 0);
  assert.equal(scan.threadsWithoutRegisters, 0);
  assert.ok(scan.registersMs !== null);
  assert.ok(scan.pausedMs !== null && scan.pausedMs > 0);
  // Let go: it still answers SIGTERM with its own exit.
  target.kill('SIGTERM');
  assert.deepEqual(await exited(target, 5_000), { code: 0, signal: null });
});

test('reachability: valgrind puts each site\'s block in the same class', { timeout: 120_000 }, async (t) => {
  const missing = valgrindMissing();
  if (missing) return t.skip(missing);
  const result = await memcheck([FIXTURE], scratchDir(t));
  assert.equal(result.exitCode, 0);
  for (const [symbol, bytes, , kind] of SITES) {
    const records = result.records.filter((record) => record.frames[0] === symbol);
    assert.deepEqual(records.map((r) => [r.bytes, r.blocks, r.kind]), [[bytes, 1, kind]], symbol);
  }
});
