// `leakhound trace`: load the uprobe programs, find the target's allocator,
// attach, pump events into the ledger, and turn what is left into a report.
import { release } from 'node:os';

import { Ledger } from '../aggregate/ledger.js';
import { LeakhoundError } from '../errors.js';

import { addon, type ExitStatus, type KernelFeatures, type NativeTracer } from '../native/binding.js';
import { MAX_STACK_DEPTH } from '../native/layout.js';
import { refusedProgram } from '../native/libbpf-log.js';
import { buildReport } from '../report/build.js';
import { isPartialStack } from '../report/partial.js';
import type { Report } from '../report/types.js';
import { type FileMapping, MappedObjects } from '../symbolize/mapped-objects.js';
import { ModuleMap } from '../symbolize/module-map.js';
import { UserSymbolizer } from '../symbolize/user-symbolizer.js';
import type { AllocatorChoice } from '../target/allocator.js';
import { FramePointerCensus } from '../target/frame-pointers.js';
import { LaunchedCommand, launchHeld } from '../target/launch.js';
import { requireTraceable } from '../target/target-process.js';
import { ExecFollower } from './exec-follower.js';
import { checkBtf, checkPrivileges } from './preflight.js';
import { exitedWhileAttaching, TargetProbes, tryReadMaps } from './target-probes.js';
import { POLL_MS, pump, type StopReason } from './pump.js';
import { type Capabilities, type Choice, chooseStackWalk, directMapFailure, kallsymsHasPageOffsetBase, readCpuinfo, requireFeatures, type StackWalk } from './capabilities.js';
import { type MemoryLayout, readMemoryLayout } from './memory-layout.js';
import type { StopSignal } from './stop-signal.js';

export interface UserTraceOptions {
  pid: number | null;
  command: string[] | null;
  durationMs: number | null;
  intervalMs: number | null;
  minSize: number;
  maxSize: number;
  olderThanMs: number;
  allocator: string | null;
  stackDepth: number;
  /** Keep one allocation in this many (1: every one). */
  sampleEvery?: number;
  maxStacks: number;
  ringBytes: number;
  verbose: boolean;
  /** Trace every process the target forks and execs from now on. */
  followChildren?: boolean;
  /** Benchmarks only: attach the same probes with programs that do nothing. */
  floorOnly?: boolean;
  /** One line for the user while tracing (stderr). */
  say: (line: string) => void;
  /** Signals that stop the trace. The caller's, from its first moment to
   * its last: a launched command is waited for, and signalled, after it. */
  stop: StopSignal;
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
    return await traceWith(tracer, options.stop, objects, { ...options, exitProgram: EXIT_PROGRAMS[walk.chosen] }, capabilities);
  } finally {
    tracer.close();
    objects.close();
  }
}

/** The return program of each stack walk (bpf/user-alloc.bpf.c). */
const EXIT_PROGRAMS: Record<StackWalk, string> = { 'direct-map': 'alloc_exit', copy: 'alloc_exit_copy' };
/** What only the direct-map walk loads. */
const DIRECT_MAP_PROGRAMS = ['alloc_exit', 'find_direct_map'];

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
    maxEntries: { stacks: options.maxStacks, events: options.ringBytes },
    batchBytes: 4 << 20,
    // Where the kernel has them (6.6+); LEAKHOUND_UPROBE_MULTI=0 tests the
    // one-link-per-probe path older kernels take.
    uprobeMulti: features.uprobeMulti && process.env.LEAKHOUND_UPROBE_MULTI !== '0',
    skipPrograms: walk === 'copy' ? DIRECT_MAP_PROGRAMS : [EXIT_PROGRAMS.copy],
  });
}

async function traceWith(tracer: NativeTracer, stop: StopSignal, objects: MappedObjects, options: UserTraceOptions & { exitProgram: string }, capabilities: Capabilities): Promise<UserTraceResult> {
  const launched = options.command ? launchHeld(options.command) : null;
  const pid = launched?.pid ?? (options.pid as number);
  let gone = launched?.poll() != null;
  // A second signal means the command would not stop: it is leakhound's
  // child, so kill it rather than leave it behind.
  stop.onRepeat((signal) => {
    if (!launched || launched.poll()) return;
    options.say(`${signal.name} again: killing the command (PID ${pid}) with SIGKILL`);
    launched.signal('SIGKILL');
  });
  const keep = (mapping: FileMapping) => objects.keep(pid, mapping);
  const modules = new ModuleMap(keep);
  const census = new FramePointerCensus({
    sample: (path, max) => addon().elfFunctionSample(path, max),
    decode: (path, extents) => addon().decodeFunctions(path, extents),
  });
  const keepsFramePointers = (module: string) => {
    const file = modules.openPath(module);
    return file === null ? null : census.keeps(file);
  };
  const probes = new TargetProbes(tracer, keep, { pid, allocator: options.allocator, exitProgram: options.exitProgram, verbose: options.verbose, say: options.say });
  const follower = launched ? new ExecFollower(tracer, launched) : null;
  try {
    if (!gone) {
      const choice = probes.probe(modules);
      if (options.verbose) options.say(`code without frame pointers: ${modulesWithoutFramePointers(modules, keepsFramePointers)}`);
      follower?.arm();
      options.say(`attached to PID ${pid} (${describeChoice(choice)})`);
      // Said once tracing has begun, so that bad input still gets one line.
      const walk = capabilities.stackWalk;
      if (walk?.chosen === 'copy' && !walk.reason.startsWith('forced')) options.say(`stack walk: copying the stack with bpf_probe_read_user, not reading it through the kernel's direct map: ${walk.reason}`);
    }
  } catch (error) {
    if (launched) launched.signal('SIGKILL');
    else if (!processAlive(pid)) throw exitedWhileAttaching(pid);
    throw error;
  } finally {
    launched?.release();
  }
  /** After an exec, the program the command became gets its own allocator's probes. */
  const followExec = () =>
    follower?.follow(() => {
      try {
        options.say(`PID ${pid} exec'd: ${describeChoice(probes.probe(modules))}`);
      } catch (error) {
        options.say(`warning: PID ${pid} exec'd, and its new program's allocator cannot be probed: ${(error as Error).message}`);
      }
    });

  const ledger = new Ledger();
  let stacksSeen = 0;
  const targetEnded = (): boolean => {
    followExec();
    if (!gone) gone = launched ? launched.poll() !== null : !processAlive(pid);
    return gone;
  };
  const result = await pump({
    tracer,
    ledger,
    stop: launched ? passedOn(stop, launched) : stop,
    durationMs: options.durationMs,
    intervalMs: options.intervalMs,
    targetEnded,
    // A launched command's maps vanish when it exits: snapshot them while
    // new stacks keep appearing, so every frame can still be placed.
    afterDrain: () => {
      if (ledger.stackCount === stacksSeen || gone) return;
      stacksSeen = ledger.stackCount;
      const snapshot = tryReadMaps(pid);
      if (!snapshot) return;
      modules.add(snapshot);
    },
    say: options.say,
  });

  // An exec in the last moments, caught but not followed: let it run on.
  follower?.letGo();
  const symbolizer = new UserSymbolizer(modules);
  const exited = launched?.poll() ?? null;
  try {
    const report = buildReport({
      mode: 'user',
      target: { pid, command: options.command, exitCode: exited?.code ?? null, cpuMs: exited?.cpuMs ?? null },
      durationMs: result.durationMs,
      ledger,
      tracer,
      olderThanMs: options.olderThanMs,
      endClock: result.endClock,
      readStack: (id) => Array.from(tracer.stack(id), Number),
      resolveStacks: (stacks) => symbolizer.resolveStacks(stacks),
      isPartial: (frames, walkCut) => isPartialStack(frames, keepsFramePointers, walkCut),
      capabilities,
      sampleEvery: options.sampleEvery,
    });
    return { report, reason: result.reason, commandExit: launched ? launched.exit(POLL_MS) : null };
  } finally {
    symbolizer.close();
  }
}

function describeChoice(choice: AllocatorChoice): string {
  return `${choice.probes.length} probes on ${choice.allocator}${choice.cxxRuntime ? ` and ${choice.cxxRuntime}` : ''}`;
}

/** The target's objects built without frame pointers, named for --verbose:
 * the walk goes on through them, and their stacks are marked partial. */
function modulesWithoutFramePointers(modules: ModuleMap, keeps: (module: string) => boolean | null): string {
  const named = [...new Set(modules.code().map((range) => range.path))].filter((path) => keeps(path) === false);
  return named.length === 0 ? 'none' : named.join(', ');
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A launched command's trace ends with the command, so that its report is
 * what it held when it exited (a graceful shutdown frees what was no leak).
 * A stop signal is the command's to act on: passed on as the same signal,
 * unless the terminal already sent it to the whole foreground group. Only
 * SIGPIPE, about leakhound's own output, ends the trace at once (the command
 * runs on, and is waited for).
 */
function passedOn(stop: StopSignal, command: LaunchedCommand): Pick<StopSignal, 'whenRequested'> {
  return {
    whenRequested: (endTrace) =>
      stop.whenRequested((signal) => {
        if (signal.name === 'SIGPIPE') endTrace(signal);
        else if (!signal.fromTerminal) command.signal(signal.name);
      }),
  };
}

export const DEFAULT_STACK_DEPTH = MAX_STACK_DEPTH;

/** The user-alloc object's .rodata knobs (test/unit/contract.test.ts checks the names against the BPF object). */
export function userKnobs(options: UserTraceOptions, memory: MemoryLayout): Record<string, number> {
  return {
    min_size: options.minSize,
    max_size: options.maxSize,
    stack_depth: options.stackDepth,
    page_size: 4096,
    floor_only: options.floorOnly ? 1 : 0,
    follow_children: options.followChildren ? 1 : 0,
    sample_every: options.sampleEvery ?? 1,
    phys_end: memory.physEnd,
    paging_levels: memory.pagingLevels,
  };
}
