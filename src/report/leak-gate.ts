// The CI gate (--fail-on-leak BYTES): whether the memory still held at the
// trace's end, after suppressions, is over the limit, and the exit code that
// says so.

import type { Report, StackReport } from './types.js';

/**
 * leakhound's exit code when the gate fails: LeakSanitizer's, so a CI job
 * that already reads 23 as "leaks" from sanitizer builds reads leakhound the
 * same; it is neither leakhound's own 1 or 2 nor a shell's 126, 127 or 128+N.
 */
export const LEAK_GATE_EXIT_CODE = 23;

export interface GateStack {
  stack: StackReport;
  /** What the gate counts of it: its outstanding or its definitely-lost bytes. */
  bytes: number;
}

export interface LeakGateVerdict {
  /** --fail-on-leak: more than this fails. */
  limit: number;
  /** What was counted: everything still held, or only what no pointer reaches. */
  measure: 'outstanding' | 'definitely lost';
  bytes: number;
  failed: boolean;
  /** The stacks that count, largest first (none with 0 bytes). */
  stacks: GateStack[];
}

/**
 * Judges a report (suppressions already applied). When its stacks carry
 * reachability, only definitely-lost bytes count; a stack without it then
 * counts whole, as nothing shows its blocks reachable.
 */
export function judgeLeakGate(report: Report, limit: number): LeakGateVerdict {
  const { stacks } = report;
  const reachability = stacks.some((stack) => stack.reachability !== undefined);
  const counted = stacks
    .map((stack) => ({ stack, bytes: reachability ? (stack.reachability?.definitelyLost.bytes ?? stack.bytes) : stack.bytes }))
    .filter((entry) => entry.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes);
  // Without reachability the totals are the figure (they include nothing the stacks lack).
  const bytes = reachability ? counted.reduce((sum, entry) => sum + entry.bytes, 0) : report.totals.outstandingBytes;
  return { limit, measure: reachability ? 'definitely lost' : 'outstanding', bytes, failed: bytes > limit, stacks: counted };
}

/**
 * The exit code once the gate has been judged: LEAK_GATE_EXIT_CODE when it
 * failed and leakhound would otherwise exit 0. A command's own failure (or
 * leakhound's 1 for a report it could not write) stands: it is the first
 * thing to fix, and the CI job fails either way.
 */
export function exitCodeWithGate(verdict: LeakGateVerdict | null, code: number): number {
  return verdict !== null && verdict.failed && code === 0 ? LEAK_GATE_EXIT_CODE : code;
}
