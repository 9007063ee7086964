// The live view (issue 22): leakhound traces with --interval under a
// pseudo-terminal (util-linux's script) of a known size, and what it wrote is
// played into a headless xterm.js to see the screen. The view is drawn in the
// bottom rows, redrawn in place, and erased before the report, with every
// line above it (leakhound's, a launched command's) left as written. With
// NO_COLOR it has no colour; piped, or with --no-live, stderr has the plain
// summary lines and no escape sequence at all.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import xterm from '@xterm/headless';
import { requireBpf } from '../helpers/bpf.js';
import { startCli } from '../helpers/cli.js';
import { cliPath, fixtureBinaries } from '../helpers/paths.js';
import { collect, exited, lineMatching } from '../helpers/process.js';
import { readReport, stacksAt } from '../helpers/report.js';
import { scratchDir } from '../helpers/tmp.js';

const ROWS = 30;
const COLUMNS = 100;
/** With --top 3 on 30 rows: three stacks, two lines of figures, the heading and the "more" line. */
const VIEW_ROWS = 7;
/** Any colour or style (SGR) sequence. */
const SGR = /\x1b\[[\d;]*m/;
/** The view's first line. */
const HEADER = /leakhound {2}\d+(\.\d)? (ms|s)\b/g;
/** The view's heading line. */
const HEADING = 'FUNCTION (MODULE)';
/** Scrolling given back to the whole screen: the view's end. */
const RELEASE = '\x1b[r';

/** The screen and its scrollback, a string a row, after `raw` was written to a terminal of the pty's size. */
async function screen(raw: string): Promise<string[]> {
  const terminal = new xterm.Terminal({ cols: COLUMNS, rows: ROWS, scrollback: 10_000, allowProposedApi: true });
  await new Promise<void>((resolve) => terminal.write(raw, resolve));
  const buffer = terminal.buffer.active;
  const rows = Array.from({ length: buffer.length }, (_, i) => buffer.getLine(i)?.translateToString(true) ?? '');
  terminal.dispose();
  return rows;
}

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

/** The CLI under a pseudo-terminal of ROWS x COLUMNS: what it was sent (stdout and stderr both, and a launched command's). */
async function underTerminal(t: TestContext, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const command = `stty rows ${ROWS} cols ${COLUMNS}; ${[process.execPath, cliPath, ...args].map(quoted).join(' ')}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'], env });
  t.after(() => child.kill('SIGKILL'));
  const shown = collect(child.stdout);
  assert.deepEqual(await exited(child, 60_000), { code: 0, signal: null }, shown());
  return shown();
}

function quoted(arg: string): string {
  return `'${arg.replaceAll("'", "'\\''")}'`;
}

function withoutNoColor(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm', ...extra };
  if (!('NO_COLOR' in extra)) delete env.NO_COLOR;
  return env;
}

test('live view: on a terminal the top stacks are redrawn in place in the bottom rows, then erased before the report', { timeout: 90_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const target = await startGrowth(t);
  const { args, json } = traceArgs(t, target.pid!);
  const raw = await underTerminal(t, args, withoutNoColor());
  assert.ok((raw.match(HEADER) ?? []).length >= 3, `drawings: ${JSON.stringify(raw)}`);
  assert.match(raw, SGR, 'colour on a terminal without NO_COLOR');
  assert.doesNotMatch(raw, /bytes outstanding in \d+ allocations \(/, 'no plain summary line beside the view');
  // Just before the view is given up: it fills the bottom rows, the lines above are as said.
  const during = (await screen(raw.slice(0, raw.lastIndexOf(RELEASE)))).slice(-ROWS);
  const view = during.slice(ROWS - VIEW_ROWS);
  assert.match(view[0], /^leakhound {2}\d/, JSON.stringify(during));
  assert.ok(view[2].endsWith(HEADING), JSON.stringify(view));
  assert.match(view[3], /^ +[\d.]+ KiB +\d+ +\+[\d.]+ KiB\/s {2}leak_request_context \(growth\)$/, JSON.stringify(view));
  assert.match(during[0], /^leakhound: attached to PID \d+/, JSON.stringify(during));
  // At the end: no row of the view anywhere, the lines above it intact.
  const after = await screen(raw);
  assert.ok(!after.some((row) => row.includes(HEADING) || /^leakhound {2}\d/.test(row)), JSON.stringify(after));
  assert.match(after[0], /^leakhound: attached to PID \d+/);
  assert.ok(stacksAt(readReport(json), 'leak_request_context').length > 0, 'the report has the leak');
});

test("live view: a launched command's output scrolls above the view, every line of it kept", { timeout: 90_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const json = path.join(scratchDir(t), 'report.json');
  const chatty = 'i=0; while [ $i -lt 15 ]; do echo line $i; i=$((i+1)); sleep 0.1; done';
  const raw = await underTerminal(t, ['trace', '--interval', '0.2', '--top', '3', '--json', json, '--', '/bin/sh', '-c', chatty], withoutNoColor());
  assert.ok((raw.match(HEADER) ?? []).length >= 3, `drawings: ${JSON.stringify(raw)}`);
  const after = await screen(raw);
  assert.deepEqual(after.filter((row) => row.startsWith('line ')), Array.from({ length: 15 }, (_, i) => `line ${i}`));
  assert.ok(!after.some((row) => row.includes(HEADING)), JSON.stringify(after));
  assert.equal(readReport(json).target.exitCode, 0);
});

test('live view: NO_COLOR=1 keeps the redraws and drops the colour', { timeout: 90_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const target = await startGrowth(t);
  const shown = await underTerminal(t, traceArgs(t, target.pid!).args, withoutNoColor({ NO_COLOR: '1' }));
  assert.ok((shown.match(HEADER) ?? []).length >= 3, JSON.stringify(shown));
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
