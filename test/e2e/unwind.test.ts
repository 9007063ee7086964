// Unwinding without frame pointers (issue 19): each fixture is built twice,
// with frame pointers (-fp) and as distributions build (-nofp, see
// test/fixtures/Makefile), and both builds must give the same whole stacks:
// exact figures per site, not partial, and every caller from the site to
// where the thread began, in order. The -fp builds are the control; the
// -nofp ones need the .eh_frame unwinder. Code no table covers (a copy in an
// anonymous mapping) must still be counted exactly, its stacks partial.
// Figures: test/fixtures/README.md, cross-checked with valgrind.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { requireBpf } from '../helpers/bpf.js';
import { startCli } from '../helpers/cli.js';
import { fixtureBinaries } from '../helpers/paths.js';
import { collect, exited, lineMatching } from '../helpers/process.js';
import { readReport, siteFigures, stacksAt, type Report, type ReportFrame, type ReportStack } from '../helpers/report.js';
import { isSymbol } from '../helpers/symbols.js';
import { scratchDir } from '../helpers/tmp.js';
import { traceCommand } from '../helpers/trace.js';

const BUILDS = ['fp', 'nofp'] as const;
type Build = (typeof BUILDS)[number];

/** What may follow the outermost frame a stack must reach: the start-up code that called it. */
const PROGRAM_START = { root: '__libc_start_call_main', after: /^(__libc_start_main(_impl)?(@.*)?|_start)$/ };
const THREAD_START = { root: 'start_thread', after: /^_*clone3?$/ };

interface Site {
  /** The fixture's own innermost function: its blocks are all the stacks that pass through it. */
  symbol: string;
  bytes: number;
  allocations: number;
  /** Its callers, outermost last: the stack from `symbol` on, before the start-up code. */
  callers: string[];
  start: typeof PROGRAM_START;
  /** Some blocks come from library code `symbol` calls (libstdc++, an inlined template): the site need not be frames[0]. */
  throughLibrary?: boolean;
}

interface Fixture {
  name: string;
  sites: Site[];
  /** All held at exit (valgrind's "in use at exit"), when it does not depend on the machine. */
  inUseAtExit?: { bytes: number; allocations: number };
}

const fromMain = (...callers: string[]) => [...callers, 'main', PROGRAM_START.root];

const FIXTURES: Fixture[] = [
  {
    name: 'unwind-recursion',
    sites: [
      {
        symbol: 'site_recursion_bottom',
        bytes: 3 * 208,
        allocations: 3,
        callers: fromMain('site_recursion_bottom', ...Array<string>(20).fill('recurse')),
        start: PROGRAM_START,
      },
    ],
    inUseAtExit: { bytes: 624, allocations: 3 },
  },
  {
    name: 'unwind-cxx',
    sites: [
      { symbol: 'make_record', bytes: 3 * 40, allocations: 3, callers: fromMain('make_record', 'add_records', 'build_catalog'), start: PROGRAM_START },
      // The std::string (32 bytes) and its buffer (41), made in libstdc++.
      { symbol: 'name_entry', bytes: 2 * (32 + 41), allocations: 4, callers: fromMain('name_entry', 'add_names', 'build_catalog'), start: PROGRAM_START, throughLibrary: true },
      // The vector (24 bytes) and its last buffer (32 longs); the 5 before it freed.
      { symbol: 'grow_samples', bytes: 24 + 256, allocations: 2, callers: fromMain('grow_samples', 'build_catalog'), start: PROGRAM_START, throughLibrary: true },
    ],
    // libstdc++'s 72704-byte exception pool besides.
    inUseAtExit: { bytes: 73250, allocations: 10 },
  },
  {
    name: 'unwind-threads',
    sites: [
      { symbol: 'site_thread_a', bytes: 2 * 328, allocations: 2, callers: ['site_thread_a', 'worker_a', THREAD_START.root], start: THREAD_START },
      { symbol: 'site_thread_b', bytes: 3 * 344, allocations: 3, callers: ['site_thread_b', 'stage_b', 'worker_b', THREAD_START.root], start: THREAD_START },
      { symbol: 'site_main_thread', bytes: 312, allocations: 1, callers: fromMain('site_main_thread'), start: PROGRAM_START },
    ],
    // Each thread's 272 bytes of thread-local storage besides.
    inUseAtExit: { bytes: 2544, allocations: 8 },
  },
  {
    name: 'unwind-inline',
    // inlined_alloc() is inlined into site_with_inlined: an inlined frame
    // for it, where the symbolizer names one, may come first.
    sites: [{ symbol: 'site_with_inlined', bytes: 5 * 96, allocations: 5, callers: fromMain('site_with_inlined', 'inline_caller'), start: PROGRAM_START }],
    inUseAtExit: { bytes: 480, allocations: 5 },
  },
];

/** The library unwind-dlopen loads after the attach; what dlopen itself holds depends on the path's length. */
const PLUGIN_SITE: Site = {
  symbol: 'plugin_site',
  bytes: 4 * 176,
  allocations: 4,
  callers: fromMain('plugin_site', 'plugin_stage', 'plugin_run', 'call_plugin'),
  start: PROGRAM_START,
};

/** Frames of code as it runs: an inlined frame (a later symbolizer's) shares its caller's address. */
function ownFrames(stack: ReportStack): ReportFrame[] {
  return stack.frames.filter((f) => (f as ReportFrame & { inlined?: boolean }).inlined !== true);
}

function figuresOf(stacks: ReportStack[]): { bytes: number; allocations: number } {
  return stacks.reduce((sum, s) => ({ bytes: sum.bytes + s.bytes, allocations: sum.allocations + s.allocations }), { bytes: 0, allocations: 0 });
}

const describe = (stack: ReportStack) =>
  `${stack.partial ? '[partial] ' : ''}${stack.frames.map((f) => f.symbol ?? f.address).join(' <- ')}`;

/** Exact figures at the site, and every stack through it whole: callers in order, then only start-up code. */
function assertWholeStacks(report: Report, site: Site, build: Build): void {
  const stacks = report.stacks.filter((s) => ownFrames(s).some((f) => isSymbol(f.symbol, site.symbol)));
  assert.deepEqual(figuresOf(stacks), { bytes: site.bytes, allocations: site.allocations }, `${build}: figures through ${site.symbol}`);
  for (const stack of stacks) {
    const symbols = ownFrames(stack).map((f) => f.symbol);
    const at = symbols.findIndex((s) => isSymbol(s, site.symbol));
    if (!site.throughLibrary) assert.equal(at, 0, `${build}: ${site.symbol} is the allocator's caller: ${describe(stack)}`);
    assert.equal(stack.partial, false, `${build}: not partial: ${describe(stack)}`);
    assert.equal(stack.truncated, false, `${build}: not truncated: ${describe(stack)}`);
    const chain = symbols.slice(at, at + site.callers.length);
    assert.ok(
      chain.length === site.callers.length && chain.every((s, i) => isSymbol(s, site.callers[i]!)),
      `${build}: ${site.symbol}'s callers are ${site.callers.join(' <- ')}; got ${describe(stack)}`,
    );
    const after = symbols.slice(at + site.callers.length);
    assert.ok(
      after.every((s) => s !== null && site.start.after.test(s)),
      `${build}: after ${site.start.root} only start-up code: ${describe(stack)}`,
    );
  }
}

function assertInUse(report: Report, fixture: Fixture, build: Build): void {
  if (fixture.inUseAtExit === undefined) return;
  const t = report.totals;
  assert.deepEqual({ bytes: t.outstandingBytes, allocations: t.outstandingAllocations }, fixture.inUseAtExit, `${build}: in use at exit`);
  assert.equal(t.lostEvents, 0, `${build}: lost events`);
}

for (const fixture of FIXTURES) {
  for (const build of BUILDS) {
    test(`unwind: ${fixture.name}-${build}, every stack whole and exact`, { timeout: 60_000 }, async (t) => {
      if (!requireBpf(t)) return;
      const { run, report } = await traceCommand(t, [path.join(fixtureBinaries, `${fixture.name}-${build}`)]);
      assert.equal(run.code, 0, run.stderr);
      for (const site of fixture.sites) assertWholeStacks(report, site, build);
      assertInUse(report, fixture, build);
    });
  }
}

/**
 * Launches unwind-dlopen under `leakhound trace` and lets it load its
 * library only once leakhound has attached (and 300 ms more), then call
 * into it once leakhound says it has the library's table: the table must be
 * built when the library appears, not at the start.
 */
async function traceLateLibrary(t: TestContext, build: Build): Promise<{ code: number | null; stderr: string; report: Report }> {
  const dir = scratchDir(t);
  const json = path.join(dir, 'report.json');
  const go = path.join(dir, 'go');
  const library = path.join(fixtureBinaries, `unwind-plugin-${build}.so`);
  const loaded = path.join(dir, 'loaded');
  const cli = startCli(['trace', '--verbose', '--json', json, '--', path.join(fixtureBinaries, `unwind-dlopen-${build}`), go, library, loaded]);
  t.after(() => {
    if (cli.exitCode === null && cli.signalCode === null) cli.kill('SIGKILL');
  });
  cli.stdin?.end();
  cli.stdout?.resume();
  const stderr = collect(cli.stderr);
  await lineMatching(cli.stderr!, /^leakhound: attached to PID/, 60_000);
  await sleep(300);
  const table = lineMatching(cli.stderr!, new RegExp(`^leakhound: unwind table of \\S*/unwind-plugin-${build}\\.so: `), 60_000);
  writeFileSync(go, '');
  await table;
  writeFileSync(loaded, '');
  const { code } = await exited(cli, 60_000);
  assert.ok(existsSync(json), `no report; leakhound exited ${code}; stderr: ${stderr()}`);
  return { code, stderr: stderr(), report: readReport(json) };
}

for (const build of BUILDS) {
  test(`unwind: a library dlopen()ed after the attach (unwind-dlopen-${build}), its stacks whole and exact`, { timeout: 90_000 }, async (t) => {
    if (!requireBpf(t)) return;
    const { code, stderr, report } = await traceLateLibrary(t, build);
    assert.equal(code, 0, stderr);
    assert.equal(report.target.exitCode, 0, 'the fixture found its file and its library');
    assertWholeStacks(report, PLUGIN_SITE, build);
    assert.equal(report.totals.lostEvents, 0);
  });
}

for (const build of BUILDS) {
  test(`unwind: an allocation in a signal handler (unwind-signal-${build}), its stack through the signal frame into the code the signal interrupted`, { timeout: 60_000 }, async (t) => {
    if (!requireBpf(t)) return;
    const { run, report } = await traceCommand(t, [path.join(fixtureBinaries, `unwind-signal-${build}`)]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(siteFigures(report, 'site_in_handler'), { bytes: 3 * 232, allocations: 3 });
    for (const stack of stacksAt(report, 'site_in_handler')) {
      const symbols = ownFrames(stack).map((f) => f.symbol);
      assert.equal(stack.partial, false, describe(stack));
      assert.deepEqual(symbols.slice(0, 2), ['site_in_handler', 'on_signal'], describe(stack));
      // __restore_rt, then raise's own frames in libc, then the program's.
      assert.equal(ownFrames(stack)[2]?.module, ownFrames(stack).find((f) => f.symbol === 'raise')?.module, describe(stack));
      const order = ['raise', 'signal_caller', 'main', '__libc_start_call_main'].map((name) => symbols.findIndex((s) => isSymbol(s, name)));
      assert.ok(order.every((at, i) => at > 2 && (i === 0 || at === order[i - 1]! + 1)), describe(stack));
    }
  });
}

test('unwind: code in an anonymous executable mapping (no table) is counted exactly, its stacks partial', { timeout: 60_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const { run, report } = await traceCommand(t, [path.join(fixtureBinaries, 'unwind-anon-code-nofp')]);
  assert.equal(run.code, 0, run.stderr);
  const where = run.stdout.match(/^anon code at (0x[0-9a-f]+)\+(\d+)$/m);
  assert.ok(where, `the fixture says where its copy is: ${JSON.stringify(run.stdout)}`);
  const start = BigInt(where[1]!);
  const end = start + BigInt(where[2]!);
  const inCopy = (frame: ReportFrame | undefined) => frame !== undefined && BigInt(frame.address) >= start && BigInt(frame.address) < end;

  // malloc called from the copy itself: the site is an address in no module.
  const fromCopy = report.stacks.filter((s) => inCopy(s.frames[0]));
  assert.ok(fromCopy.every((s) => s.frames[0]!.symbol === null), 'the copy has no name');
  assert.deepEqual(figuresOf(fromCopy), { bytes: 6 * 120, allocations: 6 }, 'figures at the copy');
  // A named site the copy calls: a walk from it stops at the copy at best.
  assert.deepEqual(siteFigures(report, 'site_called_from_anon'), { bytes: 2 * 136, allocations: 2 });
  const throughCopy = stacksAt(report, 'site_called_from_anon');

  for (const stack of [...fromCopy, ...throughCopy]) assert.equal(stack.partial, true, `partial: ${describe(stack)}`);
  assert.deepEqual({ bytes: report.totals.outstandingBytes, allocations: report.totals.outstandingAllocations }, { bytes: 992, allocations: 8 });
  assert.equal(report.totals.partialStacks, report.stacks.filter((s) => s.partial).length);
});
