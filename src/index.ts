// leakhound as a library (the package's entry): start a trace of a process,
// a command or the kernel, read its interval snapshots, stop it, and render,
// convert or diff its report. The CLI runs the same traces (src/trace/) and
// renderers; this file only gives them defaults, checks and one handle.
import { MAX_BPF_TABLE_ENTRIES, MAX_PID } from './cli/options.js';
import { checkReachability } from './cli/reachability-options.js';
import { LeakhoundError } from './errors.js';
import { DEFAULT_CHURN_STACKS, MAX_CHURN_STACKS } from './report/build.js';
import { DEFAULT_RING_BYTES } from './trace/pump.js';
import type { LiveSnapshot } from './trace/live-snapshot.js';
import { type AttachChoice, ATTACH_CHOICES, checkPid, resolveCgroup } from './trace/kernel-preflight.js';
import { DEFAULT_KERNEL_MAX_STACKS, DEFAULT_MAX_ALLOCATIONS, traceKernel } from './trace/kernel-trace.js';
import { tracedCgroup } from './trace/preflight.js';
import { startHandle, type TraceHandle } from './trace/trace-handle.js';
import { DEFAULT_MAX_STACKS, DEFAULT_STACK_DEPTH, DEFAULT_UNWIND_ROWS, traceUser, type UserTraceOptions } from './trace/user-trace.js';

export { LeakhoundError } from './errors.js';
export type { AllocatedReport, ChurnOmittedReport, Frame, Report, StackReport } from './report/types.js';
export type { DiffReport } from './report/diff-types.js';
export type { IntervalSnapshot, StopReason } from './trace/pump.js';
export type { LiveSnapshot, LiveStack } from './trace/live-snapshot.js';
export type { TraceHandle, TraceResult } from './trace/trace-handle.js';

// Rendering and conversion: pure, a report in and text or bytes out.
export { renderText, type TextOptions } from './render/text.js';
export { renderJson } from './render/json.js';
export { renderFolded } from './render/folded.js';
export { renderFlamegraph, type FlamegraphOptions } from './render/flamegraph.js';
export { renderFlamegraphHtml } from './render/flamegraph-html.js';
export { renderPprof } from './render/pprof.js';
export { renderSpeedscope } from './render/speedscope.js';
// Reports read back, compared and filtered as the CLI's diff, convert, --suppressions and --fail-on-leak do.
export { parseReport, readReport } from './report/read-report.js';
export { diffReports, type NamedReport } from './report/diff.js';
export { renderDiffText } from './render/diff-text.js';
export { renderDiffFolded } from './render/diff-folded.js';
export { renderDiffFlamegraph } from './render/diff-flamegraph.js';
export { applySuppressions, parseSuppressions } from './report/suppressions.js';
export { judgeLeakGate } from './report/leak-gate.js';

/** What every trace takes. Times in milliseconds; sizes in bytes. */
export interface CommonTraceOptions {
  /** Ends the trace after this long (else at stop(), or when its target ends). */
  durationMs?: number;
  /** Snapshots come this often (none without it). */
  intervalMs?: number;
  /** Called with each snapshot; snapshots also come from iterating the handle. */
  onInterval?: (snapshot: LiveSnapshot) => void;
  /** leakhound's own lines (what it attached, warnings); dropped when absent. */
  onMessage?: (line: string) => void;
  minSize?: number;
  maxSize?: number;
  /** Only allocations at least this old at the end count as outstanding. */
  olderThanMs?: number;
  /** Stacks that allocated but hold nothing, listed in the report with what they allocated (default 100). */
  churnStacks?: number;
  /** Distinct stacks the BPF table holds. */
  maxStacks?: number;
  verbose?: boolean;
}

/** A process's heap: give exactly one of pid, command and cgroup. As root. */
export interface TraceOptions extends CommonTraceOptions {
  pid?: number;
  /** A command to launch and trace from its first instruction: argv, the program first. */
  command?: string[];
  /** Every process in this cgroup v2 directory or below it, now and later (a container, a service). */
  cgroup?: string;
  /** Probe this object instead of the allocator found in the target. */
  allocator?: string;
  stackDepth?: number;
  sampleEvery?: number;
  unwindRows?: number;
  followChildren?: boolean;
  fds?: boolean;
  mappings?: boolean;
  freeStacks?: boolean;
  reachability?: boolean;
  pause?: boolean;
}

/** The kernel's allocations, optionally only those of a process, a command name or a cgroup. As root. */
export interface KernelTraceOptions extends CommonTraceOptions {
  pid?: number;
  comm?: string;
  cgroup?: string;
  attach?: AttachChoice;
  maxAllocations?: number;
}

/** Starts tracing a process's heap; the handle gives its snapshots, its stop and its report. */
export function startTrace(options: TraceOptions): TraceHandle {
  return startHandle(async ({ stop, onInterval }) => {
    const targets = [options.pid, options.command, options.cgroup].filter((target) => target !== undefined);
    if (targets.length !== 1) throw usage('give exactly one of pid, command and cgroup', "e.g. startTrace({ command: ['./app'] })");
    if (options.pid !== undefined) whole('pid', options.pid, 1, MAX_PID);
    if (options.command !== undefined && options.command.length === 0) throw usage('command is empty', 'give the program and its arguments');
    const cgroup = options.cgroup === undefined ? null : tracedCgroup(options.cgroup);
    // The BPF side draws a 32-bit random number against it.
    const sampleEvery = whole('sampleEvery', options.sampleEvery ?? 1, 1, 2 ** 32 - 1);
    const { reachability, pause } = checkReachability(
      { reachability: options.reachability ?? false, pause: options.pause ?? false },
      { launched: options.command !== undefined, cgroup: cgroup !== null, sampleEvery },
    );
    const result = await traceUser({
      ...common(options),
      pid: options.pid ?? null,
      command: options.command ?? null,
      cgroup,
      allocator: options.allocator ?? null,
      stackDepth: whole('stackDepth', options.stackDepth ?? DEFAULT_STACK_DEPTH, 1, DEFAULT_STACK_DEPTH),
      sampleEvery,
      maxStacks: whole('maxStacks', options.maxStacks ?? DEFAULT_MAX_STACKS, 1, MAX_BPF_TABLE_ENTRIES),
      unwindRows: whole('unwindRows', options.unwindRows ?? DEFAULT_UNWIND_ROWS, 0, MAX_BPF_TABLE_ENTRIES),
      followChildren: options.followChildren ?? false,
      fds: options.fds ?? true,
      mappings: options.mappings ?? true,
      freeStacks: options.freeStacks ?? true,
      reachability,
      pause,
      onInterval,
      stop,
    });
    return { report: result.report, reason: result.reason, exitCode: result.commandExit ? (await result.commandExit).code : null };
  }, options.onInterval);
}

/** Starts tracing the kernel's allocators; the handle gives its snapshots, its stop and its report. */
export function startKernelTrace(options: KernelTraceOptions = {}): TraceHandle {
  return startHandle(async ({ stop, onInterval }) => {
    const attach = options.attach ?? 'auto';
    if (!ATTACH_CHOICES.includes(attach)) throw usage(`attach ${JSON.stringify(attach)} is not a method leakhound knows`, `use one of ${ATTACH_CHOICES.join(', ')}`);
    const result = await traceKernel({
      ...common(options),
      pid: options.pid === undefined ? null : checkedPid(options.pid),
      comm: options.comm ?? null,
      cgroup: options.cgroup === undefined ? null : resolveCgroup(options.cgroup),
      attach,
      maxStacks: whole('maxStacks', options.maxStacks ?? DEFAULT_KERNEL_MAX_STACKS, 1, MAX_BPF_TABLE_ENTRIES),
      maxAllocations: whole('maxAllocations', options.maxAllocations ?? DEFAULT_MAX_ALLOCATIONS, 1, MAX_BPF_TABLE_ENTRIES),
      onInterval,
      stop,
    });
    return { report: result.report, reason: result.reason, exitCode: null };
  }, options.onInterval);
}

/** What both traces are given from the options they share. */
type CommonInput = Pick<UserTraceOptions, 'durationMs' | 'intervalMs' | 'minSize' | 'maxSize' | 'olderThanMs' | 'churnStacks' | 'ringBytes' | 'verbose' | 'intervalLines' | 'say'>;

/** The options both traces take, checked, with the CLI's defaults. */
function common(options: CommonTraceOptions): CommonInput {
  const minSize = whole('minSize', options.minSize ?? 0, 0);
  const maxSize = whole('maxSize', options.maxSize ?? Number.MAX_SAFE_INTEGER, 0);
  if (minSize > maxSize) throw usage(`minSize ${minSize} is larger than maxSize ${maxSize}`, 'swap them');
  return {
    durationMs: options.durationMs === undefined ? null : positive('durationMs', options.durationMs),
    intervalMs: options.intervalMs === undefined ? null : positive('intervalMs', options.intervalMs),
    minSize,
    maxSize,
    olderThanMs: options.olderThanMs === undefined ? 0 : positive('olderThanMs', options.olderThanMs, 0),
    churnStacks: whole('churnStacks', options.churnStacks ?? DEFAULT_CHURN_STACKS, 0, MAX_CHURN_STACKS),
    ringBytes: DEFAULT_RING_BYTES,
    verbose: options.verbose ?? false,
    // Snapshots replace the summary lines a terminal user reads.
    intervalLines: false,
    say: options.onMessage ?? (() => {}),
  };
}

function checkedPid(pid: number): number {
  checkPid(whole('pid', pid, 1, MAX_PID));
  return pid;
}

function usage(message: string, hint: string): LeakhoundError {
  return new LeakhoundError('USAGE', message, hint);
}

function whole(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) throw usage(`${name} ${value} is not a whole number from ${min} to ${max}`, `give ${name} as an integer in that range`);
  return value;
}

function positive(name: string, value: number, min = Number.MIN_VALUE): number {
  if (!Number.isFinite(value) || value < min) throw usage(`${name} ${value} is not a ${min === 0 ? 'non-negative' : 'positive'} number`, `give ${name} in milliseconds`);
  return value;
}
