// --follow-children: a prefork server (test/fixtures/prefork.c) whose
// workers each leak their own amount, one of them becoming another program
// (the allocators fixture, preloaded with the CET allocator: another
// allocator, probed at its exec). Every process comes out exact, per site
// and per process, in one report.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { cgroup2Root } from '../helpers/cgroup.js';
import { startCli } from '../helpers/cli.js';
import { fixtureBinary, loadExpectation, siteBytes } from '../helpers/expectations.js';
import { fixtureBinaries, fixtureSources } from '../helpers/paths.js';
import { collect, exited, waitFor } from '../helpers/process.js';
import { readReport, type Report, siteFigures } from '../helpers/report.js';
import { scratchDir } from '../helpers/tmp.js';
import { traceCommand } from '../helpers/trace.js';

const allocators = loadExpectation('allocators');
const prefork = path.join(fixtureBinaries, 'prefork');
const CET_ALLOCATOR = path.join(fixtureBinaries, 'libcetmalloc.so');

/** Outstanding bytes and blocks per process, in pid order. */
function perProcess(report: Report): string[] {
  return (report.processes ?? []).map((p) => `${p.outstandingBytes} bytes in ${p.outstandingAllocations}`);
}

test('follow-children: a prefork parent and its three workers, each exact, in one report', { timeout: 60_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const { run, report } = await traceCommand(t, [prefork], ['--follow-children']);
  assert.equal(run.code, 0, run.stderr);
  // Forked in order, so their pids rise: parent first, then workers 0, 1, 2.
  assert.deepEqual(perProcess(report), ['1024 bytes in 2', '1000 bytes in 1', '4000 bytes in 2', '9000 bytes in 3']);
  assert.deepEqual(siteFigures(report, 'site_parent'), { bytes: 1024, allocations: 2 });
  assert.deepEqual(siteFigures(report, 'site_worker'), { bytes: 14_000, allocations: 6 });
  assert.deepEqual(siteFigures(report, 'site_scratch'), { bytes: 0, allocations: 0 });
  const pids = (report.processes ?? []).map((p) => p.pid);
  assert.equal(pids[0], report.target.pid);
  assert.deepEqual(report.processes?.[0]?.exitCode, 0);
  assert.deepEqual(report.stacks.find((s) => s.frames[0]?.symbol === 'site_parent')?.pids, [pids[0]]);
  assert.deepEqual(report.totals.outstandingBytes, 1024 + 14_000);
});

test('follow-children: a worker that execs a program on another allocator is probed at its exec, exact', { timeout: 60_000 }, async (t) => {
  if (!requireBpf(t)) return;
  // The last worker execs env, which execs the allocators fixture on the CET allocator.
  const script = path.join(fixtureSources, 'prefork-exec.sh');
  const { run, report } = await traceCommand(t, ['env', `PREFORK_PROGRAM=${fixtureBinary(allocators)}`, `PREFORK_PRELOAD=${CET_ALLOCATOR}`, prefork, script], ['--follow-children']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, new RegExp(`exec'd \\S*allocators: 19 probes on ${CET_ALLOCATOR}`));
  const processes = report.processes ?? [];
  assert.equal(processes.length, 4, JSON.stringify(processes));
  assert.deepEqual(perProcess(report).slice(0, 3), ['1024 bytes in 2', '1000 bytes in 1', '4000 bytes in 2']);
  assert.deepEqual(perProcess(report)[3], `${allocators.inUseAtExit.bytes} bytes in ${allocators.inUseAtExit.blocks}`);
  assert.deepEqual(processes[3]?.command, [fixtureBinary(allocators)]);
  for (const site of allocators.sites) {
    assert.deepEqual(siteFigures(report, site.symbol), { bytes: siteBytes(site), allocations: site.blocks }, site.symbol);
  }
});

test('follow-children: attached to a running shell, the server it becomes and its workers, each exact', { timeout: 60_000 }, async (t) => {
  if (!requireBpf(t)) return;
  // The shell waits for a line, then becomes the prefork server.
  const shell = spawn('sh', ['-c', `read line; exec ${prefork}`], { stdio: ['pipe', 'ignore', 'inherit'] });
  t.after(() => shell.kill('SIGKILL'));
  const json = path.join(scratchDir(t), 'report.json');
  const tracer = startCli(['trace', '--pid', String(shell.pid), '--follow-children', '--json', json]);
  const stderr = collect(tracer.stderr);
  await waitFor(() => /attached to PID \d+ .*following its children/.test(stderr()), 20_000);
  shell.stdin!.end('go\n');
  const run = await exited(tracer, 40_000);
  assert.equal(run.code, 0, stderr());
  const report = readReport(json);
  assert.deepEqual(perProcess(report), ['1024 bytes in 2', '1000 bytes in 1', '4000 bytes in 2', '9000 bytes in 3']);
  assert.deepEqual(report.processes?.[0]?.command, [prefork]);
});

test('cgroup: a process already in it, its children, and one that joins later on another allocator, each exact', { timeout: 90_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const root = cgroup2Root();
  assert.ok(root, 'a cgroup v2 hierarchy is mounted');
  const dir = path.join(root, `leakhound-e2e-trace-${process.pid}`);
  const inner = path.join(dir, 'inner');
  mkdirSync(inner, { recursive: true });
  const started: ChildProcess[] = [];
  t.after(async () => {
    for (const child of started) child.kill('SIGKILL');
    await Promise.all(started.map((child) => exited(child, 5_000).catch(() => undefined)));
    rmdirSync(inner);
    rmdirSync(dir);
  });
  // In the cgroup before the trace, waiting to become the prefork server.
  const server = spawn('sh', ['-c', `echo $$ > ${inner}/cgroup.procs; read line; exec ${prefork}`], { stdio: ['pipe', 'ignore', 'inherit'] });
  started.push(server);
  await waitFor(() => readFileSync(path.join(inner, 'cgroup.procs'), 'utf8').includes(String(server.pid)), 10_000);
  const json = path.join(scratchDir(t), 'report.json');
  const tracer = startCli(['trace', '--cgroup', dir, '--json', json]);
  started.push(tracer);
  const stderr = collect(tracer.stderr);
  await waitFor(() => /attached to cgroup .*\(1 process now/.test(stderr()), 20_000);
  server.stdin!.end('go\n');
  // A process from outside that joins, then becomes the allocators fixture on the CET allocator.
  const joiner = spawn('sh', ['-c', `echo $$ > ${dir}/cgroup.procs; exec env LD_PRELOAD=${CET_ALLOCATOR} ${fixtureBinary(allocators)}`], { stdio: 'ignore' });
  started.push(joiner);
  assert.deepEqual(await exited(server, 30_000), { code: 0, signal: null });
  assert.deepEqual(await exited(joiner, 30_000), { code: allocators.exitCode, signal: null });
  tracer.kill('SIGINT');
  assert.deepEqual(await exited(tracer, 30_000), { code: 0, signal: null }, stderr());
  const report = readReport(json);
  assert.equal(report.target.pid, null);
  const byPid = new Map((report.processes ?? []).map((p) => [p.pid, `${p.outstandingBytes} bytes in ${p.outstandingAllocations}`]));
  assert.equal(byPid.get(server.pid!), '1024 bytes in 2', JSON.stringify(report.processes));
  assert.equal(byPid.get(joiner.pid!), `${allocators.inUseAtExit.bytes} bytes in ${allocators.inUseAtExit.blocks}`);
  const workers = (report.processes ?? []).filter((p) => p.pid !== server.pid && p.pid !== joiner.pid);
  assert.deepEqual(workers.map((p) => `${p.outstandingBytes} bytes in ${p.outstandingAllocations}`), ['1000 bytes in 1', '4000 bytes in 2', '9000 bytes in 3']);
  assert.deepEqual(siteFigures(report, 'site_worker'), { bytes: 14_000, allocations: 6 });
});
