// Ledger + counters + symbolized frames -> the report every renderer takes.
import type { Ledger, StackTotal } from '../aggregate/ledger.js';
import type { ResourceLedger } from '../aggregate/resource-ledger.js';
import { type KernelClock, type NativeTracer, readCounters } from '../native/binding.js';
import { lostEvents } from '../native/layout.js';
import type { Capabilities } from '../trace/capabilities.js';
import { type GrowthInput, withGrowth } from './growth.js';
import { invalidFreeSection } from './invalid-frees.js';
import { reachesStart } from './partial.js';
import { resourceSections } from './resources.js';
import { resolveStackRequests, type StackSource } from './stacks.js';
import { bornBeforeTick } from './ticks.js';
import {
  type AllocatedReport,
  type ChurnOmittedReport,
  type ProcessReport,
  type ReachabilityClasses, type ReachabilityReport, type Report, REPORT_SCHEMA } from './types.js';

/** Churn stacks symbolized and listed by default; the rest are summed in
 * churnOmitted. A bound on the report and on the end of a trace: Python's
 * start alone churns through 5,000 stacks of ~60 frames, ~20 kB of JSON each. */
export const DEFAULT_CHURN_STACKS = 100;
export const MAX_CHURN_STACKS = 1_000_000;

export interface ReportInput extends StackSource {
  target: Report['target'];
  durationMs: number;
  ledger: Ledger;
  /** Read for its counters; the probes are already off. */
  tracer: NativeTracer;
  /** Only allocations at least this old when tracing stopped count as outstanding (--older-than). */
  olderThanMs: number;
  /** Churn stacks listed (--churn-stacks; DEFAULT_CHURN_STACKS when absent). */
  churnStacks?: number;
  endClock: KernelClock;
  /** One allocation in this many was kept (1: all); figures are scaled by it. */
  sampleEvery?: number;
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
  /** Descriptors and mappings, when they were traced. */
  resources?: ResourceLedger;
  /** --reachability: the scan, and each stack's classes by BPF stack id. */
  reachability?: { report: ReachabilityReport; classesOf: (stackId: number) => ReachabilityClasses | undefined };
  /** Per-stack bytes (and the process's memory) at each interval, with --interval. */
  growth?: GrowthInput;
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
  const churn = input.ledger.churnStacks(bornBefore);
  const listed = input.churnStacks ?? DEFAULT_CHURN_STACKS;
  const churnListed = churn.slice(0, listed);
  const all = [...totals, ...churnListed];
  const resolvedAll = resolveStackRequests(
    input,
    all.map((total) => ({ stackId: total.stackId, pid: total.firstPid, cut: total.cut })),
  );
  const resolved = resolvedAll.slice(0, totals.length);
  const counters = readCounters(input.tracer);
  const scale = input.sampleEvery ?? 1;
  const rest = churn.slice(listed);
  const churnOmitted: ChurnOmittedReport = {
    stacks: rest.length,
    bytes: scale * rest.reduce((sum, total) => sum + total.allocatedBytes, 0),
    allocations: scale * rest.reduce((sum, total) => sum + total.allocatedCount, 0),
  };
  const processes = processReports(input, bornBefore, scale);
  const report: Report = {
    schema: REPORT_SCHEMA,
    mode: input.mode,
    target: input.target,
    durationMs: Math.round(input.durationMs),
    totals: {
      outstandingBytes: scale * totals.reduce((sum, total) => sum + total.bytes, 0),
      outstandingAllocations: scale * totals.reduce((sum, total) => sum + total.allocations, 0),
      allocations: scale * input.ledger.allocations,
      allocatedBytes: scale * all.reduce((sum, total) => sum + total.allocatedBytes, 0) + churnOmitted.bytes,
      frees: scale * input.ledger.frees,
      lostEvents: lostEvents(counters),
      failedStacks: counters.stackFailures + counters.stacksFull,
      tableFull: counters.allocsFull + counters.stateFailures,
      truncatedStacks: counters.truncated,
      cutStacks: resolved.filter((stack) => stack.cut && !reachesStart(stack.frames)).length,
      partialStacks: resolved.filter((stack) => stack.partial).length,
      ...(scale > 1 ? { sampleEvery: scale } : {}),
    },
    ...(input.capabilities ? { capabilities: input.capabilities } : {}),
    ...(processes ? { processes } : {}),
    stacks: totals.map((total, i) => {
      const cache = input.cacheOf?.(total.stackId);
      return {
        bytes: scale * total.bytes,
        allocations: scale * total.allocations,
        frames: resolved[i].frames,
        truncated: total.truncated,
        partial: resolved[i].partial,
        ...(cache === undefined ? {} : { cache }),
        ...(processes ? { pids: total.pids } : {}),
        ...reachabilityOf(input, total.stackId),
        allocated: allocatedOf(total, scale),
      };
    }),
    churnStacks: churnListed.map((total, i) => {
      const { frames, partial } = resolvedAll[totals.length + i];
      return { bytes: 0, allocations: 0, frames, truncated: total.truncated, partial, allocated: allocatedOf(total, scale) };
    }),
    ...(churnOmitted.stacks > 0 ? { churnOmitted } : {}),
    ...resourceSections(input, bornBefore),
    ...invalidFreeSection(input),
    ...(input.reachability ? { reachability: input.reachability.report } : {}),
  };
  return withGrowth(report, totals.map((total) => total.stackId), input.growth);
}

function allocatedOf(total: StackTotal, scale: number): AllocatedReport {
  return { bytes: scale * total.allocatedBytes, allocations: scale * total.allocatedCount };
}

function reachabilityOf(input: ReportInput, stackId: number): { reachability?: ReachabilityClasses } {
  const classes = input.reachability?.classesOf(stackId);
  return classes ? { reachability: classes } : {};
}
