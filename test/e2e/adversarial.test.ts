// The adversarial cases, in one file so the next ones join them: bad input,
// hostile output destinations, binaries replaced under a running process,
// broken pipes and signals, frames that are not addresses. Bad input ends
// leakhound with a non-zero exit, exactly one line on stderr starting
// "leakhound:", and no report; bad option values are refused before the
// command runs (the command here would leave a marker file).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, renameSync } from 'node:fs';
import { closeSync, constants, lstatSync, mkdirSync, openSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { attachTo, release, startTarget } from '../helpers/attach.js';
import { requireBpf } from '../helpers/bpf.js';
import { assertReportMatches } from '../helpers/check-report.js';
import { runCli, startCli } from '../helpers/cli.js';
import { fixtureBinary, loadExpectation } from '../helpers/expectations.js';
import { collect, exited, lineMatching, waitFor } from '../helpers/process.js';
import { cliPath, fixtureSources } from '../helpers/paths.js';
import { readReport, type Report, stacksAt } from '../helpers/report.js';
import { traceCommand } from '../helpers/trace.js';
import { scratchDir } from '../helpers/tmp.js';
import { fixtureBinaries } from '../helpers/paths.js';
import { realpathSync } from 'node:fs';

/** Runs `leakhound ARGS` (ARGS made with a report path) and checks it was
 * refused: non-zero exit, one `leakhound:` line matching `expected`, no report. */
async function assertRefused(t: TestContext, args: (json: string) => string[], expected: RegExp = /./): Promise<string> {
  const json = path.join(scratchDir(t), 'report.json');
  const run = await runCli(args(json));
  assert.notEqual(run.code, 0, 'non-zero exit');
  assert.equal(run.signal, null);
  const lines = run.stderr.split('\n').filter((line) => line !== '');
  assert.equal(lines.length, 1, `one line on stderr: ${JSON.stringify(run.stderr)}`);
  assert.match(lines[0]!, /^leakhound: /);
  assert.match(lines[0]!, expected);
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
  await assertRefused(t, (json) => ['trace', '--pid', String(pid), '--json', json], new RegExp(`no process has PID ${pid}: check the PID`));
});

test('bad input: a command that does not exist', { timeout: 20_000 }, async (t) => {
  await assertRefused(t, (json) => ['trace', '--json', json, '--', '/nonexistent/leakhound-e2e-command'], /no such file/);
});

test('bad input: a command that is not executable', { timeout: 20_000 }, async (t) => {
  await assertRefused(t, (json) => ['trace', '--json', json, '--', path.join(fixtureSources, 'allocators.c')], /the file is not executable: make it executable/);
});

for (const [option, expected] of [
  [['--top', '-1'], /--top "-1" is not a positive whole number/],
  [['--duration', 'abc'], /--duration "abc" is not a positive number/],
  [['--min-size', 'many'], /--min-size "many"/],
  [['--max-stacks', '99999999999'], /--max-stacks 99999999999 is out of range: use 1 to 134,217,728/],
  [['--sample-every', '4294967296'], /--sample-every 4294967296 is out of range: use 1 to 4,294,967,295/],
  [['--stack-depth', '65'], /--stack-depth 65 is out of range: use 1 to 64/],
  [['--pid', '4194305'], /--pid 4194305 is out of range/],
] as const) {
  test(`bad input: ${option.join(' ')}`, { timeout: 20_000 }, async (t) => {
    const marker = path.join(scratchDir(t), 'ran');
    await assertRefused(t, (json) => ['trace', '--json', json, ...option, '--', 'touch', marker], expected);
    assert.equal(existsSync(marker), false, 'the command did not run');
  });
}

// ---- outputs: devices, FIFOs, unwritable destinations, broken stdout/stderr ----

/** Runs leakhound to its end with fallback files going to `tmp` ($TMPDIR);
 * `broken` names a stream whose reading end is closed before leakhound writes. */
async function runWithStreams(args: string[], tmp: string, options: { input?: string; broken?: 'stdout' | 'stderr' } = {}) {
  const child = startCli(args, { env: { ...process.env, TMPDIR: tmp } });
  if (options.broken) child[options.broken]!.destroy();
  const stdout = options.broken === 'stdout' ? () => '' : collect(child.stdout);
  const stderr = options.broken === 'stderr' ? () => '' : collect(child.stderr);
  child.stdin!.end(options.input ?? '');
  const exit = await exited(child, 30_000);
  return { ...exit, stdout: stdout(), stderr: stderr() };
}

/** leakhound's one line about a failed destination, and the fallback file it names, parsed. */
function fallbackNamed(stderr: string, failed: RegExp): { line: string; path: string } {
  const lines = stderr.split('\n').filter((line) => line.startsWith('leakhound: cannot'));
  assert.equal(lines.length, 1, `one line about the failed destination: ${JSON.stringify(stderr)}`);
  const match = lines[0]!.match(/: the report was saved in (\S+)$/);
  assert.ok(match, lines[0]);
  assert.match(lines[0]!, failed);
  assert.equal(lstatSync(match[1]!).mode & 0o777, 0o600, 'the fallback file is private');
  return { line: lines[0]!, path: match[1]! };
}

/** A tmpfs mounted at `dir` for the length of `body`. */
async function withTmpfs(dir: string, options: string, body: () => Promise<void>): Promise<void> {
  mkdirSync(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  try {
    await body();
  } finally {
    execFileSync('umount', [dir]);
  }
}

/** Refused as a usage error before the command ran: exit 2, one line, and nothing new in `dir`. */
async function assertRefusedUpFront(dir: string, args: string[], expected: RegExp): Promise<void> {
  const before = readdirSync(dir).sort();
  const marker = path.join(dir, 'ran');
  const run = await runCli(['trace', ...args, '--', 'touch', marker]);
  assert.equal(run.code, 2, `exit 2; stderr: ${run.stderr}`);
  assert.deepEqual(run.stderr.split('\n').filter((line) => line !== ''), [run.stderr.trim()], 'one line');
  assert.match(run.stderr.trim(), expected);
  assert.deepEqual(readdirSync(dir).sort(), before, 'the command did not run and nothing was left behind');
}

const allocatorsTarget = loadExpectation('allocators');

test('outputs: a character device given as --json is written in place, never replaced', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const node = path.join(scratchDir(t), 'n');
  execFileSync('mknod', ['-m', '666', node, 'c', '1', '3']);
  for (const destination of [node, '/dev/null']) {
    const run = await runCli(['trace', '--json', destination, '--', '/bin/true']);
    assert.equal(run.code, 0, run.stderr);
    const after = lstatSync(destination);
    assert.ok(after.isCharacterDevice(), `${destination} is still a character device`);
    assert.equal(after.rdev, 0x103, `${destination} is still device 1,3 (makedev(1, 3))`);
  }
});

test('outputs: --json >(cmd) and a FIFO receive the whole report', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const dir = scratchDir(t);
  const viaSubstitution = path.join(dir, 'substituted.json');
  // bash hands leakhound /dev/fd/63, a pipe to cat; `wait $!` waits for cat.
  const bash = spawnSync('bash', ['-c', '"$0" "$1" trace --json >(cat > "$2") -- "$3"; code=$?; wait $!; exit $code', process.execPath, cliPath, viaSubstitution, fixtureBinary(allocatorsTarget)], { encoding: 'utf8' });
  assert.equal(bash.status, 0, bash.stderr);
  assertReportMatches(readReport(viaSubstitution), allocatorsTarget);

  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const copy = path.join(dir, 'from-fifo.json');
  // A reader of our own is there from the start (leakhound refuses a FIFO nobody reads); cat drains it.
  const holder = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const copyFd = openSync(copy, 'w');
  const reader = spawn('cat', [fifo], { stdio: ['ignore', copyFd, 'inherit'] });
  closeSync(copyFd);
  const run = await runCli(['trace', '--json', fifo, '--', fixtureBinary(allocatorsTarget)]);
  closeSync(holder);
  assert.equal(run.code, 0, run.stderr);
  await exited(reader, 5_000);
  assert.ok(lstatSync(fifo).isFIFO(), 'still a FIFO');
  assertReportMatches(readReport(copy), allocatorsTarget);
});

test('outputs: an unusable destination is refused before the command runs', { timeout: 30_000 }, async (t) => {
  const dir = scratchDir(t);
  mkdirSync(path.join(dir, 'a-directory'));
  symlinkSync(path.join(dir, 'victim.json'), path.join(dir, 'planted.json'));
  execFileSync('mkfifo', [path.join(dir, 'unread')]);
  writeFileSync(path.join(dir, 'a-file'), '');
  const cases: Array<[string[], RegExp]> = [
    [['--json', path.join(dir, 'a-directory')], /^leakhound: --json \S+a-directory: it is a directory: name a file, or use --out DIR for a directory$/],
    [['--json', path.join(dir, 'missing', 'r.json')], /^leakhound: --json \S+: directory \S+missing does not exist: create the directory, or name a file in another one$/],
    [['--json', path.join(dir, 'planted.json')], /^leakhound: --json \S+planted\.json: it is a symbolic link, which leakhound does not follow: name the file it points to$/],
    [['--json', path.join(dir, 'unread')], /^leakhound: --json \S+unread: the FIFO has no reader: start its reader first$/],
    [['--json', '-'], /^leakhound: --json - would mix the JSON report with the command's own stdout: name a file, e.g\. --json report\.json$/],
    [['--json', '/dev/stdout'], /^leakhound: --json \/dev\/stdout would mix the JSON report/],
    [['--out', path.join(dir, 'a-file')], /^leakhound: refusing output directory \S+a-file: it is not a directory/],
  ];
  for (const [args, expected] of cases) await assertRefusedUpFront(dir, args, expected);
  assert.equal(existsSync(path.join(dir, 'victim.json')), false, 'nothing written through the link');
});

test('outputs: a read-only file system is refused before the command runs', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const dir = scratchDir(t);
  const readOnly = path.join(dir, 'ro');
  await withTmpfs(readOnly, 'ro', async () => {
    await assertRefusedUpFront(dir, ['--json', path.join(readOnly, 'r.json')], /^leakhound: cannot write in \S+\/ro: it is on a read-only file system: choose a writable directory$/);
    await assertRefusedUpFront(dir, ['--out', path.join(readOnly, 'out', 'deeper')], /^leakhound: cannot write in \S+\/ro: it is on a read-only file system: choose a writable directory$/);
  });
});

test('outputs: an --out directory leakhound made is removed again when it fails before the report', { timeout: 30_000 }, async (t) => {
  const dir = scratchDir(t);
  const made = path.join(dir, 'new', 'out');
  const run = await runCli(['trace', '--out', made, '--', '/nonexistent/leakhound-e2e-command']);
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /^leakhound: cannot execute '\/nonexistent\/leakhound-e2e-command'/);
  assert.deepEqual(readdirSync(dir), [], 'neither new/ nor new/out/ is left');

  const existing = path.join(dir, 'existing');
  mkdirSync(existing);
  await runCli(['trace', '--out', existing, '--', '/nonexistent/leakhound-e2e-command']);
  assert.ok(statSync(existing).isDirectory(), 'a directory leakhound did not make stays');
});

test('outputs: a full disk after the trace keeps the report in a fallback file and the command\'s exit code', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const dir = scratchDir(t);
  const tiny = path.join(dir, 'tiny');
  const widgets = loadExpectation('widgets');
  await withTmpfs(tiny, 'size=4k', async () => {
    // Fill it: the check before the trace still creates its empty probe file, the report's write fails.
    writeFileSync(path.join(tiny, 'filler'), Buffer.alloc(4096));
    const run = await runWithStreams(['trace', '--json', path.join(tiny, 'r.json'), '--', fixtureBinary(widgets)], dir, { input: 'gizmo\n' });
    assert.equal(run.code, widgets.exitCode, `the command's exit code, not 1; stderr: ${run.stderr}`);
    const { path: saved } = fallbackNamed(run.stderr, /^leakhound: cannot write \S+\/tiny\/r\.json: ENOSPC: no space left on device: the report was saved in \S+\/leakhound-report-\d+-\d{8}T\d{6}Z\.json$/);
    assert.equal(path.dirname(saved), dir, 'in $TMPDIR');
    const report = readReport(saved);
    assert.equal(report.target.exitCode, widgets.exitCode);
    assertReportMatches(report, widgets);
    assert.deepEqual(readdirSync(tiny), ['filler'], 'no temporary file left on the full disk');
  });
});

test('outputs: a closed stdout ends quietly, the text report kept in a fallback file', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const dir = scratchDir(t);
  const run = await runWithStreams(['trace', '--', fixtureBinary(allocatorsTarget)], dir, { broken: 'stdout' });
  assert.equal(run.signal, null);
  assert.equal(run.code, allocatorsTarget.exitCode, run.stderr);
  assert.doesNotMatch(run.stderr, /\n\s+at |Error:/, 'no stack trace');
  const { path: saved } = fallbackNamed(run.stderr, /^leakhound: cannot write stdout: EPIPE: broken pipe: the report was saved in \S+\.txt$/);
  assert.match(readFileSync(saved, 'utf8'), new RegExp(`^${allocatorsTarget.inUseAtExit.bytes.toLocaleString('en-US')} bytes \\(.*\\) outstanding in ${allocatorsTarget.inUseAtExit.blocks} allocations;`, 'm'));
});

test('outputs: a broken stderr neither crashes leakhound nor stops the trace', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const dir = scratchDir(t);
  const json = path.join(dir, 'report.json');
  const run = await runWithStreams(['trace', '--json', json, '--', fixtureBinary(allocatorsTarget)], dir, { broken: 'stderr' });
  assert.equal(run.signal, null);
  assert.equal(run.code, allocatorsTarget.exitCode, 'the command\'s exit code');
  // The write into the closed pipe raised SIGPIPE in leakhound itself: not a request to stop.
  const report = readReport(json);
  assert.equal(report.target.exitCode, allocatorsTarget.exitCode, 'the command ended while traced');
  assertReportMatches(report, allocatorsTarget);
  assert.deepEqual(readdirSync(dir).sort(), ['report.json'], 'no fallback file: the report reached --json');
});

test('outputs: with stderr closed (2>&-) the trace runs to its end', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const json = path.join(scratchDir(t), 'report.json');
  const run = spawnSync('sh', ['-c', 'exec "$0" "$1" trace --json "$2" -- "$3" 2>&-', process.execPath, cliPath, json, fixtureBinary(allocatorsTarget)], { encoding: 'utf8' });
  assert.equal(run.status, allocatorsTarget.exitCode);
  const report = readReport(json);
  assert.equal(report.target.exitCode, allocatorsTarget.exitCode, 'the command ended while traced');
  assertReportMatches(report, allocatorsTarget);
});

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

/** The end of user space with 4-level paging: where every process's code and stacks lie. */
const USER_TOP_4_LEVEL = 0x7ffffffff000n;

test('frames: a frame-pointer chain into values that are not addresses ends at the last good frame, cut, partial, one stack', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const { run, report } = await traceCommand(t, [path.join(fixtureBinaries, 'hostile-frames')]);
  assert.equal(run.code, 0, run.stderr);
  const { outstandingBytes, outstandingAllocations, allocations, frees, cutStacks, partialStacks } = report.totals;
  assert.deepEqual({ outstandingBytes, outstandingAllocations, allocations, frees, cutStacks, partialStacks }, { outstandingBytes: 6 * 40, outstandingAllocations: 6, allocations: 6, frees: 0, cutStacks: 1, partialStacks: 1 });
  // Six different garbage return addresses, one stack: the walk stops before each.
  const stacks = stacksAt(report, 'site_hostile_frames');
  assert.equal(stacks.length, 1, JSON.stringify(report.stacks.map((s) => s.frames.map((f) => f.address))));
  assert.deepEqual(
    stacks[0]!.frames.map((f) => f.symbol),
    ['site_hostile_frames', 'through_fake_frames', 'fake_frame_marker'],
  );
  assert.equal(stacks[0]!.partial, true);
  for (const frame of report.stacks.flatMap((s) => s.frames)) {
    assert.ok(BigInt(frame.address) > 0n && BigInt(frame.address) < USER_TOP_4_LEVEL, `${frame.address} is a user address`);
  }
});

test('frames: stripped dash, built without frame pointers, is named so and its stacks are whole, from its .eh_frame', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const json = path.join(scratchDir(t), 'report.json');
  // In / with PATH alone in its environment, Debian 12's dash 0.5.12 makes
  // 8 allocations and 3 frees for `-c true`: it keeps a copy of each
  // variable and of the working directory, so both are fixed here.
  const child = startCli(['trace', '--verbose', '--json', json, '--', '/bin/dash', '-c', 'true'], { cwd: '/', env: { PATH: process.env.PATH } });
  const stderr = collect(child.stderr!);
  const exit = await exited(child, 20_000);
  assert.equal(exit.code, 0, stderr());
  const dash = realpathSync('/bin/dash');
  assert.match(stderr(), new RegExp(`code without frame pointers: (.*, )?${dash}(,|$)`, 'm'));
  const report = readReport(json);
  const { outstandingBytes, outstandingAllocations, allocations, frees } = report.totals;
  assert.deepEqual({ outstandingBytes, outstandingAllocations, allocations, frees }, { outstandingBytes: 100, outstandingAllocations: 5, allocations: 8, frees: 3 });
  // Its unnamed frames are told apart by offset: one stack per call path.
  const inDash = report.stacks.filter((s) => s.frames[0]?.module === dash);
  assert.deepEqual(
    inDash.reduce((sum, s) => ({ bytes: sum.bytes + s.bytes, allocations: sum.allocations + s.allocations }), { bytes: 0, allocations: 0 }),
    { bytes: 98, allocations: 4 },
  );
  for (const stack of report.stacks) {
    const symbols = stack.frames.map((f) => f.symbol);
    assert.equal(stack.partial, false, symbols.join(' <- '));
    assert.ok(symbols.includes('__libc_start_call_main'), `reaches the start of the program: ${symbols.join(' <- ')}`);
  }
  assert.equal(report.totals.partialStacks, 0);
});

// ---- messages, bounds and signals ----

test('bad input: a directory as the command', { timeout: 20_000 }, async (t) => {
  await assertRefused(t, (json) => ['trace', '--json', json, '--', fixtureSources], /it is a directory/);
});

test('bad input: leakhound kernel given a command to run', { timeout: 20_000 }, async (t) => {
  await assertRefused(t, (json) => ['kernel', '--json', json, '--', '/bin/true'], /leakhound kernel traces the whole kernel and runs no command \('\/bin\/true' was given\)/);
});

test('bad input: a thread id given as --pid names its process', { timeout: 20_000 }, async (t) => {
  if (!requireBpf(t)) return;
  // A process with a second thread, which prints that thread's id.
  const child = spawn('python3', ['-c', 'import threading,time\nt=threading.Thread(target=lambda: (print(threading.get_native_id(), flush=True), time.sleep(30)), daemon=True)\nt.start(); time.sleep(30)']);
  t.after(() => child.kill('SIGKILL'));
  const [tid] = await lineMatching(child.stdout!, /^\d+$/, 10_000);
  await assertRefused(t, (json) => ['trace', '--pid', tid, '--json', json], new RegExp(`${tid} is a thread of process ${child.pid}, not a process: give --pid ${child.pid}`));
});

test('bad input: a zombie given as --pid', { timeout: 20_000 }, async (t) => {
  if (!requireBpf(t)) return;
  // The forked child ends at once, and its parent never waits for it.
  const child = spawn('python3', ['-c', 'import os, time\npid = os.fork()\nif pid == 0: os._exit(0)\nprint(pid, flush=True); time.sleep(30)']);
  t.after(() => child.kill('SIGKILL'));
  const [zombie] = await lineMatching(child.stdout!, /^\d+$/, 10_000);
  await waitFor(() => /^State:\s+Z/m.test(readFileSync(`/proc/${zombie}/status`, 'utf8')), 5_000);
  await assertRefused(t, (json) => ['trace', '--pid', zombie, '--json', json], /has exited and is a zombie/);
});

test('bad input: launching under strace -f names the other tracer', { timeout: 60_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const json = path.join(scratchDir(t), 'report.json');
  const child = spawn('strace', ['-f', '-o', '/dev/null', process.execPath, cliPath, 'trace', '--json', json, '--', '/bin/true'], { stdio: 'pipe' });
  const stderr = collect(child.stderr);
  const run = await exited(child, 50_000);
  assert.equal(run.code, 1, stderr());
  assert.match(stderr(), /^leakhound: cannot hold \/(usr\/)?bin\/true before its first instruction \(PTRACE_TRACEME\): Operation not permitted \(leakhound itself is traced by PID \d+, .*\): a process can have one tracer/);
  assert.equal(stderr().trimEnd().split('\n').length, 1, stderr());
  assert.equal(existsSync(json), false);
});

test('options: numbers with an exponent are numbers (--duration 1e9)', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const { run, report } = await traceCommand(t, ['/bin/true'], ['--duration', '1e9']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(report.target.exitCode, 0);
});

/** A shell that exits with its own code for each signal it traps, after
 * saying which it got, and loops until then. */
const TRAPPING_SHELL = 'trap "echo got INT; exit 7" INT; trap "echo got TERM; exit 8" TERM; trap "echo got HUP; exit 9" HUP; echo ready; while :; do sleep 0.05; done';

async function launchTraced(t: TestContext, command: string[]): Promise<{ child: ChildProcess; json: string; stdout: () => string; stderr: () => string; target: number }> {
  const json = path.join(scratchDir(t), 'report.json');
  const child = startCli(['trace', '--json', json, '--', ...command]);
  t.after(() => child.kill('SIGKILL'));
  const stdout = collect(child.stdout);
  const [, target] = await lineMatching(child.stderr!, /attached to PID (\d+)/, 20_000);
  const stderr = collect(child.stderr);
  await waitFor(() => stdout().includes('ready'), 10_000);
  return { child, json, stdout, stderr, target: Number(target) };
}

for (const [signal, code] of [['SIGINT', 7], ['SIGTERM', 8], ['SIGHUP', 9]] as const) {
  test(`signals: ${signal} sent to leakhound reaches a launched command as ${signal}; the report is what it held at its exit`, { timeout: 40_000 }, async (t) => {
    if (!requireBpf(t)) return;
    const { child, json, stdout } = await launchTraced(t, ['sh', '-c', TRAPPING_SHELL]);
    child.kill(signal);
    const run = await exited(child, 20_000);
    assert.equal(run.code, code, `the command's own exit code for ${signal}`);
    assert.equal(stdout().match(/got \w+/g)?.join(','), `got ${signal.slice(3)}`);
    assert.equal(readReport(json).target.exitCode, code);
  });
}

test('signals: a second signal kills a launched command that ignores the first; the report follows, and nothing is left behind', { timeout: 40_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const { child, json, stderr, target } = await launchTraced(t, ['sh', '-c', 'trap "" TERM INT; echo ready; while :; do sleep 0.05; done']);
  child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(existsSync(json), false, 'the trace goes on while the command runs');
  child.kill('SIGINT');
  const run = await exited(child, 20_000);
  assert.equal(run.code, 137, 'the command was killed with SIGKILL');
  assert.match(stderr(), new RegExp(`SIGINT again: killing the command \\(PID ${target}\\) with SIGKILL`));
  assert.equal(existsSync(`/proc/${target}`), false, 'the command is gone');
  const report = readReport(json);
  assert.equal(report.target.pid, target);
  assert.equal(report.target.exitCode, 137);
});

test('signals: Ctrl-C at a terminal reaches the command once, not once more from leakhound', { timeout: 40_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const json = path.join(scratchDir(t), 'report.json');
  // script(1) gives leakhound a terminal; ETX (Ctrl-C) on it signals the foreground group.
  const counting = 'n=0; trap \'n=$((n+1)); echo "INT $n"\' INT; echo ready; i=0; while [ $i -lt 40 ]; do sleep 0.05; i=$((i+1)); done; exit $n';
  // exec: script(1) runs the line with $SHELL -c, and a non-interactive dash
  // that stays as leakhound's parent dies of the same Ctrl-C.
  const line = 'exec ' + [process.execPath, cliPath, 'trace', '--json', json, '--', 'sh', '-c', counting].map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(' ');
  const child = spawn('script', ['-qec', line, '/dev/null'], { stdio: 'pipe' });
  t.after(() => child.kill('SIGKILL'));
  const output = collect(child.stdout);
  await waitFor(() => output().includes('ready'), 20_000);
  child.stdin!.write('\x03');
  const run = await exited(child, 20_000);
  assert.equal(output().match(/INT \d/g)?.join(','), 'INT 1', output());
  assert.equal(run.code, 1, 'the command saw one SIGINT and exits 1');
  assert.equal(readReport(json).target.exitCode, 1);
});

test('signals: SIGHUP (a dropped ssh session) in attach mode writes the report and leaves the target alone', { timeout: 40_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const target = spawn('sh', ['-c', 'while :; do sleep 0.05; done']);
  t.after(() => target.kill('SIGKILL'));
  const json = path.join(scratchDir(t), 'report.json');
  const child = startCli(['trace', '--pid', String(target.pid), '--json', json]);
  t.after(() => child.kill('SIGKILL'));
  await lineMatching(child.stderr!, /attached to PID/, 20_000);
  child.kill('SIGHUP');
  const run = await exited(child, 20_000);
  assert.equal(run.code, 0);
  assert.equal(readReport(json).target.pid, target.pid);
  assert.equal(target.exitCode, null, 'the target still runs');
  assert.equal(target.signalCode, null);
});
