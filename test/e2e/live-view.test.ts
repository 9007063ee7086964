// The live view (issue 22): leakhound attached with --interval to the growth
// fixture. Under a pseudo-terminal (util-linux's script) the view is redrawn
// in place with cursor movement and erased before the report; with NO_COLOR
// it has no colour; piped, or with --no-live, stderr has the plain summary
// lines and no escape sequence at all.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { startCli } from '../helpers/cli.js';
import { cliPath, fixtureBinaries } from '../helpers/paths.js';
import { collect, exited, lineMatching } from '../helpers/process.js';
import { readReport, stacksAt } from '../helpers/report.js';
import { scratchDir } from '../helpers/tmp.js';

/** Cursor up N lines, to the line's start, erase to the end of the screen: one redraw or the final erase. */
const REDRAW = /\x1b\[\d+A\r\x1b\[J/g;
/** Any colour or style (SGR) sequence. */
const SGR = /\x1b\[[\d;]*m/;
/** The view's first line. */
const HEADER = /leakhound {2}\d+(\.\d)? (ms|s)\b/g;

async function startGrowth(t: TestContext): Promise<ChildProcess> {
  const target = spawn(path.join(fixtureBinaries, 'growth'), { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => target.kill('SIGKILL'));
  await lineMatching(target.stdout!, /^ready \d+$/, 5_000);
  return target;
}

function traceArgs(t: TestContext, pid: number): { args: string[]; json: string } {
  const json = path.join(scratchDir(t), 'report.json');
  return { args: ['trace', '--pid', String(pid), '--interval', '0.2', '--duration', '1.5', '--top', '3', '--json', json], json };
}

/** The CLI under a pseudo-terminal: what the terminal shows (stdout and stderr both). */
async function underTerminal(t: TestContext, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const child = spawn('script', ['-qfec', [process.execPath, cliPath, ...args].join(' '), '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'], env });
  t.after(() => child.kill('SIGKILL'));
  const shown = collect(child.stdout);
  assert.deepEqual(await exited(child, 60_000), { code: 0, signal: null }, shown());
  return shown();
}

function withoutNoColor(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm', ...extra };
  if (!('NO_COLOR' in extra)) delete env.NO_COLOR;
  return env;
}

test('live view: on a terminal the top stacks are redrawn in place, then erased before the report', { timeout: 90_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const target = await startGrowth(t);
  const { args, json } = traceArgs(t, target.pid!);
  const shown = await underTerminal(t, args, withoutNoColor());
  const drawings = shown.match(HEADER) ?? [];
  const redraws = shown.match(REDRAW) ?? [];
  assert.ok(drawings.length >= 3, `drawings: ${drawings.length}: ${JSON.stringify(shown)}`);
  // Each drawing after the first goes over the last, and the last is erased
  // (a line leakhound says meanwhile erases it once more, and goes above it).
  assert.ok(redraws.length >= drawings.length, JSON.stringify(shown));
  assert.ok(shown.lastIndexOf('\x1b[J') > shown.lastIndexOf('leak_request_context (growth)'), 'the view is erased after its last drawing');
  assert.match(shown, /leak_request_context \(growth\)/);
  assert.match(shown, SGR, 'colour on a terminal without NO_COLOR');
  assert.doesNotMatch(shown, /bytes outstanding in \d+ allocations \(/, 'no plain summary line under the view');
  assert.ok(stacksAt(readReport(json), 'leak_request_context').length > 0, 'the report has the leak');
});

test('live view: NO_COLOR=1 keeps the redraws and drops the colour', { timeout: 90_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const target = await startGrowth(t);
  const shown = await underTerminal(t, traceArgs(t, target.pid!).args, withoutNoColor({ NO_COLOR: '1' }));
  assert.ok((shown.match(REDRAW) ?? []).length >= 3, JSON.stringify(shown));
  assert.match(shown, /leak_request_context \(growth\)/);
  assert.doesNotMatch(shown, SGR);
});

test('live view: piped, the plain summary lines and no escape sequence', { timeout: 90_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const target = await startGrowth(t);
  const cli = startCli(traceArgs(t, target.pid!).args, { env: withoutNoColor() });
  t.after(() => cli.kill('SIGKILL'));
  const stdout = collect(cli.stdout);
  const stderr = collect(cli.stderr);
  assert.deepEqual(await exited(cli, 60_000), { code: 0, signal: null }, stderr());
  const lines = stderr().split('\n').filter((line) => /^leakhound: \d+\.\ds: \d+ bytes outstanding in \d+ allocations/.test(line));
  assert.ok(lines.length >= 3, stderr());
  assert.doesNotMatch(stderr() + stdout(), /\x1b/);
});

test('live view: --no-live on a terminal keeps the plain summary lines', { timeout: 90_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const target = await startGrowth(t);
  const shown = await underTerminal(t, [...traceArgs(t, target.pid!).args, '--no-live'], withoutNoColor());
  assert.ok(shown.split(/\r?\n/).filter((line) => /^leakhound: \d+\.\ds: \d+ bytes outstanding in \d+ allocations/.test(line)).length >= 3, JSON.stringify(shown));
  assert.doesNotMatch(shown, /\x1b/);
});
