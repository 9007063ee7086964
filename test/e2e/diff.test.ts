// leakhound diff on two real reports of the growth fixture, attached for 1 s
// and then for 3 s: the steady leak's stack is matched across the two (its
// addresses are the same process's here, but matching goes by names) and
// leads the diff as grown, by exactly the difference of the two reports.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { runCli } from '../helpers/cli.js';
import { fixtureBinaries } from '../helpers/paths.js';
import { lineMatching } from '../helpers/process.js';
import { readReport, siteFigures } from '../helpers/report.js';
import { scratchDir } from '../helpers/tmp.js';

/** A leakhound run that only reads and writes files: under TCG, starting Node alone takes seconds. */
const CLI_TIMEOUT_MS = 60_000;

interface DiffStackJson {
  status: string;
  before: { bytes: number; allocations: number };
  after: { bytes: number; allocations: number };
  deltaBytes: number;
  frames: { symbol: string | null }[];
}

/** --duration counts from the attach, however long attaching takes (under TCG, tens of seconds). */
async function attachedReport(t: TestContext, pid: number, seconds: string): Promise<string> {
  const json = path.join(scratchDir(t), `${seconds}s.json`);
  const run = await runCli(['trace', '--pid', String(pid), '--duration', seconds, '--json', json], '', 90_000);
  assert.equal(run.code, 0, `stderr: ${run.stderr}`);
  return json;
}

test('diff: the growth fixture traced for 1 s and for 3 s; the leak leads as grown', { timeout: 240_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const target = spawn(path.join(fixtureBinaries, 'growth'), { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => target.kill('SIGKILL'));
  await lineMatching(target.stdout!, /^ready \d+$/, 5_000);
  const a = await attachedReport(t, target.pid!, '1');
  const b = await attachedReport(t, target.pid!, '3');
  const leakBefore = siteFigures(readReport(a), 'leak_request_context');
  const leakAfter = siteFigures(readReport(b), 'leak_request_context');
  assert.ok(leakAfter.bytes > leakBefore.bytes && leakBefore.bytes > 0, `${leakBefore.bytes} then ${leakAfter.bytes}`);

  const out = path.join(scratchDir(t), 'diff');
  const json = await runCli(['diff', a, b, '--json', '-', '--out', out], '', CLI_TIMEOUT_MS);
  assert.equal(json.code, 0, json.stderr);
  const diff = JSON.parse(json.stdout) as { schema: string; stacks: DiffStackJson[] };
  assert.equal(diff.schema, 'leakhound.diff/v1');
  const [first] = diff.stacks;
  assert.equal(first?.frames[0]?.symbol, 'leak_request_context', JSON.stringify(first));
  assert.equal(first.status, 'grown');
  // The site may be two stacks (a first walk cut short is one of its own): summed, they are the reports' figures.
  const leaks = diff.stacks.filter((stack) => stack.frames[0]?.symbol === 'leak_request_context');
  const sum = (side: 'before' | 'after') => ({
    bytes: leaks.reduce((total, stack) => total + stack[side].bytes, 0),
    allocations: leaks.reduce((total, stack) => total + stack[side].allocations, 0),
  });
  assert.deepEqual([sum('before'), sum('after')], [leakBefore, leakAfter]);
  assert.equal(leaks.reduce((total, stack) => total + stack.deltaBytes, 0), leakAfter.bytes - leakBefore.bytes);

  const folded = readFileSync(path.join(out, 'diff.folded'), 'utf8').split('\n').filter((line) => /;leak_request_context \d+ \d+$/.test(line));
  const column = (i: number) => folded.reduce((total, line) => total + Number(line.split(' ').at(i)), 0);
  assert.deepEqual([column(-2), column(-1)], [leakBefore.bytes, leakAfter.bytes]);
  assert.match(readFileSync(path.join(out, 'diff.svg'), 'utf8'), /<title>leak_request_context — [\d,]+ bytes \([\d.]+%\), [\d,]+ allocations, \+[\d,]+ bytes since the first report<\/title><rect [^>]*fill="rgb\(240,(\d+),\1\)"/);

  const text = await runCli(['diff', a, b, '--top', '1'], '', CLI_TIMEOUT_MS);
  assert.equal(text.code, 0, text.stderr);
  const lines = text.stdout.split('\n');
  assert.match(lines[4]!, /^#1  grown: \+[\d,]+ bytes/);
  assert.match(lines[5]!, /^ {4}leak_request_context \(.*growth\.c:\d+\)$/);
});

test('diff: reports of different modes, or not reports, are one line and exit 2', async (t) => {
  const dir = scratchDir(t);
  const user = path.join(dir, 'u.json');
  const kernel = path.join(dir, 'k.json');
  const base = { schema: 'leakhound.report/v1', target: { pid: null, command: null, exitCode: null, cpuMs: null }, durationMs: 1, totals: { outstandingBytes: 0, outstandingAllocations: 0 }, stacks: [] };
  writeFileSync(user, JSON.stringify({ ...base, mode: 'user' }));
  writeFileSync(kernel, JSON.stringify({ ...base, mode: 'kernel' }));
  const mixed = await runCli(['diff', user, kernel, '--out', path.join(dir, 'out')], '', CLI_TIMEOUT_MS);
  assert.equal(mixed.code, 2);
  assert.match(mixed.stderr, /^leakhound: .*u\.json is a user-mode report and .*k\.json a kernel-mode one: diff two reports of the same mode\n$/);
  const wrong = await runCli(['diff', user, path.join(dir, 'nope.json')], '', CLI_TIMEOUT_MS);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /^leakhound: cannot read .*nope\.json: ENOENT/);
  assert.equal(existsSync(path.join(dir, 'out')), false, 'no --out directory left behind');
});
