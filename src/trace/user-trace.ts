// `leakhound trace`: load the uprobe programs, find the target's allocator,
// attach, pump events into the ledger, and turn what is left into a report.
import { release } from 'node:os';

import { Ledger, type LedgerOptions } from '../aggregate/ledger.js';
import { ResourceLedger } from '../aggregate/resource-ledger.js';
import { StackHistory } from '../aggregate/stack-history.js';
import { LeakhoundError } from '../errors.js';

import { addon, type ExitStatus, type KernelFeatures, type NativeTracer, readCounters } from '../native/binding.js';
import { structs } from '../native/contract.generated.js';
import { MAX_STACK_DEPTH } from '../native/layout.js';
import { refusedProgram } from '../native/libbpf-log.js';
import { buildReport } from '../report/build.js';
import { ReachabilityRun } from '../reachability/reachability-run.js';
import { serveTrace } from '../metrics/serve-trace.js';
import type { MetricsEndpoint } from '../metrics/server.js';
import { isPartialStack } from '../report/partial.js';
import type { ProcessMemorySample } from '../report/process-growth.js';
import type { Report } from '../report/types.js';
import { MappedObjects } from '../symbolize/mapped-objects.js';
import type { LaunchedCommand } from '../target/launch.js';
import { readProcessMemory } from '../target/process-memory.js';
import { requireTraceable } from '../target/target-process.js';
import { checkBtf, checkPrivileges } from './preflight.js';
import { ProcessSymbolizers } from './process-symbolizers.js';
import { POLL_MS, pump, type StopReason } from './pump.js';
import { type Capabilities, type Choice, chooseStackWalk, directMapFailure, kallsymsHasPageOffsetBase, readCpuinfo, requireFeatures, type StackWalk } from './capabilities.js';
import { type MemoryLayout, readMemoryLayout } from './memory-layout.js';
import { attachOomVictims, OomRecorder, withOomKill } from './oom-recorder.js';
import type { TraceStop } from './stop-signal.js';
import { type LiveSnapshot, liveSnapshot } from './live-snapshot.js';
import { LiveStackNames } from '../report/live-stack-names.js';
import type { UnwindCapacity, UnwindStats } from './unwind-tables.js';
import { RESOURCE_TRACEPOINTS, UserTarget } from './user-target.js';
import type { WalkPrograms } from './target-probes.js';

export interface UserTraceOptions {
  pid: number | null;
  command: string[] | null;
  durationMs: number | null;
  intervalMs: number | null;
  minSize: number;
  maxSize: number;
  olderThanMs: number;
  /** Churn stacks the report lists (--churn-stacks). */
  churnStacks: number;
  allocator: string | null;
  stackDepth: number;
  /** Keep one allocation in this many (1: every one). */
  sampleEvery?: number;
  maxStacks: number;
  ringBytes: number;
  /** Rows of unwind tables the BPF maps hold (0: frame pointers alone). */
  unwindRows: number;
  verbose: boolean;
  /** Trace every process the target forks and execs from now on. */
  followChildren?: boolean;
  /** Trace every process in this cgroup v2 directory or below it, now and later (pid and command null). */
  cgroup?: string | null;
  /** Descriptors by the stack that made them. */
  fds: boolean;
  /** Mappings (mmap, mremap, brk) by the stack that made them. */
  mappings: boolean;
  /** Each free's stack, to name both frees of a block freed twice. */
  freeStacks: boolean;
  /** Sort the blocks into leak classes by what points to them (src/reachability/). */
  reachability?: boolean;
  /** With reachability, an attached process is stopped around the scan. */
  pause?: boolean;
  /** Benchmarks only: attach the same probes with programs that do nothing. */
  floorOnly?: boolean;
  /** Serves the live figures while tracing (--metrics-port). */
  metrics?: MetricsEndpoint;
  /** One line for the user while tracing (stderr). */
  say: (line: string) => void;
  /** Called at each interval, with the top stacks named on request (the live view, the library). */
  onInterval?: (snapshot: LiveSnapshot) => void;
  /** Whether each interval says its summary line (default true). */
  intervalLines?: boolean;
  /** Signals that stop the trace. The caller's, from its first moment to
   * its last: a launched command is waited for, and signalled, after it. */
  stop: TraceStop;
}

export interface UserTraceResult {
  report: Report;
  reason: StopReason;
  /** For a launched command: resolves with its exit status once it ends. */
  commandExit: Promise<ExitStatus> | null;
}

export async function traceUser(options: UserTraceOptions): Promise<UserTraceResult> {
  checkPrivileges();
  if (options.pid !== null) requireTraceable(options.pid);
  checkBtf();
  const features = addon().kernelFeatures();
  requireFeatures(features, 'user');
  // Load before touching any process: a load failure leaves nothing behind.
  const { tracer, walk } = openTracer(options, features);
  const capabilities: Capabilities = { kernel: release(), features, stackWalk: walk, missing: [] };
  if (options.verbose) options.say(`stack walk: ${walk.chosen} (${walk.reason})`);
  // The target's objects, held open until the report is written.
  const objects = new MappedObjects(options.verbose ? options.say : () => {});
  try {
    return await traceWith(tracer, options.stop, objects, { ...options, walkPrograms: WALK_PROGRAMS[walk.chosen] }, capabilities);
  } finally {
    tracer.close();
    objects.close();
  }
}

/** The programs of each stack walk that probes attach (bpf/user-alloc.bpf.c). */
const WALK_PROGRAMS: Record<StackWalk, WalkPrograms> = {
  'direct-map': { alloc_exit: 'alloc_exit', free_enter: 'free_enter' },
  copy: { alloc_exit: 'alloc_exit_copy', free_enter: 'free_enter_copy' },
};
/** What only the direct-map walk loads. */
const DIRECT_MAP_PROGRAMS = ['alloc_exit', 'free_enter', 'find_direct_map'];

function resources(options: UserTraceOptions): boolean {
  return (options.fds || options.mappings) && !options.floorOnly;
}

/** Frees are judged only where every allocation is seen (no sampling, no
 * size filter), and pointers never handed out only where the process was
 * watched from its start (a launched command). */
function freeChecks(options: UserTraceOptions): LedgerOptions {
  const everyAllocation = (options.sampleEvery ?? 1) === 1 && options.minSize === 0 && options.maxSize >= Number.MAX_SAFE_INTEGER;
  const checkFrees = options.freeStacks && everyAllocation && !options.floorOnly;
  return { checkFrees, unknownPointers: checkFrees && options.command !== null };
}

/** Programs this trace does without. */
function skippedPrograms(options: UserTraceOptions, walk: StackWalk): string[] {
  const walkOnly = walk === 'copy' ? DIRECT_MAP_PROGRAMS : Object.values(WALK_PROGRAMS.copy);
  return [...walkOnly, ...(resources(options) ? [] : RESOURCE_TRACEPOINTS.map(([program]) => program)), ...(stopsAtExit(options) ? [] : ['exit_stop'])];
}

/** A launched command is scanned as it calls _exit (bpf/exit-stop.bpf.h). */
function stopsAtExit(options: UserTraceOptions): boolean {
  return Boolean(options.reachability) && options.command !== null && !options.floorOnly;
}

/** Loads the programs of the best stack walk this kernel can run: the
 * direct-map walk where it is safe and the kernel takes it, else the copy,
 * saying in one line why it fell back. */
function openTracer(options: UserTraceOptions, features: KernelFeatures): { tracer: NativeTracer; walk: Choice<StackWalk> } {
  const memory = readMemoryLayout();
  const walk = chooseStackWalk({
    features,
    cpuinfo: readCpuinfo(),
    physEnd: memory.physEnd,
    forced: process.env.LEAKHOUND_STACK_WALK,
    exportsPageOffsetBase: () => kallsymsHasPageOffsetBase(),
  });
  if (walk.chosen === 'copy' || options.floorOnly) return { tracer: loadTracer(options, features, memory, walk.chosen), walk };
  const forced = walk.reason.startsWith('forced');
  let failure: string;
  try {
    const tracer = loadTracer(options, features, memory, 'direct-map');
    const status = tracer.run('find_direct_map');
    if (status === 0) return { tracer, walk };
    tracer.close();
    failure = directMapFailure(status);
  } catch (error) {
    if (forced) throw error;
    failure = refusal(error);
  }
  if (forced) throw new LeakhoundError('NO_DIRECT_MAP', `the direct-map stack walk cannot run here: ${failure}`, 'unset LEAKHOUND_STACK_WALK');
  return { tracer: loadTracer(options, features, memory, 'copy'), walk: { chosen: 'copy', reason: failure } };
}

/** Why the direct-map walk's programs did not load. */
function refusal(error: unknown): string {
  const refused = refusedProgram(error);
  return refused ? `the kernel refused program '${refused.program}' (${refused.verdict})` : `its programs did not load (${(error as Error).message})`;
}

function loadTracer(options: UserTraceOptions, features: KernelFeatures, memory: MemoryLayout, walk: StackWalk): NativeTracer {
  return new (addon().Tracer)('user', {
    knobs: userKnobs(options, memory),
    maxEntries: { stacks: options.maxStacks, events: options.ringBytes, ...unwindEntries(unwindCapacity(options)) },
    batchBytes: 4 << 20,
    // Where the kernel has them (6.6+); LEAKHOUND_UPROBE_MULTI=0 tests the
    // one-link-per-probe path older kernels take.
    uprobeMulti: features.uprobeMulti && process.env.LEAKHOUND_UPROBE_MULTI !== '0',
    skipPrograms: skippedPrograms(options, walk),
  });
}

async function traceWith(tracer: NativeTracer, stop: TraceStop, objects: MappedObjects, options: UserTraceOptions & { walkPrograms: WalkPrograms }, capabilities: Capabilities): Promise<UserTraceResult> {
  const unwind = unwindCapacity(options);
  // Before the command is launched: a failure leaves nothing behind.
  const recordsOom = !options.floorOnly && attachOomVictims(tracer, options.say);
  const target = new UserTarget(tracer, objects, { ...options, followChildren: options.followChildren ?? false, cgroup: options.cgroup ?? null, unwind, resources: resources(options), stopAtExit: stopsAtExit(options) });
  const { pid, launched } = target;
  // A second signal means the command would not stop: it is leakhound's
  // child, so kill it rather than leave it behind.
  stop.onRepeat((signal) => {
    if (!launched || launched.poll()) return;
    options.say(`${signal.name} again: killing the command (PID ${pid}) with SIGKILL`);
    launched.signal('SIGKILL');
  });
  if (target.attach()) {
    // Said once tracing has begun, so that bad input still gets one line.
    const walk = capabilities.stackWalk;
    if (walk?.chosen === 'copy' && !walk.reason.startsWith('forced')) options.say(`stack walk: copying the stack with bpf_probe_read_user, not reading it through the kernel's direct map: ${walk.reason}`);
  }

  const ledger = new Ledger(freeChecks(options));
  const oom = recordsOom ? new OomRecorder((tgid) => tgid === pid || target.processes.knows(tgid) || ledger.pids().includes(tgid), options.say) : null;
  const held = resources(options) ? new ResourceLedger({ fds: options.fds, mappings: options.mappings }) : null;
  const reachability = options.reachability && pid !== null ? reachabilityRun(pid, ledger, launched, options.say) : null;
  let stacksSeen = 0;
  const history = options.intervalMs === null ? null : new StackHistory<ProcessMemorySample | null>();
  // The process's own memory only for a single target: beside many, one
  // process's figures would not match the traced bytes.
  const sampled = options.followChildren || options.cgroup ? null : pid;
  // Scrapes read the ledgers as they stand; the labels' names come from symbolizers of their own.
  const served = serveTrace(options.metrics, { mode: 'user', ledger, resources: held, tracer, sampleEvery: options.sampleEvery ?? 1, readStack: (id) => Array.from(tracer.stack(id), Number), openSymbols: () => new ProcessSymbolizers(target.processes) });
  // Names for the stacks an interval consumer asks for, with symbolizers of their own.
  const liveNames = options.onInterval ? new LiveStackNames({ mode: 'user', readStack: (id) => Array.from(tracer.stack(id), Number), openSymbols: () => new ProcessSymbolizers(target.processes) }) : null;
  const result = await pump({
    tracer,
    ledger,
    stop: launched ? passedOn(stop, launched) : stop,
    durationMs: options.durationMs,
    intervalMs: options.intervalMs,
    targetEnded: () => target.ended(ledger),
    // A process's maps vanish when it exits: snapshot them while new stacks
    // keep appearing, so every frame can still be placed.
    afterDrain: () => {
      // Every section's stacks: the heap's, descriptors' and mappings', and invalid frees'.
      const seen = ledger.stackCount + (held?.stacks.size ?? 0) + (ledger.freeCheck?.invalid.length ?? 0);
      if (seen !== stacksSeen) {
        stacksSeen = seen;
        target.processes.snapshotAll();
      }
      // After the snapshot: a command stopped at its exit goes on once scanned.
      reachability?.scanIfExiting();
    },
    say: options.say,
    onInterval: (snapshot) => {
      history?.record(snapshot.elapsedMs, snapshot.ledger.byStack(), sampled === null ? null : readProcessMemory(sampled));
      if (liveNames) options.onInterval?.(liveSnapshot(snapshot, liveNames));
    },
    intervalLines: options.intervalLines ?? true,
    ...(target.tables ? { requests: target.tables } : {}),
    ...(held ? { resources: held } : {}),
    ...(oom ? { oom } : {}),
    ...(reachability && launched ? { exits: reachability } : {}),
    ...(reachability && !launched ? { beforeDetach: (drain: () => void) => reachability.scanAtEnd(options.pause ?? false, drain) } : {}),
  });
  await served?.end();
  liveNames?.close();
  reachability?.finish(launched !== null);
  target.letGo();
  const counters = readCounters(tracer);
  if (target.tables && options.verbose) options.say(describeTables(target.tables.stats, unwind as UnwindCapacity));
  const cuts = [
    [counters.unwindCut, 'where no unwind rule held'],
    [counters.unwindPending, "at code whose unwind table was not built yet (mapped moments before)"],
    [counters.guessed, 'through code without an unwind table (walked by frame pointer)'],
    [counters.mappingsBusy, "where another thread held the process's memory map lock"],
  ].filter(([n]) => (n as number) > 0);
  if (cuts.length > 0) options.say(`stacks cut short: ${cuts.map(([n, why]) => `${n} ${why}`).join(', ')}; marked partial`);
  const untraced = counters.followFull;
  if (untraced > 0) options.say(`warning: ${untraced} new processes went untraced: the table of followed processes (65,536) was full`);

  const exited = target.exitStatus();
  const symbolizers = new ProcessSymbolizers(target.processes);
  try {
    const report = buildReport({
      mode: 'user',
      target: { pid, command: options.command, exitCode: exited?.code ?? null, cpuMs: exited?.cpuMs ?? null },
      durationMs: result.durationMs,
      ledger,
      tracer,
      olderThanMs: options.olderThanMs,
    churnStacks: options.churnStacks,
      endClock: result.endClock,
      readStack: (id) => Array.from(tracer.stack(id), Number),
      resolveStacks: (stacks, pids) => symbolizers.resolveStacks(stacks, pids),
      // With tables the walk knows where it stopped short; without, frames
      // through code without frame pointers are judged here.
      isPartial: (frames, walkCut) => (unwind ? walkCut : isPartialStack(frames, target.keepsFramePointers, walkCut)),
      capabilities,
      sampleEvery: options.sampleEvery,
      ...(held ? { resources: held } : {}),
      ...(history ? { growth: { history, pid: sampled } } : {}),
      ...(reachability?.report ? { reachability: { report: reachability.report, classesOf: reachability.classesOf } } : {}),
      ...(options.followChildren || options.cgroup
        ? { perProcess: { command: (p: number) => (p === pid && options.command ? options.command : target.processes.command(p)), exitCode: (p: number) => (p === pid ? (exited?.code ?? null) : null) } }
        : {}),
    });
    return { report: withOomKill(report, oom), reason: result.reason, commandExit: launched ? launched.exit(POLL_MS) : null };
  } finally {
    symbolizers.close();
  }
}

function reachabilityRun(pid: number, ledger: Ledger, launched: LaunchedCommand | null, say: (line: string) => void): ReachabilityRun {
  return new ReachabilityRun({ pid, blocks: () => ledger.blocksOf(pid), resume: () => (launched ? launched.signal('SIGCONT') : process.kill(pid, 'SIGCONT')), say });
}

/**
 * A launched command's trace ends with the command, so that its report is
 * what it held when it exited (a graceful shutdown frees what was no leak).
 * A stop signal is the command's to act on: passed on as the same signal,
 * unless the terminal already sent it to the whole foreground group. Only
 * SIGPIPE, about leakhound's own output, ends the trace at once (the command
 * runs on, and is waited for).
 */
function passedOn(stop: TraceStop, command: LaunchedCommand): Pick<TraceStop, 'whenRequested'> {
  return {
    whenRequested: (endTrace) =>
      stop.whenRequested((signal) => {
        if (signal.name === 'SIGPIPE') endTrace(signal);
        else if (!signal.fromTerminal) command.signal(signal.name);
      }),
  };
}

export const DEFAULT_STACK_DEPTH = MAX_STACK_DEPTH;

/** Whole stacks of a large program differ in many ways: cc1plus compiling
 * one heavy file makes between 65,536 and 262,144. The table takes memory
 * only as stacks come (~600 bytes each). */
export const DEFAULT_MAX_STACKS = 1 << 18;

/** Rows of unwind tables by default: 16 MiB of BPF maps, enough for ~140 MB
 * of code without frame pointers (cc1plus, 35 MB, takes 517k rows). */
export const DEFAULT_UNWIND_ROWS = 1 << 21;

/** Pages of the index per row: a page of code holds far more than one row. */
const PAGES_PER_ROW = 1 / 16;

/** Room for unwind tables, or null when the walk follows frame pointers alone. */
function unwindCapacity(options: UserTraceOptions): UnwindCapacity | null {
  if (options.floorOnly || options.unwindRows === 0) return null;
  return { rows: options.unwindRows, pages: Math.ceil(options.unwindRows * PAGES_PER_ROW) };
}

/** The arrays' sizes; an array map cannot be empty. */
function unwindEntries(capacity: UnwindCapacity | null): Record<string, number> {
  return { unwind_rows: capacity?.rows || 1, unwind_pages: capacity?.pages || 1 };
}

function describeTables(stats: UnwindStats, capacity: UnwindCapacity): string {
  const mib = (rows: number) => ((rows * structs.lh_unwind_row.size) / 2 ** 20).toFixed(1);
  return `unwind tables: ${stats.objects} objects, ${stats.rows} rows (${mib(stats.rows)} of ${mib(capacity.rows)} MiB), built in ${Math.round(stats.buildMs)} ms; ${stats.framePointers} objects walked by frame pointer, ${stats.without.length} without a table`;
}

/** The user-alloc object's .rodata knobs (test/unit/contract.test.ts checks the names against the BPF object). */
export function userKnobs(options: UserTraceOptions, memory: MemoryLayout): Record<string, number> {
  return {
    min_size: options.minSize,
    max_size: options.maxSize,
    stack_depth: options.stackDepth,
    page_size: 4096,
    floor_only: options.floorOnly ? 1 : 0,
    follow_children: options.followChildren || options.cgroup ? 1 : 0,
    unwind: unwindCapacity(options) ? 1 : 0,
    free_stacks: options.freeStacks ? 1 : 0,
    trace_fds: options.fds ? 1 : 0,
    trace_mappings: options.mappings ? 1 : 0,
    in_cgroup: options.cgroup ? 1 : 0,
    sample_every: options.sampleEvery ?? 1,
    phys_end: memory.physEnd,
    paging_levels: memory.pagingLevels,
  };
}
