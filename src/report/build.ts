// Ledger + counters + symbolized frames -> the report every renderer takes.
import type { Ledger } from '../aggregate/ledger.js';
import { type KernelClock, type NativeTracer, readCounters } from '../native/binding.js';
import { lostEvents } from '../native/layout.js';
import type { Capabilities } from '../trace/capabilities.js';
import { reachesStart, userStack } from './partial.js';
import { bornBeforeTick } from './ticks.js';
import { type Frame, type ProcessReport, type Report, REPORT_SCHEMA } from './types.js';

export interface ReportInput {
  mode: Report['mode'];
  target: Report['target'];
  durationMs: number;
  ledger: Ledger;
  /** Read for its counters; the probes are already off. */
  tracer: NativeTracer;
  /** Only allocations at least this old when tracing stopped count as outstanding (--older-than). */
  olderThanMs: number;
  endClock: KernelClock;
  /** A stack's return addresses, innermost first. */
  readStack: (stackId: number) => number[];
  /** Symbolizes many stacks at once, so each object is opened once; `pids`:
   * per stack, the process whose maps name its frames (StackTotal.firstPid). */
  resolveStacks: (stacks: number[][], pids: number[]) => Frame[][];
  /** One allocation in this many was kept (1: all); figures are scaled by it. */
  sampleEvery?: number;
  /** Whether a stack's frames may be missing callers (user mode); `walkCut`:
   * a walk of it stopped short of the outermost frame. */
  isPartial?: (frames: Frame[], walkCut: boolean) => boolean;
  /** The kernel's features and the paths taken on it. */
  capabilities?: Capabilities;
  /** Slab cache name of a stack, where the kernel gives one. */
  cacheOf?: (stackId: number) => string | undefined;
  /** Set when several processes may be traced: the report then names them,
   * per stack and in a list of its own. */
  perProcess?: {
    command(pid: number): string[] | null;
    exitCode(pid: number): number | null;
  };
}

function processReports(input: ReportInput, bornBefore: number, scale: number): ProcessReport[] | undefined {
  const { perProcess } = input;
  if (!perProcess) return undefined;
  return input.ledger.processes(bornBefore).map((process) => ({
    pid: process.pid,
    command: perProcess.command(process.pid),
    exitCode: perProcess.exitCode(process.pid),
    outstandingBytes: scale * process.outstandingBytes,
    outstandingAllocations: scale * process.outstandingAllocations,
  }));
}

export function buildReport(input: ReportInput): Report {
  const bornBefore = bornBeforeTick(input.endClock, input.olderThanMs);
  const totals = input.ledger.byStack(bornBefore);
  const stacks = totals.map((total) => {
    const ips = total.stackId === 0 ? [] : input.readStack(total.stackId);
    return input.mode === 'user' ? userStack(ips) : { ips, cut: false };
  });
  const cut = totals.map((total, i) => total.cut || stacks[i].cut);
  const frames = input.resolveStacks(
    stacks.map((stack) => stack.ips),
    totals.map((total) => total.firstPid),
  );
  const counters = readCounters(input.tracer);
  const scale = input.sampleEvery ?? 1;
  const partial = frames.map((stack, i) => input.isPartial?.(stack, cut[i]) ?? false);
  const processes = processReports(input, bornBefore, scale);
  return {
    schema: REPORT_SCHEMA,
    mode: input.mode,
    target: input.target,
    durationMs: Math.round(input.durationMs),
    totals: {
      outstandingBytes: scale * totals.reduce((sum, total) => sum + total.bytes, 0),
      outstandingAllocations: scale * totals.reduce((sum, total) => sum + total.allocations, 0),
      allocations: scale * input.ledger.allocations,
      frees: scale * input.ledger.frees,
      lostEvents: lostEvents(counters),
      failedStacks: counters.stackFailures + counters.stacksFull,
      tableFull: counters.allocsFull + counters.stateFailures,
      truncatedStacks: counters.truncated,
      cutStacks: cut.filter((isCut, i) => isCut && !reachesStart(frames[i])).length,
      partialStacks: partial.filter(Boolean).length,
      ...(scale > 1 ? { sampleEvery: scale } : {}),
    },
    ...(input.capabilities ? { capabilities: input.capabilities } : {}),
    ...(processes ? { processes } : {}),
    stacks: totals.map((total, i) => {
      const cache = input.cacheOf?.(total.stackId);
      return {
        bytes: scale * total.bytes,
        allocations: scale * total.allocations,
        frames: frames[i],
        truncated: total.truncated,
        partial: partial[i],
        ...(cache === undefined ? {} : { cache }),
        ...(processes ? { pids: total.pids } : {}),
      };
    }),
  };
}
