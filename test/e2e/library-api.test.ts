// The typed library API (issue 22): examples/library/watch-process.ts, which
// imports only the package's entry ('leakhound', by package.json's exports),
// traces the attach fixture with an interval callback, stops on SIGINT and
// renders its report in every form; a launched fixture traced to its exit;
// bad options refused; a cgroup. And the published types, checked by tsc against a
// caller that uses them right and one that does not.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { release, startTarget } from '../helpers/attach.js';
import { requireBpf } from '../helpers/bpf.js';
import { cgroup2Root } from '../helpers/cgroup.js';
import { assertReportMatches } from '../helpers/check-report.js';
import { fixtureBinary, loadExpectation } from '../helpers/expectations.js';
import { repoRoot } from '../helpers/paths.js';
import { collect, exited, lineMatching, waitFor } from '../helpers/process.js';
import { readReport } from '../helpers/report.js';
import { scratchDir } from '../helpers/tmp.js';

const e = loadExpectation('attach');
const example = path.join(repoRoot, 'dist/examples/library/watch-process.js');

interface PrintedSnapshot {
  elapsedMs: number;
  outstandingBytes: number;
  lostEvents: number;
  top: { site: string | null; bytes: number; allocations: number }[];
}

test('library: a trace started from the package entry gives snapshots, its report, and every rendering', { timeout: 60_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const target = await startTarget(t, e, ['--stay']);
  const out = scratchDir(t);
  const program = spawn(process.execPath, [example, String(target.pid), out], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => program.kill('SIGKILL'));
  const stdout = collect(program.stdout);
  const stderr = collect(program.stderr);
  await lineMatching(program.stderr!, /^leakhound: attached to PID/, 15_000);
  await release(target);
  // A snapshot taken after the fixture's post-attach phase: the figures of attach.expect.json.
  const [line] = await lineMatching(program.stdout!, /^\{.*"outstandingBytes":5800,.*\}$/, 10_000);
  // And one more, so that snapshots are seen to follow each other.
  await lineMatching(program.stdout!, /^\{/, 5_000);
  program.kill('SIGINT');
  assert.deepEqual(await exited(program, 15_000), { code: 0, signal: null }, stderr());
  assert.equal(target.exitCode, null, 'the target outlives the trace');

  const snapshot = JSON.parse(line) as PrintedSnapshot;
  assert.deepEqual(snapshot.top, [
    { site: 'site_after_malloc', bytes: 3000, allocations: 3 },
    { site: 'site_after_grow', bytes: 2000, allocations: 1 },
    { site: 'site_after_calloc', bytes: 800, allocations: 2 },
  ]);
  assert.equal(snapshot.lostEvents, 0);
  const times = stdout().trim().split('\n').map((printed) => (JSON.parse(printed) as PrintedSnapshot).elapsedMs);
  assert.ok(times.length >= 2 && times.every((ms, i) => i === 0 || ms > times[i - 1]), `snapshot times: ${times}`);
  assert.match(stderr(), /^stopped: signal$/m);

  const report = readReport(path.join(out, 'report.json'));
  assertReportMatches(report, e);
  const text = readFileSync(path.join(out, 'report.txt'), 'utf8');
  assert.match(text, /^#1 {2}3,000 bytes \(2\.9 KiB\) in 3 allocations$/m);
  const folded = readFileSync(path.join(out, 'leaks.folded'), 'utf8');
  assert.match(folded, /;site_after_malloc 3000$/m);
  assert.match(readFileSync(path.join(out, 'flamegraph.svg'), 'utf8'), /<svg[\s\S]*site_after_calloc/);
  assert.match(readFileSync(path.join(out, 'flamegraph.html'), 'utf8'), /^<!DOCTYPE html>/i);
  const pprof = gunzipSync(readFileSync(path.join(out, 'profile.pb.gz')));
  assert.ok(pprof.includes('inuse_space') && pprof.includes('site_after_grow'), 'a pprof profile with the sites');
  const speedscope = JSON.parse(readFileSync(path.join(out, 'speedscope.json'), 'utf8')) as { $schema: string; shared: { frames: { name: string }[] } };
  assert.equal(speedscope.$schema, 'https://www.speedscope.app/file-format-schema.json');
  assert.ok(speedscope.shared.frames.some((frame) => frame.name === 'site_after_malloc'));
  target.kill('SIGTERM');
});

const execFileAsync = promisify(execFile);

/** tsc on one caller, resolving 'leakhound' as a user's code would: through package.json's exports. */
async function typeCheck(dir: string, source: string): Promise<string> {
  const file = path.join(dir, 'caller.ts');
  writeFileSync(file, source);
  const tsc = path.join(repoRoot, 'node_modules/typescript/bin/tsc');
  const args = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--types', 'node', file];
  try {
    await execFileAsync(process.execPath, [tsc, ...args], { cwd: repoRoot });
    return '';
  } catch (error) {
    return (error as { stdout: string }).stdout;
  }
}

test('library: the published types take a right caller and refuse a wrong one', { timeout: 60_000 }, async () => {
  // Inside the package, so that 'leakhound' resolves to itself.
  const dir = path.join(repoRoot, '.output', `typecheck-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  try {
    const right = `import { startTrace, renderText, type Report, type LiveSnapshot, LeakhoundError } from 'leakhound';
const trace = startTrace({ command: ['./app'], intervalMs: 500, onInterval: (s: LiveSnapshot) => s.topStacks(5).map((stack) => stack.frames[0]?.symbol) });
const report: Report = (await trace.result).report;
const text: string = renderText(report, { top: 5 });
const code: string | undefined = new LeakhoundError('USAGE', text).hint;
export { code };
`;
    assert.equal(await typeCheck(dir, right), '');
    const wrong = `import { startTrace } from 'leakhound';
startTrace({ pid: '1234' });
`;
    assert.match(await typeCheck(dir, wrong), /caller\.ts\(2,14\): error TS2322: Type 'string' is not assignable to type 'number'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('library: bad options reject the result with a LeakhoundError of code USAGE, and nothing is traced', async () => {
  const { LeakhoundError, startTrace, startKernelTrace } = await import('leakhound');
  const refusals = [
    startTrace({ pid: 1, command: ['/bin/true'] }),
    startTrace({}),
    startTrace({ pid: 1.5 }),
    startTrace({ command: [] }),
    startTrace({ command: ['/bin/true'], intervalMs: -1 }),
    startTrace({ command: ['/bin/true'], minSize: 10, maxSize: 5 }),
    startKernelTrace({ attach: 'fentry' as 'auto' }),
  ];
  for (const trace of refusals) {
    await assert.rejects(trace.result, (error: unknown) => error instanceof LeakhoundError && error.code === 'USAGE' && typeof error.hint === 'string');
    // The iterator ends with the trace.
    for await (const snapshot of trace) assert.fail(`a snapshot from a refused trace: ${snapshot.elapsedMs}`);
  }
});

test('library: a launched command traced to its exit, with the figures of valgrind\'s "in use at exit"', { timeout: 60_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const { startTrace } = await import('leakhound');
  const allocators = loadExpectation('allocators');
  const { report, reason, exitCode } = await startTrace({ command: [fixtureBinary(allocators), ...allocators.args] }).result;
  assert.equal(reason, 'target-exit');
  assert.equal(exitCode, allocators.exitCode);
  assert.deepEqual([report.totals.outstandingBytes, report.totals.outstandingAllocations], [allocators.inUseAtExit.bytes, allocators.inUseAtExit.blocks]);
});

test('library: a cgroup traced as the CLI traces it, a process that joins it exact; what the CLI refuses is refused', { timeout: 90_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const { LeakhoundError, startTrace } = await import('leakhound');
  const root = cgroup2Root();
  assert.ok(root, 'a cgroup v2 hierarchy is mounted');
  const dir = path.join(root, `leakhound-e2e-library-${process.pid}`);
  mkdirSync(dir);
  t.after(() => rmdirSync(dir));
  for (const refused of [startTrace({ cgroup: dir, pid: 1 }), startTrace({ cgroup: dir, reachability: true }), startTrace({ cgroup: path.join(dir, 'missing') })]) {
    await assert.rejects(refused.result, (error: unknown) => error instanceof LeakhoundError && error.code === 'USAGE');
  }

  const messages: string[] = [];
  const trace = startTrace({ cgroup: dir, onMessage: (line) => messages.push(line) });
  await waitFor(() => messages.some((line) => /attached to cgroup .*\(0 processes now/.test(line)), 20_000);
  const allocators = loadExpectation('allocators');
  const joiner = spawn('sh', ['-c', `echo $$ > ${dir}/cgroup.procs; exec ${fixtureBinary(allocators)}`], { stdio: 'ignore' });
  t.after(() => joiner.kill('SIGKILL'));
  assert.deepEqual(await exited(joiner, 30_000), { code: allocators.exitCode, signal: null });
  trace.stop();
  const { report, reason } = await trace.result;
  assert.equal(reason, 'signal');
  const joined = report.processes?.find((p) => p.pid === joiner.pid);
  assert.deepEqual([joined?.outstandingBytes, joined?.outstandingAllocations], [allocators.inUseAtExit.bytes, allocators.inUseAtExit.blocks], JSON.stringify(report.processes));
});
