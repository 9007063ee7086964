// pprof from real traces: go tool pprof (Debian's golang-go) reads the
// profile.pb.gz that --out writes, with the JSON report's totals (inuse_* and
// alloc_*), for a launched fixture, whose churn shows only in alloc_*, and for
// a kernel-mode run; `leakhound convert` makes the
// same file from the report. Bad input is one line and exit 2.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { runCli } from '../helpers/cli.js';
import { fixtureBinary, loadExpectation } from '../helpers/expectations.js';
import { scratchDir } from '../helpers/tmp.js';

/** A leakhound run that only reads and writes files: under TCG, starting Node alone takes seconds. */
const CLI_TIMEOUT_MS = 60_000;

interface ReportFrame {
  module: string | null;
  buildId?: string;
}

interface Totals {
  outstandingBytes: number;
  outstandingAllocations: number;
  allocations: number;
  allocatedBytes: number;
}

type SampleIndex = 'inuse_space' | 'inuse_objects' | 'alloc_space' | 'alloc_objects';

/** `go tool pprof -top` for one sample type, in plain units, every node shown. */
function pprofTop(profile: string, sampleIndex: SampleIndex): string {
  const args = ['tool', 'pprof', '-top', '-symbolize=none', `-sample_index=${sampleIndex}`, '-unit=B', '-nodefraction=0', '-nodecount=100000', profile];
  return execFileSync('go', args, { encoding: 'utf8', env: { ...process.env, HOME: path.dirname(profile) } });
}

/** Its `Total samples = N`. */
function pprofTotal(profile: string, sampleIndex: SampleIndex): number {
  const top = pprofTop(profile, sampleIndex);
  const total = /Total samples = (\d+)B?\s/.exec(top);
  assert.ok(total, `go tool pprof -top said:\n${top}`);
  return Number(total[1]);
}

/** The flat figure of function `name` in -top, or 0 when it is not there. */
function pprofFlat(profile: string, sampleIndex: SampleIndex, name: string): number {
  const line = pprofTop(profile, sampleIndex)
    .split('\n')
    .find((row) => row.trim().split(/\s+/).at(-1) === name);
  return line === undefined ? 0 : Number(/^\s*(\d+)/.exec(line)![1]);
}

async function checkOutDir(out: string): Promise<void> {
  const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as { totals: Totals };
  const profile = path.join(out, 'profile.pb.gz');
  assert.ok(report.totals.outstandingBytes > 0, 'something was outstanding');
  assert.equal(pprofTotal(profile, 'inuse_space'), report.totals.outstandingBytes);
  assert.equal(pprofTotal(profile, 'inuse_objects'), report.totals.outstandingAllocations);
  assert.equal(pprofTotal(profile, 'alloc_space'), report.totals.allocatedBytes);
  assert.equal(pprofTotal(profile, 'alloc_objects'), report.totals.allocations);
  const converted = path.join(out, 'converted.pb.gz');
  const run = await runCli(['convert', path.join(out, 'report.json'), '--to', 'pprof', '--output', converted], '', CLI_TIMEOUT_MS);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(readFileSync(converted), readFileSync(profile), 'convert writes what --out wrote');
}

test('convert: go tool pprof reads a launched fixture\'s profile.pb.gz with the report\'s totals and the fixture\'s build-id', { timeout: 180_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const out = path.join(scratchDir(t), 'out');
  const fixture = fixtureBinary(loadExpectation('allocators'));
  const run = await runCli(['trace', '--out', out, '--', fixture], '', 90_000);
  assert.equal(run.code, 0, `stderr: ${run.stderr}`);
  await checkOutDir(out);

  // allocators.c's site_churn makes 1000 blocks of 32 bytes and frees them all:
  // a churn stack, in alloc_* and not in inuse_*; site_malloc keeps 3 of its 5 100-byte blocks.
  const profile = path.join(out, 'profile.pb.gz');
  assert.deepEqual(
    (['alloc_objects', 'alloc_space', 'inuse_objects', 'inuse_space'] as const).map((index) => [pprofFlat(profile, index, 'site_churn'), pprofFlat(profile, index, 'site_malloc')]),
    [
      [1000, 5],
      [32_000, 500],
      [0, 3],
      [0, 300],
    ],
  );

  const buildId = /Build ID: ([0-9a-f]+)/.exec(execFileSync('readelf', ['-n', fixture], { encoding: 'utf8' }))?.[1];
  assert.ok(buildId, 'the fixture has a build-id');
  const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as { stacks: { frames: ReportFrame[] }[] };
  const ids = new Set(report.stacks.flatMap((stack) => stack.frames).filter((frame) => frame.module === fixture).map((frame) => frame.buildId));
  assert.deepEqual([...ids], [buildId], 'every frame in the fixture carries its build-id');
  const raw = execFileSync('go', ['tool', 'pprof', '-raw', path.join(out, 'profile.pb.gz')], { encoding: 'utf8', env: { ...process.env, HOME: out } });
  assert.match(raw, new RegExp(`^\\d+: 0x0/0x0/0x0 ${fixture} ${buildId} `, 'm'), raw);
});

test('convert: go tool pprof reads a kernel-mode profile.pb.gz with the report\'s totals and the kernel\'s build-id', { timeout: 180_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const out = path.join(scratchDir(t), 'kout');
  const run = await runCli(['kernel', '--duration', '1', '--out', out], '', 90_000);
  assert.equal(run.code, 0, `stderr: ${run.stderr}`);
  await checkOutDir(out);

  const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as { stacks: { frames: ReportFrame[] }[] };
  const ids = new Set(report.stacks.flatMap((stack) => stack.frames).filter((frame) => frame.module === '[kernel]').map((frame) => frame.buildId));
  assert.equal(ids.size, 1, `one build-id on every [kernel] frame: ${[...ids].join(', ')}`);
  const [buildId] = ids;
  assert.match(buildId ?? '', /^[0-9a-f]{40}$/);
  const raw = execFileSync('go', ['tool', 'pprof', '-raw', path.join(out, 'profile.pb.gz')], { encoding: 'utf8', env: { ...process.env, HOME: out } });
  assert.match(raw, new RegExp(`^\\d+: 0x0/0x0/0x0 \\[kernel\\] ${buildId} `, 'm'), raw);
});

test('convert: a file that is no report, or an unknown format, is one line, exit 2, and no output file', async (t) => {
  const dir = scratchDir(t);
  const output = path.join(dir, 'out.pb.gz');
  writeFileSync(path.join(dir, 'notes.txt'), 'not json');
  const cases: Array<[string[], RegExp]> = [
    [[path.join(dir, 'notes.txt'), '--to', 'pprof'], /^leakhound: .*notes\.txt is not a leakhound report: not JSON \(.*\): give a report\.json/],
    [[path.join(dir, 'missing.json'), '--to', 'pprof'], /^leakhound: cannot read .*missing\.json: ENOENT: no such file or directory: give a report\.json/],
    [[path.join(dir, 'notes.txt'), '--to', 'xml'], /^leakhound: --to "xml" is not a format leakhound writes: use one of pprof, speedscope, folded\n$/],
  ];
  for (const [args, line] of cases) {
    const run = await runCli(['convert', ...args, '--output', output], '', CLI_TIMEOUT_MS);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, line);
    assert.equal(run.stderr.trimEnd().split('\n').length, 1, run.stderr);
    assert.equal(existsSync(output), false, 'nothing written');
  }
});
