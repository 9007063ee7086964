// Two reports of the same program, stack by stack: what grew, what shrank,
// what is new and what is gone. Pure: reports in, a DiffReport out.
import { basename } from 'node:path';

import { LeakhoundError } from '../errors.js';
import { DIFF_SCHEMA, type DiffReport, type DiffSide, type DiffStack, type DiffStatus, type Held } from './diff-types.js';
import type { Frame, Report, StackReport } from './types.js';

/** A report and the file it came from. */
export interface NamedReport {
  file: string;
  report: Report;
}

/**
 * What a frame names, stable across runs: the function and its object (the
 * file name only: a library may sit in another directory elsewhere), with
 * the source line where known (two calls from one function are two sites);
 * without a symbol, the offset in the object. The address itself only when
 * nothing else is known: it rarely matches across runs, but never wrongly.
 */
export function frameIdentity(frame: Frame): string {
  const module = frame.module === null ? '?' : basename(frame.module);
  const inlined = frame.inlined ? ' [inlined]' : '';
  if (frame.symbol !== null) {
    const where = frame.file !== null && frame.line !== null ? `${frame.file}:${frame.line}` : `+0x${frame.offset.toString(16)}`;
    return `${frame.symbol} ${where} (${module})${inlined}`;
  }
  if (frame.module !== null) return `${module}+0x${frame.offset.toString(16)}`;
  return frame.address;
}

/** A stack's identity: its frames', and whether it is known to be cut short. */
export function stackIdentity(stack: Pick<StackReport, 'frames' | 'truncated' | 'partial'>): string {
  const flags = `${stack.truncated ? 'T' : '-'}${stack.partial ? 'P' : '-'}`;
  return [flags, ...stack.frames.map(frameIdentity)].join('\n');
}

interface Matched {
  stack: StackReport;
  before: Held | null;
  after: Held | null;
}

function add(held: Held | null, stack: StackReport): Held {
  return { bytes: (held?.bytes ?? 0) + stack.bytes, allocations: (held?.allocations ?? 0) + stack.allocations };
}

function statusOf(entry: Matched, deltaBytes: number, deltaAllocations: number): DiffStatus {
  if (entry.before === null) return 'new';
  if (entry.after === null) return 'gone';
  const sign = Math.sign(deltaBytes) || Math.sign(deltaAllocations);
  return sign > 0 ? 'grown' : sign < 0 ? 'shrunk' : 'unchanged';
}

function side({ file, report }: NamedReport): DiffSide {
  const { outstandingBytes, outstandingAllocations } = report.totals;
  return { file, durationMs: report.durationMs, outstandingBytes, outstandingAllocations };
}

const NOTHING: Held = { bytes: 0, allocations: 0 };

export function diffReports(before: NamedReport, after: NamedReport): DiffReport {
  if (before.report.mode !== after.report.mode) {
    throw new LeakhoundError('USAGE', `${before.file} is a ${before.report.mode}-mode report and ${after.file} a ${after.report.mode}-mode one`, 'diff two reports of the same mode');
  }
  // Several stacks of one report may name the same frames (other pids, addresses that differ only in a frame's unknown part): summed.
  const byIdentity = new Map<string, Matched>();
  for (const stack of before.report.stacks) {
    const key = stackIdentity(stack);
    const entry = byIdentity.get(key) ?? { stack, before: null, after: null };
    entry.before = add(entry.before, stack);
    byIdentity.set(key, entry);
  }
  for (const stack of after.report.stacks) {
    const key = stackIdentity(stack);
    const entry = byIdentity.get(key) ?? { stack, before: null, after: null };
    if (entry.after === null) entry.stack = stack;
    entry.after = add(entry.after, stack);
    byIdentity.set(key, entry);
  }
  const stacks = [...byIdentity].map(([key, entry]): [string, DiffStack] => {
    const was = entry.before ?? NOTHING;
    const now = entry.after ?? NOTHING;
    const deltaBytes = now.bytes - was.bytes;
    const deltaAllocations = now.allocations - was.allocations;
    const { frames, truncated, partial } = entry.stack;
    return [key, { status: statusOf(entry, deltaBytes, deltaAllocations), before: was, after: now, deltaBytes, deltaAllocations, frames, truncated, partial }];
  });
  // Largest change first; ties by identity, so the same two reports always give the same order.
  stacks.sort(([keyA, a], [keyB, b]) => Math.abs(b.deltaBytes) - Math.abs(a.deltaBytes) || Math.abs(b.deltaAllocations) - Math.abs(a.deltaAllocations) || (keyA < keyB ? -1 : keyA > keyB ? 1 : 0));
  const was = side(before);
  const now = side(after);
  return {
    schema: DIFF_SCHEMA,
    mode: after.report.mode,
    before: was,
    after: now,
    deltaBytes: now.outstandingBytes - was.outstandingBytes,
    deltaAllocations: now.outstandingAllocations - was.outstandingAllocations,
    stacks: stacks.map(([, stack]) => stack),
  };
}
