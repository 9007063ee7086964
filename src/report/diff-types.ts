// The `leakhound.diff/v1` document: what `leakhound diff a.json b.json`
// writes with --json. Each stack is one stack of either report, matched
// across the two by what its frames name (not their addresses, which ASLR
// moves between runs).
import type { Frame, Report } from './types.js';

export const DIFF_SCHEMA = 'leakhound.diff/v1';

/** What one side held on a stack: zero where that report lacks it. */
export interface Held {
  bytes: number;
  allocations: number;
}

/** grown/shrunk: on both sides, more or less; new: only after; gone: only before. */
export type DiffStatus = 'grown' | 'shrunk' | 'new' | 'gone' | 'unchanged';

export interface DiffStack {
  status: DiffStatus;
  before: Held;
  after: Held;
  /** after - before. */
  deltaBytes: number;
  deltaAllocations: number;
  /** The frames as the later report has them (the earlier's for a gone stack). */
  frames: Frame[];
  truncated: boolean;
  partial: boolean;
}

/** One of the two reports, as the diff names it. */
export interface DiffSide {
  /** The file it was read from. */
  file: string;
  durationMs: number;
  outstandingBytes: number;
  outstandingAllocations: number;
}

export interface DiffReport {
  schema: typeof DIFF_SCHEMA;
  mode: Report['mode'];
  before: DiffSide;
  after: DiffSide;
  deltaBytes: number;
  deltaAllocations: number;
  /** By the size of the change in bytes, largest first; unchanged ones last. */
  stacks: DiffStack[];
}
