// `leakhound kernel` against a kernel module that leaks a known amount: the
// leakhound_leaky fixture (test/fixtures/kmod/) is built against the running
// kernel's headers, loaded, and told to run its two batches while tracing:
//   leaky_kmalloc_batch  kmalloc(200) x 10, kfree x 4   -> 6 held
//   leaky_cache_batch    6 objects of its own cache, 2 freed -> 4 held
// The stacks through those functions must hold exactly what the module still
// holds, and nothing it freed. The host kernel of the development machine
// may have no module support at all: then the test skips, unless
// LEAKHOUND_REQUIRE_KMOD=1 (test/vm/run-in-vm.sh's kernels set it) says
// that modules must work here.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { startCli } from '../helpers/cli.js';
import { fixtureSources } from '../helpers/paths.js';
import { collect, exited, lineMatching } from '../helpers/process.js';
import { scratchDir } from '../helpers/tmp.js';
import type { KernelFrame, KernelReport, KernelStack } from '../helpers/kernel-report.js';

const MODULE = 'leakhound_leaky';
const CONTROL = '/proc/leakhound_leaky';
const CACHE = 'leakhound_leaky_cache';
/** What one "run" leaves held; test/fixtures/kmod/leakhound_leaky.c says so too. */
const KMALLOC = { function: 'leaky_kmalloc_batch', requested: 200, held: 6 };
const CACHED = { function: 'leaky_cache_batch', held: 4 };
/** Seconds `leakhound kernel` traces once attached; the module's batches take
 * microseconds, so this is only slack for a slow (emulated) machine. */
const DURATION_S = 5;

/** Why this kernel cannot load a module built here, or null if it can. */
function modulesUnavailable(): string | null {
  if (process.geteuid?.() !== 0) return 'loading a kernel module needs root';
  if (!existsSync('/proc/modules')) return 'this kernel cannot load modules (no /proc/modules)';
  const build = `/lib/modules/${os.release()}/build`;
  if (!existsSync(build)) return `no headers to build a module against (${build} is missing)`;
  return null;
}

/** True when the test may go on; otherwise skips it, or throws where modules are required. */
function requireModules(t: TestContext): boolean {
  const reason = modulesUnavailable();
  if (reason === null) return true;
  if (process.env.LEAKHOUND_REQUIRE_KMOD === '1') throw new Error(`LEAKHOUND_REQUIRE_KMOD=1 but ${reason}`);
  t.skip(reason);
  return false;
}

/** Runs a command to its end; throws with its output unless it exits 0. */
async function run(command: string, args: string[], timeoutMs: number): Promise<string> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  const exit = await exited(child, timeoutMs);
  const output = `${stdout()}${stderr()}`;
  assert.deepEqual(exit, { code: 0, signal: null }, `${command} ${args.join(' ')}:\n${output}`);
  return output;
}

/**
 * Builds the module from a copy of its sources (the checkout may be
 * read-only, as it is in the VM, and kbuild writes next to the sources).
 * Without pahole the kernel's kbuild cannot give the module BTF, which it
 * would otherwise insist on; the module needs none, so that step is left out.
 */
async function buildModule(t: TestContext): Promise<string> {
  const dir = path.join(scratchDir(t), 'kmod');
  cpSync(path.join(fixtureSources, 'kmod'), dir, { recursive: true });
  const args = ['-C', `/lib/modules/${os.release()}/build`, `M=${dir}`, 'modules'];
  if (spawnSync('pahole', ['--version']).status !== 0) args.push('CONFIG_DEBUG_INFO_BTF_MODULES=');
  // Minutes under emulation: kbuild probes the compiler many times.
  await run('make', args, 600_000);
  return path.join(dir, `${MODULE}.ko`);
}

/** The module's own count of the objects it holds, from its /proc file. */
function moduleHolds(): { kmalloc: number; cache: number } {
  const text = readFileSync(CONTROL, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { kmalloc: field('kmalloc_held'), cache: field('cache_held') };
}

const loaded = () => readFileSync('/proc/modules', 'utf8').split('\n').some((line) => line.startsWith(`${MODULE} `));

/** A slab cache's object size with its metadata and alignment: what the
 * tracer counts per object (SLUB's s->size). */
function slabSize(cache: string): number {
  return Number(readFileSync(`/sys/kernel/slab/${cache}/slab_size`, 'utf8').trim());
}

/**
 * The kmalloc cache that serves `bytes`: the smallest plain kmalloc-N with
 * N >= bytes (kmalloc(200) comes from kmalloc-256, as kmalloc-192 is too
 * small). The tracer counts its slab_size, normally N itself; slab debugging
 * would add red zones, hence the read.
 */
function kmallocSize(bytes: number): number {
  const sizes = readdirSync('/sys/kernel/slab')
    .map((name) => /^kmalloc-(\d+)$/.exec(name))
    .filter((match) => match !== null)
    .map((match) => Number(match[1]))
    .filter((size) => size >= bytes)
    .sort((a, b) => a - b);
  assert.ok(sizes.length > 0, `no kmalloc cache for ${bytes} bytes in /sys/kernel/slab`);
  return slabSize(`kmalloc-${sizes[0]}`);
}

/** A frame in the module's code: reports name the module as kallsyms prints
 * it, "[leakhound_leaky]"; the bare name is taken too. */
const inModule = (frame: KernelFrame) => frame.module === `[${MODULE}]` || frame.module === MODULE;

/** The function's own frame, in the module: "name" or "name+0x1f/0x80". */
const isModuleFrame = (frame: KernelFrame, name: string) =>
  inModule(frame) && frame.symbol !== null && (frame.symbol === name || frame.symbol.startsWith(`${name}+`));

/**
 * Not the objects themselves: a batch that finds its cache without a free
 * slot makes a new slab (pages from the page allocator, under allocate_slab),
 * and that slab stays with the cache after the objects in it are freed. Whether
 * a run needs one depends on what the cache held before, so those stacks are
 * left out, as in kernel.test.ts.
 */
const SLAB_GROWTH = ['allocate_slab', 'new_slab', 'alloc_slab_page'];
const slabGrowth = (stack: KernelStack) => stack.frames.some((frame) => SLAB_GROWTH.includes(frame.symbol ?? ''));

/** The stacks of the objects `name` allocated (and did not free). */
const through = (report: KernelReport, name: string) =>
  report.stacks.filter((stack) => !slabGrowth(stack) && stack.frames.some((frame) => isModuleFrame(frame, name)));

/** One line per stack that runs through the module, for failure messages. */
const moduleStacks = (report: KernelReport) =>
  report.stacks
    .filter((stack) => stack.frames.some(inModule))
    .map((stack) => `\n  ${stack.allocations} allocations, ${stack.bytes} bytes${stack.cache ? ` (${stack.cache})` : ''}: ${stack.frames.map((frame) => frame.symbol ?? frame.address).join(' < ')}`)
    .join('');

function held(report: KernelReport, name: string): { allocations: number; bytes: number } {
  return through(report, name).reduce((sum, stack) => ({ allocations: sum.allocations + stack.allocations, bytes: sum.bytes + stack.bytes }), { allocations: 0, bytes: 0 });
}

/** Traces with `--attach method` while the module runs one batch of each kind. */
async function traceOneRun(t: TestContext, method: 'tracepoint' | 'kprobe'): Promise<KernelReport> {
  const json = path.join(scratchDir(t), 'report.json');
  const cli = startCli(['kernel', '--attach', method, '--duration', String(DURATION_S), '--json', json]);
  t.after(() => {
    if (cli.exitCode === null && cli.signalCode === null) cli.kill('SIGKILL');
  });
  const stderr = collect(cli.stderr);
  cli.stdout!.resume();
  // Loading and attaching is slow under emulation (the tests' VMs).
  await lineMatching(cli.stderr!, /^leakhound: attached /, 180_000);
  writeFileSync(CONTROL, 'run\n');
  assert.deepEqual(await exited(cli, (DURATION_S + 120) * 1000), { code: 0, signal: null }, `stderr: ${stderr()}`);
  const report = JSON.parse(readFileSync(json, 'utf8')) as KernelReport;
  assert.equal(report.schema, 'leakhound.report/v1');
  assert.equal(report.mode, 'kernel');
  return report;
}

function assertExact(report: KernelReport): void {
  const kmalloc = kmallocSize(KMALLOC.requested);
  const cache = slabSize(CACHE);
  assert.deepEqual(held(report, KMALLOC.function), { allocations: KMALLOC.held, bytes: KMALLOC.held * kmalloc }, `kmalloc'd objects still held (${kmalloc} bytes each); stacks through the module:${moduleStacks(report)}`);
  assert.deepEqual(held(report, CACHED.function), { allocations: CACHED.held, bytes: CACHED.held * cache }, `${CACHE} objects still held (${cache} bytes each); stacks through the module:${moduleStacks(report)}`);
  for (const stack of through(report, CACHED.function)) {
    if (stack.cache !== undefined) assert.equal(stack.cache, CACHE, 'the slab cache named');
  }
  // Every object of the module's is under exactly one of the two batches:
  // nothing else of the module's is outstanding, and no stack mixes them.
  for (const stack of report.stacks.filter((stack) => stack.frames.some(inModule) && !slabGrowth(stack))) {
    const batches = [KMALLOC.function, CACHED.function].filter((name) => stack.frames.some((frame) => isModuleFrame(frame, name)));
    assert.equal(batches.length, 1, `a stack through the module, under ${batches.length} batches:${moduleStacks({ ...report, stacks: [stack] })}`);
  }
  assert.equal(report.totals.lostEvents, 0, 'lost events');
}

test('kernel module: what a module kmallocs and allocates from its own cache is outstanding, exactly, per attach method', { timeout: 1_200_000 }, async (t) => {
  if (!requireModules(t)) return;
  if (!requireBpf(t)) return;
  if (loaded()) await run('rmmod', [MODULE], 30_000); // left over from an interrupted run
  const ko = await buildModule(t);
  await run('insmod', [ko], 60_000);
  try {
    assert.deepEqual(moduleHolds(), { kmalloc: 0, cache: 0 });
    const methods: { method: 'tracepoint' | 'kprobe'; skip: string | false }[] = [
      { method: 'tracepoint', skip: false },
      { method: 'kprobe', skip: existsSync('/sys/bus/event_source/devices/kprobe') ? false : 'this kernel has no kprobes' },
    ];
    for (const { method, skip } of methods) {
      await t.test(`--attach ${method}`, { skip, timeout: 600_000 }, async (st) => {
        try {
          const report = await traceOneRun(st, method);
          assert.deepEqual(moduleHolds(), { kmalloc: KMALLOC.held, cache: CACHED.held }, 'what the module says it holds');
          assertExact(report);
        } finally {
          // The next method starts from nothing held.
          writeFileSync(CONTROL, 'free\n');
        }
      });
    }
  } finally {
    await run('rmmod', [MODULE], 60_000);
  }
});
