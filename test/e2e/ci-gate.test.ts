// The CI gate on real traces of the allocators fixture (314,000 bytes in 27
// blocks held at exit, test/fixtures/allocators.expect.json): --fail-on-leak
// exits 23 one byte under that and 0 at it, with --pid too, counts only
// definitely-lost bytes with --reachability; a clean command passes, a
// suppression hides exactly the site it names, and suppressing every leak
// makes the gate pass. A bad suppression file stops leakhound before it traces.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { attachTo, release, startTarget } from '../helpers/attach.js';
import { requireBpf } from '../helpers/bpf.js';
import { runCli } from '../helpers/cli.js';
import { fixtureBinary, loadExpectation, siteBytes } from '../helpers/expectations.js';
import { fixtureBinaries } from '../helpers/paths.js';
import { exited } from '../helpers/process.js';
import { siteFigures, stacksMentioning, type Report } from '../helpers/report.js';
import { scratchDir } from '../helpers/tmp.js';
import { traceCommand } from '../helpers/trace.js';

const LEAK_EXIT = 23;
const e = loadExpectation('allocators');
const allocators = fixtureBinary(e);

/** The report's suppressions section, which the shared Report helper type does not name. */
function suppressionsOf(report: Report): Record<string, unknown>[] {
  return (report as unknown as { suppressions: Record<string, unknown>[] }).suppressions;
}

function suppressionFile(t: TestContext, text: string): string {
  const file = path.join(scratchDir(t), 'ci.supp');
  writeFileSync(file, text);
  return file;
}

test('ci gate: a leaking command exits 23 one byte over the gate, with its stacks on stderr; at the gate it exits 0', { timeout: 60_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const over = await traceCommand(t, [allocators], ['--fail-on-leak', String(e.inUseAtExit.bytes - 1)]);
  assert.equal(over.run.code, LEAK_EXIT, `stderr: ${over.run.stderr}`);
  assert.match(over.run.stderr, /^leakhound: leak gate failed: 314,000 bytes \(306\.6 KiB\) outstanding, over --fail-on-leak 313,999 bytes$/m);
  // The largest stack first, with its frames: the mmapped 300,000-byte block.
  assert.match(over.run.stderr, /^#1 {2}300,000 bytes \(293\.0 KiB\) in 1 allocation\n {4}site_malloc_large \(.*allocators\.c:\d+\)\n {4}leak_some /m);
  assert.match(over.run.stderr, /^#2 {2}10,000 bytes \(9\.8 KiB\) in 2 allocations\n {4}site_realloc_grow /m);
  // The report itself is whole: the gate only judges it.
  assert.deepEqual([over.report.totals.outstandingBytes, over.report.totals.outstandingAllocations], [314_000, 27]);

  const at = await traceCommand(t, [allocators], ['--fail-on-leak', String(e.inUseAtExit.bytes)]);
  assert.equal(at.run.code, 0, `stderr: ${at.run.stderr}`);
  assert.match(at.run.stderr, /^leakhound: leak gate passed: 314,000 bytes \(306\.6 KiB\) outstanding, within --fail-on-leak 314,000 bytes$/m);
  assert.doesNotMatch(at.run.stderr, /^#1 /m);
});

test("ci gate: with --pid the gate judges what the target still holds at the trace's end", { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  // attach leaks 5,800 bytes in 6 blocks after the attach (attach.expect.json).
  const attached = loadExpectation('attach');
  const target = await startTarget(t, attached);
  const tracer = await attachTo(t, target.pid!, ['--fail-on-leak', String(attached.inUseAtExit.bytes - 1)]);
  await release(target);
  assert.deepEqual(await exited(target, 5_000), { code: 0, signal: null });
  const end = await exited(tracer.cli, 15_000);
  assert.deepEqual(end, { code: LEAK_EXIT, signal: null }, `stderr: ${tracer.stderr()}`);
  assert.match(tracer.stderr(), /^leakhound: leak gate failed: 5,800 bytes \(5\.7 KiB\) outstanding, over --fail-on-leak 5,799 bytes$/m);
  assert.match(tracer.stderr(), /^#1 {2}3,000 bytes \(2\.9 KiB\) in 3 allocations\n {4}site_after_malloc /m);
});

test('ci gate: with --reachability only definitely-lost bytes count, suppressions applied', { timeout: 60_000 }, async (t) => {
  if (!requireBpf(t)) return;
  // reachability.c holds 1,104 bytes at exit; 48 (site_unreferenced) and 64
  // (site_lost_parent) of them are definitely lost.
  const fixture = path.join(fixtureBinaries, 'reachability');
  const over = await traceCommand(t, [fixture], ['--reachability', '--fail-on-leak', '111']);
  assert.equal(over.run.code, LEAK_EXIT, `stderr: ${over.run.stderr}`);
  assert.equal(over.report.totals.outstandingBytes, 1104);
  assert.match(over.run.stderr, /^leakhound: leak gate failed: 112 bytes \(112 B\) definitely lost, over --fail-on-leak 111 bytes$/m);
  assert.match(over.run.stderr, /^#1 {2}64 bytes \(64 B\) in 1 allocation\n {4}site_lost_parent .*\n[^]*^#2 {2}48 bytes \(48 B\) in 1 allocation\n {4}site_unreferenced /m);
  assert.doesNotMatch(over.run.stderr, /site_referenced|site_lost_child|site_interior|site_register/);

  const supp = suppressionFile(t, 'fun:site_unreferenced\n');
  const hidden = await traceCommand(t, [fixture], ['--reachability', '--suppressions', supp, '--fail-on-leak', '64']);
  assert.equal(hidden.run.code, 0, `stderr: ${hidden.run.stderr}`);
  assert.match(hidden.run.stderr, /^leakhound: leak gate passed: 64 bytes \(64 B\) definitely lost, within --fail-on-leak 64 bytes$/m);
  assert.equal(hidden.report.totals.outstandingBytes, 1104 - 48);
});

test('ci gate: a command that frees everything passes --fail-on-leak 0', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const { run, report } = await traceCommand(t, ['/bin/true'], ['--fail-on-leak', '0']);
  assert.equal(run.code, 0, `stderr: ${run.stderr}`);
  assert.equal(report.totals.outstandingBytes, 0);
  assert.match(run.stderr, /^leakhound: leak gate passed: 0 bytes \(0 B\) outstanding, within --fail-on-leak 0 bytes$/m);
});

test('ci gate: a command that fails keeps its own exit code over the gate', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  // dash keeps its parsed command and variables to its exit.
  const { run, report } = await traceCommand(t, ['/bin/sh', '-c', 'exit 5'], ['--fail-on-leak', '0']);
  assert.ok(report.totals.outstandingBytes > 0, 'the shell holds something at exit');
  assert.equal(run.code, 5, `stderr: ${run.stderr}`);
  assert.match(run.stderr, /^leakhound: leak gate failed: /m);
  assert.match(run.stderr, /^leakhound: the exit code stays 5: /m);
});

test('ci gate: a suppression hides exactly the site it names, and the report counts what it hid', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const supp = suppressionFile(t, '# the cache is freed by the OS at exit\nfun:site_malloc_large\n\nobj:*/libnothing.so*\n');
  const { run, report } = await traceCommand(t, [allocators], ['--suppressions', supp, '--fail-on-leak', '13999']);
  assert.equal(run.code, LEAK_EXIT, `stderr: ${run.stderr}`);
  assert.match(run.stderr, /^leakhound: leak gate failed: 14,000 bytes \(13\.7 KiB\) outstanding, over --fail-on-leak 13,999 bytes$/m);
  assert.doesNotMatch(run.stderr, /site_malloc_large/);
  assert.deepEqual(suppressionsOf(report), [
    { pattern: 'fun:site_malloc_large', file: supp, line: 2, stacks: 1, bytes: 300_000, allocations: 1 },
    { pattern: 'obj:*/libnothing.so*', file: supp, line: 4, stacks: 0, bytes: 0, allocations: 0 },
  ]);
  assert.deepEqual(stacksMentioning(report, 'site_malloc_large'), []);
  for (const site of e.sites.filter((s) => s.symbol !== 'site_malloc_large')) {
    assert.deepEqual(siteFigures(report, site.symbol), { bytes: siteBytes(site), allocations: site.blocks }, `figures at ${site.symbol}`);
  }
  assert.deepEqual([report.totals.outstandingBytes, report.totals.outstandingAllocations], [14_000, 26]);
});

test('ci gate: suppressing every leak (by source file) makes the gate pass', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const supp = suppressionFile(t, 'src:allocators.c\n');
  const { run, report } = await traceCommand(t, [allocators], ['--suppressions', supp, '--fail-on-leak', '0']);
  assert.equal(run.code, 0, `stderr: ${run.stderr}`);
  assert.deepEqual(report.stacks, []);
  assert.deepEqual([report.totals.outstandingBytes, report.totals.outstandingAllocations], [0, 0]);
  const [all] = suppressionsOf(report);
  // One stack per site at least (a site reached from two lines is two stacks).
  assert.ok((all!.stacks as number) >= e.sites.length, `${String(all!.stacks)} stacks hidden`);
  assert.deepEqual([all!.bytes, all!.allocations], [314_000, 27]);
});

test('ci gate: a bad suppression file is one line with file:line, exit 2, before anything is traced', { timeout: 20_000 }, async (t) => {
  const dir = scratchDir(t);
  const supp = path.join(dir, 'bad.supp');
  writeFileSync(supp, '# fine so far\nfun:main\nframe:oops\n');
  const out = path.join(dir, 'out');
  const bad = await runCli(['trace', '--suppressions', supp, '--fail-on-leak', '0', '--out', out, '--', allocators]);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr, `leakhound: ${supp}:3: unknown suppression kind "frame": write one KIND:PATTERN a line, KIND one of leak, fun, obj, src (see the README)\n`);
  assert.equal(bad.stdout, '');
  assert.ok(!existsSync(out), '--out was not made');

  const missing = await runCli(['trace', '--suppressions', path.join(dir, 'none.supp'), '--', allocators]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^leakhound: --suppressions \S+none\.supp: ENOENT: no such file or directory: name a readable suppression file\n$/);
});
