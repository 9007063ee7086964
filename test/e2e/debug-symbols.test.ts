// Names for stripped programs (issue 19): the fixtures' leak sites are static
// functions, so their names and lines exist only where each test puts them
// (a debug file by build-id or .gnu_debuglink, a real debuginfod server, or
// MiniDebugInfo), and without any of those a frame shows as module+offset.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { runCli } from '../helpers/cli.js';
import { freePort } from '../helpers/free-port.js';
import { fixtureBinaries, fixtureSources } from '../helpers/paths.js';
import { exited } from '../helpers/process.js';
import type { Report } from '../helpers/report.js';
import { scratchDir } from '../helpers/tmp.js';
import { traceCommand } from '../helpers/trace.js';

const splitDebug = path.join(fixtureBinaries, 'split-debug');
const debugFile = path.join(fixtureBinaries, 'debug/split-debug.debug');
const source = readFileSync(path.join(fixtureSources, 'debug-symbols.c'), 'utf8').split('\n');
const SITES = [
  { symbol: 'lost_in_list', bytes: 1111 },
  { symbol: 'lost_in_table', bytes: 2222 },
];

/** 1-based number of the first source line containing `text`. */
function lineOf(text: string): number {
  const i = source.findIndex((line) => line.includes(text));
  assert.ok(i >= 0, `no line with ${text} in debug-symbols.c`);
  return i + 1;
}

function buildId(file: string): string {
  const notes = execFileSync('readelf', ['-n', file], { encoding: 'utf8' });
  const id = notes.match(/Build ID: ([0-9a-f]+)/)?.[1];
  assert.ok(id, `${file} has no build-id`);
  return id;
}

/** Sets (or, for undefined, removes) variables the leakhound child inherits, until the test ends. */
function setEnv(t: TestContext, vars: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(vars)) {
    const before = process.env[name];
    t.after(() => (before === undefined ? delete process.env[name] : (process.env[name] = before)));
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}

/** Copies `from` to `to` (making its directory), removed with every directory made when the test ends. */
function install(t: TestContext, from: string, to: string): void {
  const made = mkdirSync(path.dirname(to), { recursive: true });
  t.after(() => rmSync(made ?? to, { recursive: true, force: true }));
  copyFileSync(from, to);
}

/** Each site is named, called from main; with `lines`, both frames carry file:line. */
function assertSitesNamed(report: Report, binary: string, lines: boolean): void {
  for (const site of SITES) {
    const stack = report.stacks.find((s) => s.bytes === site.bytes);
    assert.ok(stack, `no stack of ${site.bytes} bytes: ${JSON.stringify(report.stacks)}`);
    const [at, caller] = stack.frames;
    assert.deepEqual(
      [at?.symbol, at?.module, caller?.symbol, caller?.module],
      [site.symbol, realpathSync(binary), 'main', realpathSync(binary)],
      `frames of ${site.symbol}`,
    );
    if (!lines) continue;
    assert.deepEqual(
      [path.basename(at!.file ?? ''), at!.line, path.basename(caller!.file ?? ''), caller!.line],
      ['debug-symbols.c', lineOf(`*${site.symbol}(size_t n)`), 'debug-symbols.c', lineOf(`= ${site.symbol}(`)],
      `lines of ${site.symbol}`,
    );
  }
}

async function tracedReport(t: TestContext, binary: string): Promise<Report> {
  return (await traceCommand(t, [binary])).report;
}

test('without debug info, a stripped site is module+offset in the text report', { timeout: 60_000 }, async (t) => {
  if (!requireBpf(t)) return;
  setEnv(t, { DEBUGINFOD_URLS: undefined });
  const run = await runCli(['trace', '--', splitDebug], '', 60_000);
  assert.equal(run.code, 0, run.stderr);
  const output = `${run.stdout}${run.stderr}`;
  const frames = output.split('\n').filter((line) => line.startsWith('    '));
  assert.ok(frames.some((line) => line.trim().startsWith(`${realpathSync(splitDebug)}+0x`)), output);
  assert.ok(!frames.some((line) => /^\s*\?/.test(line)), output);
});

test('split debug info: names and lines from /usr/lib/debug/.build-id', { timeout: 60_000 }, async (t) => {
  if (!requireBpf(t)) return;
  setEnv(t, { DEBUGINFOD_URLS: undefined });
  const id = buildId(splitDebug);
  install(t, debugFile, `/usr/lib/debug/.build-id/${id.slice(0, 2)}/${id.slice(2)}.debug`);
  assertSitesNamed(await tracedReport(t, splitDebug), splitDebug, true);
});

test('split debug info: .gnu_debuglink next to the binary', { timeout: 60_000 }, async (t) => {
  if (!requireBpf(t)) return;
  setEnv(t, { DEBUGINFOD_URLS: undefined });
  const binary = path.join(scratchDir(t), 'split-debug');
  copyFileSync(splitDebug, binary);
  copyFileSync(debugFile, `${path.dirname(binary)}/split-debug.debug`);
  assertSitesNamed(await tracedReport(t, binary), binary, true);
});

test('split debug info: .gnu_debuglink under /usr/lib/debug/<dir>', { timeout: 60_000 }, async (t) => {
  if (!requireBpf(t)) return;
  setEnv(t, { DEBUGINFOD_URLS: undefined });
  const binary = path.join(realpathSync(scratchDir(t)), 'split-debug');
  copyFileSync(splitDebug, binary);
  install(t, debugFile, `/usr/lib/debug${binary}.debug`);
  assertSitesNamed(await tracedReport(t, binary), binary, true);
});

/** Polls until the server has scanned the debug file (200), for at most 30 s. */
async function whenServed(url: string, server: ChildProcess): Promise<void> {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    assert.equal(server.exitCode, null, 'debuginfod exited');
    const status = await fetch(url).then((r) => r.status, () => 0);
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.fail(`debuginfod never served ${url}`);
}

test('split debug info: from a real debuginfod server on loopback', { timeout: 90_000 }, async (t) => {
  if (!requireBpf(t)) return;
  assert.ok(existsSync('/usr/bin/debuginfod'), "no debuginfod server: install Debian's debuginfod (make deps)");
  const scratch = scratchDir(t);
  const servedDir = path.join(scratch, 'served');
  mkdirSync(servedDir);
  copyFileSync(debugFile, path.join(servedDir, 'split-debug.debug'));
  const port = await freePort();
  // No rescans or grooming: one scan of the directory is all the test needs.
  const server = spawn(
    '/usr/bin/debuginfod',
    ['-p', String(port), '-F', '-t', '0', '-g', '0', '-d', path.join(scratch, 'db.sqlite'), servedDir],
    { stdio: 'ignore' },
  );
  t.after(async () => {
    server.kill('SIGTERM');
    await exited(server, 10_000);
  });
  const id = buildId(splitDebug);
  const url = `http://127.0.0.1:${port}`;
  await whenServed(`${url}/buildid/${id}/debuginfo`, server);
  const cache = path.join(scratch, 'cache');
  setEnv(t, { DEBUGINFOD_URLS: url, DEBUGINFOD_CACHE_PATH: cache });
  assertSitesNamed(await tracedReport(t, splitDebug), splitDebug, true);
  assert.ok(existsSync(path.join(cache, id, 'debuginfo')), 'the debug file came through the debuginfod client');
});

test('debuginfod: a server that accepts and never answers holds the report up about 10 s, not 90', { timeout: 90_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    silent.close();
  });
  const { port } = silent.address() as { port: number };
  setEnv(t, {
    DEBUGINFOD_URLS: `http://127.0.0.1:${port}`,
    DEBUGINFOD_CACHE_PATH: path.join(scratchDir(t), 'cache'),
    DEBUGINFOD_TIMEOUT: undefined,
  });
  const started = Date.now();
  const { report } = await traceCommand(t, [splitDebug]);
  const seconds = (Date.now() - started) / 1000;
  assert.ok(seconds < 30, `the trace took ${seconds} s`);
  assert.ok(sockets.size > 0, 'leakhound never asked the server');
  const stack = report.stacks.find((s) => s.bytes === SITES[0]!.bytes);
  assert.deepEqual([stack?.frames[0]?.symbol, stack?.frames[0]?.module], [null, realpathSync(splitDebug)]);
});

test('MiniDebugInfo: local function names from .gnu_debugdata', { timeout: 60_000 }, async (t) => {
  if (!requireBpf(t)) return;
  setEnv(t, { DEBUGINFOD_URLS: undefined });
  const binary = path.join(fixtureBinaries, 'minidebuginfo');
  const sections = execFileSync('readelf', ['-S', binary], { encoding: 'utf8' });
  assert.match(sections, /\.gnu_debugdata/);
  assert.doesNotMatch(sections, /\.symtab|\.gnu_debuglink/, 'names must come from .gnu_debugdata alone');
  assertSitesNamed(await tracedReport(t, binary), binary, false);
});
