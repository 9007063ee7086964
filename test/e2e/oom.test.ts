// The OOM flight recorder: the oom-leak fixture leaks 1 MiB blocks inside a
// cgroup with a 64 MiB limit and no swap until the OOM killer ends it; the
// report written at the kill names the victim, its cgroup and its limit,
// and holds every block the fixture had: the fixture counts in a file the
// blocks malloc returned, and each one's allocation event was sent before
// malloc returned, so before the kill (the final drain reads them all).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { runCli, startCli } from '../helpers/cli.js';
import { memoryCgroup } from '../helpers/memory-cgroup.js';
import { fixtureBinaries } from '../helpers/paths.js';
import { collect, exited, lineMatching } from '../helpers/process.js';
import { readReport, siteFigures } from '../helpers/report.js';
import { scratchDir } from '../helpers/tmp.js';

const FIXTURE = path.join(fixtureBinaries, 'oom-leak');
const LIMIT = 64 << 20;
const BLOCK = 1 << 20;
const SITE = 'oom_leak_block';

/** The report's oom section, written here apart from src/ as test/helpers/report.ts writes the rest. */
interface OomSection {
  victimPid: number;
  command: string | null;
  cgroup: string | null;
  at: string;
  memoryMaxBytes: number | null;
  memoryCurrentBytes: number | null;
  memoryEvents: Record<string, number> | null;
}

function oomOf(file: string): OomSection {
  const oom = (JSON.parse(readFileSync(file, 'utf8')) as { oom?: OomSection }).oom;
  assert.ok(oom, `${file} has no oom section`);
  return oom;
}

/** The count the fixture keeps of the blocks malloc returned (a little-endian 64-bit word). */
function countFile(dir: string): string {
  const file = path.join(dir, 'returned');
  writeFileSync(file, Buffer.alloc(4096));
  return file;
}

test('a launched command killed by the OOM killer: the report written at the kill holds its leak', async (t) => {
  if (!requireBpf(t)) return;
  const dir = scratchDir(t);
  const cgroup = memoryCgroup(t, LIMIT);
  const count = countFile(dir);
  const json = path.join(dir, 'report.json');
  const started = Date.now();
  const run = await runCli(['trace', '--json', json, '--', FIXTURE, cgroup.dir, count], '', 60_000);
  const returned = Number(readFileSync(count).readBigUInt64LE(0));
  t.diagnostic(`${returned} blocks in ${Date.now() - started} ms (cgroup v${cgroup.version}); stderr: ${run.stderr.trim()}`);
  // The command's status: SIGKILL.
  assert.equal(run.code, 137, `stderr: ${run.stderr}`);
  assert.match(run.stderr, /the OOM killer chose PID \d+ in cgroup \S+: writing the report/);
  const report = readReport(json);
  const oom = oomOf(json);
  assert.equal(oom.victimPid, report.target.pid);
  assert.equal(oom.command, 'oom-leak'.slice(0, 15));
  assert.equal(oom.cgroup, cgroup.path);
  assert.equal(oom.memoryMaxBytes, LIMIT);
  assert.ok(Number.isFinite(Date.parse(oom.at)) && Date.parse(oom.at) >= started, oom.at);
  // Counted by the kernel just after the tracepoint: its figure is the reader's race, its presence is not.
  assert.equal(typeof oom.memoryEvents?.oom_kill, 'number', JSON.stringify(oom.memoryEvents));
  // Nearly the limit: what the cgroup held besides the blocks is a few pages.
  assert.ok(returned >= LIMIT / BLOCK - 8 && returned <= LIMIT / BLOCK, `${returned} blocks`);
  // One site, whatever the walks made of it (a first walk cut short at a table not built yet is a stack of its own).
  assert.deepEqual(siteFigures(report, SITE), { bytes: returned * BLOCK, allocations: returned });
  assert.equal(report.totals.lostEvents, 0);
});

// One kill, two watchers (one leakhound start each, side by side): kernel
// mode ends with any victim; a trace of another process goes on.
test('leakhound kernel ends at any OOM kill with the report; a trace of a process that is not the victim goes on', async (t) => {
  if (!requireBpf(t)) return;
  const dir = scratchDir(t);
  const cgroup = memoryCgroup(t, LIMIT);
  const json = path.join(dir, 'kernel.json');
  const kernel = startCli(['kernel', '--json', json]);
  const kernelErr = collect(kernel.stderr);
  const sleeper = spawn('sleep', ['120'], { stdio: 'ignore' });
  t.after(() => sleeper.kill('SIGKILL'));
  const user = startCli(['trace', '--pid', String(sleeper.pid)]);
  const userErr = collect(user.stderr);
  const userOut = collect(user.stdout);
  await Promise.all([lineMatching(kernel.stderr!, /^leakhound: attached /, 60_000), lineMatching(user.stderr!, /^leakhound: attached to PID /, 60_000)]);
  const fixture = spawn(FIXTURE, [cgroup.dir], { stdio: 'ignore' });
  const told = lineMatching(user.stderr!, new RegExp(`^leakhound: the OOM killer chose PID ${fixture.pid}, which is not traced: tracing on$`), 30_000);
  assert.deepEqual(await exited(fixture, 30_000), { code: null, signal: 'SIGKILL' });
  // Kernel mode ends by itself, with leakhound's own success.
  assert.deepEqual(await exited(kernel, 30_000), { code: 0, signal: null }, `stderr: ${kernelErr()}`);
  const oom = oomOf(json);
  assert.equal(oom.victimPid, fixture.pid);
  assert.equal(oom.cgroup, cgroup.path);
  assert.equal(oom.memoryMaxBytes, LIMIT);
  const report = JSON.parse(readFileSync(json, 'utf8')) as { mode: string; stacks: unknown[] };
  assert.equal(report.mode, 'kernel');
  assert.ok(report.stacks.length > 0);
  // The trace of the sleeper said so, and runs until stopped.
  await told;
  user.kill('SIGINT');
  assert.deepEqual(await exited(user, 30_000), { code: 0, signal: null }, userErr());
  assert.match(userOut(), /^leakhound: user mode, pid \d+/);
  assert.doesNotMatch(userOut(), /OOM kill/);
});
