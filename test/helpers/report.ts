// The `leakhound.report/v1` JSON as the e2e tests read it: the contract,
// written here independently of src/ so a drift in the renderer shows up.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isSymbol } from './symbols.js';

export interface ReportFrame {
  address: string;
  symbol: string | null;
  module: string | null;
  file: string | null;
  line: number | null;
  /** Only on a function inlined at the address: absent otherwise. */
  inlined?: true;
}

export interface ReportStack {
  bytes: number;
  allocations: number;
  truncated: boolean;
  partial: boolean;
  frames: ReportFrame[];
  /** With --follow-children: the processes that hold the stack's blocks. */
  pids?: number[];
}

/** With --follow-children: one entry per traced process. */
export interface ReportProcess {
  pid: number;
  command: string[] | null;
  exitCode: number | null;
  outstandingBytes: number;
  outstandingAllocations: number;
}

export interface Report {
  schema: string;
  mode: string;
  target: { pid: number; command: string[] | null; exitCode: number | null; cpuMs: number | null };
  durationMs: number;
  totals: {
    outstandingBytes: number;
    outstandingAllocations: number;
    allocations: number;
    frees: number;
    lostEvents: number;
    failedStacks: number;
    truncatedStacks: number;
    cutStacks: number;
    partialStacks: number;
  };
  stacks: ReportStack[];
  processes?: ReportProcess[];
}

export function readReport(file: string): Report {
  const report = JSON.parse(readFileSync(file, 'utf8')) as Report;
  assert.equal(report.schema, 'leakhound.report/v1');
  assert.equal(report.mode, 'user');
  assert.ok(Array.isArray(report.stacks), 'report.stacks is an array');
  return report;
}

/**
 * The frames of the allocation site: the allocator's caller, after the
 * functions inlined into it there (frames[0] when none were).
 */
export function siteFrames(stack: ReportStack): ReportFrame[] {
  const holder = stack.frames.findIndex((f) => f.inlined !== true);
  return stack.frames.slice(0, holder < 0 ? stack.frames.length : holder + 1);
}

/** The allocator's caller itself: the first frame not inlined. */
export function siteFrame(stack: ReportStack): ReportFrame | undefined {
  return siteFrames(stack).at(-1);
}

/** The stacks whose allocation site is `symbol`: the allocator's caller, or a function inlined into it there. */
export function stacksAt(report: Report, symbol: string): ReportStack[] {
  return report.stacks.filter((s) => siteFrames(s).some((f) => isSymbol(f.symbol, symbol)));
}

/**
 * A site's figures summed over its stacks: one site reached from two call
 * lines is two stacks.
 */
export function siteFigures(report: Report, symbol: string): { bytes: number; allocations: number } {
  let bytes = 0;
  let allocations = 0;
  for (const s of stacksAt(report, symbol)) {
    bytes += s.bytes;
    allocations += s.allocations;
  }
  return { bytes, allocations };
}

/** The symbols of the stacks that have `symbol` in any frame. */
export function stacksMentioning(report: Report, symbol: string): ReportStack[] {
  return report.stacks.filter((s) => s.frames.some((f) => isSymbol(f.symbol, symbol)));
}
