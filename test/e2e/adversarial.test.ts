// The adversarial cases, in one file so the next ones join them: bad input,
// hostile output destinations, binaries replaced under a running process,
// broken pipes and signals, frames that are not addresses. Bad input ends
// leakhound with a non-zero exit, exactly one line on stderr starting
// "leakhound:", and no report; bad option values are refused before the
// command runs (the command here would leave a marker file).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { attachTo, release, startTarget } from '../helpers/attach.js';
import { requireBpf } from '../helpers/bpf.js';
import { assertReportMatches } from '../helpers/check-report.js';
import { runCli } from '../helpers/cli.js';
import { fixtureBinary, loadExpectation } from '../helpers/expectations.js';
import { exited, lineMatching } from '../helpers/process.js';
import { fixtureSources } from '../helpers/paths.js';
import { readReport, type Report, stacksAt } from '../helpers/report.js';
import { scratchDir } from '../helpers/tmp.js';

async function assertRefused(t: TestContext, args: (json: string) => string[]): Promise<string> {
  const json = path.join(scratchDir(t), 'report.json');
  const run = await runCli(['trace', ...args(json)]);
  assert.notEqual(run.code, 0, 'non-zero exit');
  assert.equal(run.signal, null);
  const lines = run.stderr.split('\n').filter((line) => line !== '');
  assert.equal(lines.length, 1, `one line on stderr: ${JSON.stringify(run.stderr)}`);
  assert.match(lines[0]!, /^leakhound: /);
  assert.equal(existsSync(json), false, 'no report written');
  return json;
}

/** A pid that was just released: the kernel hands out pids in order, so it stays free. */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await exited(child, 5_000);
  return child.pid!;
}

test('bad input: a pid that does not exist', { timeout: 20_000 }, async (t) => {
  const pid = await deadPid();
  await assertRefused(t, (json) => ['--pid', String(pid), '--json', json]);
});

test('bad input: a command that does not exist', { timeout: 20_000 }, async (t) => {
  await assertRefused(t, (json) => ['--json', json, '--', '/nonexistent/leakhound-e2e-command']);
});

test('bad input: a command that is not executable', { timeout: 20_000 }, async (t) => {
  await assertRefused(t, (json) => ['--json', json, '--', path.join(fixtureSources, 'allocators.c')]);
});

for (const option of [
  ['--top', '-1'],
  ['--duration', 'abc'],
  ['--min-size', 'many'],
]) {
  test(`bad input: ${option.join(' ')}`, { timeout: 20_000 }, async (t) => {
    const marker = path.join(scratchDir(t), 'ran');
    await assertRefused(t, (json) => ['--json', json, ...option, '--', 'touch', marker]);
    assert.equal(existsSync(marker), false, 'the command did not run');
  });
}

// ---- outputs: devices, FIFOs, unwritable destinations, broken stdout/stderr ----

// ---- upgrades: binaries and libraries replaced while the target runs ----

const attachTarget = loadExpectation('attach');
/** The C library this machine's programs load. */
const systemLibc = readFileSync('/proc/self/maps', 'utf8').match(/\/\S*\/libc\.so\.6$/m)![0];

/** What a package upgrade or a deploy does: a new file renamed over the old. */
function replaceOnDisk(file: string, by: string): void {
  copyFileSync(by, `${file}.new`);
  renameSync(`${file}.new`, file);
}

/** The attach fixture run from a copy at `program`, up to its "ready". */
async function startCopy(t: TestContext, program: string, env: NodeJS.ProcessEnv = process.env): Promise<ChildProcess> {
  copyFileSync(fixtureBinary(attachTarget), program);
  const target = spawn(program, [], { stdio: ['ignore', 'pipe', 'inherit'], env });
  t.after(() => target.kill('SIGKILL'));
  await lineMatching(target.stdout!, /^ready \d+$/, 5_000);
  return target;
}

/** Attaches, lets the target leak and exit, and reads the report. */
async function traceToEnd(t: TestContext, target: ChildProcess, options: string[]): Promise<{ report: Report; stderr: string }> {
  const tracer = await attachTo(t, target.pid!, options);
  await release(target);
  assert.deepEqual(await exited(tracer.cli, 15_000), { code: 0, signal: null }, `stderr: ${tracer.stderr()}`);
  return { report: readReport(tracer.json), stderr: tracer.stderr() };
}

test('upgrades: an executable replaced by another program is read as the one that runs', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const program = path.join(scratchDir(t), 'app');
  const target = await startCopy(t, program);
  replaceOnDisk(program, fixtureBinary(loadExpectation('allocators')));
  const { report, stderr } = await traceToEnd(t, target, ['--verbose']);
  assertReportMatches(report, attachTarget);
  const source = readFileSync(path.join(fixtureSources, 'attach.c'), 'utf8').split('\n');
  for (const site of attachTarget.sites) {
    const line = source.findIndex((text) => text.startsWith(`NOINLINE void *${site.symbol}(`)) + 1;
    for (const { frames } of stacksAt(report, site.symbol)) assert.deepEqual([frames[0]!.module, frames[0]!.line], [program, line], site.symbol);
  }
  const named = stderr.split('\n').filter((text) => text === `leakhound: ${program} was replaced on disk after the process mapped it; reading the mapped copy`);
  assert.equal(named.length, 1, `named once in: ${stderr}`);
});

for (const forced of [false, true]) {
  test(`upgrades: a C library replaced while the target runs is still probed${forced ? ', named with --allocator' : ''}`, { timeout: 30_000 }, async (t) => {
    if (!requireBpf(t)) return;
    const dir = scratchDir(t);
    const libc = path.join(dir, 'libc.so.6');
    copyFileSync(systemLibc, libc);
    const target = await startCopy(t, path.join(dir, 'app'), { ...process.env, LD_LIBRARY_PATH: dir });
    replaceOnDisk(libc, '/bin/true');
    const { report, stderr } = await traceToEnd(t, target, forced ? ['--allocator', libc] : []);
    assert.ok(stderr.includes(`probes on ${libc})`), `the replaced copy is probed: ${stderr}`);
    assertReportMatches(report, attachTarget);
  });
}

test('upgrades: --allocator naming an object the target does not map is refused', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const target = await startTarget(t, attachTarget);
  const unmapped = path.join(scratchDir(t), 'libc.so.6');
  copyFileSync(systemLibc, unmapped);
  const json = path.join(scratchDir(t), 'report.json');
  const run = await runCli(['trace', '--pid', String(target.pid), '--allocator', unmapped, '--json', json]);
  // Exit 2, as for any option naming something that cannot be used.
  assert.deepEqual([run.code, run.stderr], [2, `leakhound: the target does not map ${unmapped}: give --allocator an object listed in the target's /proc/PID/maps, or leave it out\n`]);
  assert.equal(existsSync(json), false, 'no report written');
  assert.equal(target.exitCode, null, 'the target runs on');
});

// ---- frames: values that are not addresses, code without frame pointers ----

// ---- messages, bounds and signals ----
