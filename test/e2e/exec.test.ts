// A command that execs another program (a shell, or wrappers such as env,
// nice or setarch): the blocks the first program held vanish with its
// address space, so the report's outstanding totals are the last program's;
// and the program it became is probed on its own allocator before it runs
// (env LD_PRELOAD=... prog), so its figures are exact as if launched alone.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { assertReportMatches, assertTotals } from '../helpers/check-report.js';
import { fixtureBinary, loadExpectation } from '../helpers/expectations.js';
import { fixtureBinaries } from '../helpers/paths.js';
import type { Report } from '../helpers/report.js';
import { traceCommand } from '../helpers/trace.js';

const allocators = loadExpectation('allocators');
const CET_ALLOCATOR = path.join(fixtureBinaries, 'libcetmalloc.so');
/** Debian's libjemalloc2. */
const JEMALLOC = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2';

test('exec: a shell that allocates, then execs a fixture, leaves exactly the fixture\'s blocks outstanding', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  // dash keeps each variable in a block of its own, never freed before the exec.
  const script = `i=0; while [ $i -lt 200 ]; do eval v_$i=$i; i=$((i+1)); done; exec ${fixtureBinary(allocators)}`;
  const { run, report } = await traceCommand(t, ['/bin/sh', '-c', script]);
  assert.equal(run.code, allocators.exitCode, run.stderr);
  // Bytes and blocks equal to valgrind's for the fixture run alone.
  assertTotals(report, allocators);
});

test('exec: through sh and env, a preloaded allocator of the last program is probed before it runs, every site exact', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  // Two execs: sh, then env, then the fixture on the CET allocator.
  const { run, report } = await traceCommand(t, ['/bin/sh', '-c', `exec env LD_PRELOAD=${CET_ALLOCATOR} ${fixtureBinary(allocators)}`]);
  assert.equal(run.code, allocators.exitCode, run.stderr);
  assert.match(run.stderr, new RegExp(`^leakhound: PID \\d+ exec'd ${fixtureBinary(allocators)}: 19 probes on ${CET_ALLOCATOR}$`, 'm'));
  assertReportMatches(report, allocators);
});

/** Bytes and blocks by allocation site (the first named frame). */
function bySite(report: Report): Map<string, string> {
  const sites = new Map<string, { bytes: number; blocks: number }>();
  for (const stack of report.stacks) {
    const site = stack.frames.find((frame) => frame.symbol !== null)?.symbol ?? '(unnamed)';
    const sum = sites.get(site) ?? { bytes: 0, blocks: 0 };
    sites.set(site, { bytes: sum.bytes + stack.bytes, blocks: sum.blocks + stack.allocations });
  }
  return new Map([...sites].map(([site, sum]) => [site, `${sum.bytes} bytes in ${sum.blocks}`]));
}

test('exec: env LD_PRELOAD=libjemalloc gives the figures of the program launched with jemalloc preloaded', { timeout: 40_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const wrapped = await traceCommand(t, ['env', `LD_PRELOAD=${JEMALLOC}`, fixtureBinary(allocators)]);
  assert.equal(wrapped.run.code, allocators.exitCode, wrapped.run.stderr);
  assert.match(wrapped.run.stderr, /exec'd \S+allocators: \d+ probes on \/usr\/lib\/x86_64-linux-gnu\/libjemalloc\.so\.2/);
  process.env.LD_PRELOAD = JEMALLOC;
  let direct;
  try {
    direct = await traceCommand(t, [fixtureBinary(allocators)]);
  } finally {
    delete process.env.LD_PRELOAD;
  }
  assert.equal(direct.run.code, allocators.exitCode, direct.run.stderr);
  assert.ok(wrapped.report.totals.outstandingAllocations >= allocators.inUseAtExit.blocks, 'every fixture block, and jemalloc\'s own');
  assert.deepEqual(
    { totals: [wrapped.report.totals.outstandingBytes, wrapped.report.totals.outstandingAllocations], sites: bySite(wrapped.report) },
    { totals: [direct.report.totals.outstandingBytes, direct.report.totals.outstandingAllocations], sites: bySite(direct.report) },
  );
});

test('exec: a command that execs after the trace has ended is not held', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const { run, report } = await traceCommand(t, ['/bin/sh', '-c', `sleep 1; exec ${fixtureBinary(allocators)}`], ['--duration', '0.3']);
  // Held at its exec with no one to let it go, it would never end (and the test time out).
  assert.equal(run.code, allocators.exitCode, `the command ran to its end; ${run.stderr}`);
  assert.ok(report.durationMs < 1000, `the trace (${report.durationMs} ms) ended before the exec`);
});
