// Whether leakhound's stacks reach where a process or thread begins (issue
// 19): judged by the bench itself from the JSON report, not by leakhound's own
// `partial` alone, so a walk that stops early in a way leakhound does not flag
// still shows.
import path from 'node:path';

import type { Frame, StackReport } from '../../src/report/types.js';
import { median } from './stats.js';

/** The functions a process's or a thread's stack begins in (with the other
 * names glibc gives the same code). */
export const STACK_STARTS = ['__libc_start_call_main', '__libc_start_main', '_start', 'start_thread', 'clone3', 'clone'];
const STARTS = new Set([...STACK_STARTS, '__libc_start_main_impl', '__clone', '__clone3']);

/** A frame as a table shows it: its symbol, else its object's file name and offset. */
export function frameName(frame: Frame | undefined): string {
  if (!frame) return '(no frames)';
  return frame.symbol ?? `${frame.module ? path.basename(frame.module) : '?'}+0x${frame.offset.toString(16)}`;
}

/** Complete: not partial, and the outermost frame is where a process or thread begins. */
export function isComplete(stack: StackReport): boolean {
  const last = stack.frames.at(-1);
  return !stack.partial && last?.symbol != null && STARTS.has(last.symbol);
}

export interface Completeness {
  outstandingBytes: number;
  completeBytes: number;
  stacks: number;
  partialStacks: number;
  /** Frames per stack, the median over stacks. */
  medianFrames: number;
  frames: number;
  unnamedFrames: number;
  /** The outermost frames of the stacks that are not complete, by bytes, most first. */
  incompleteEnds: [string, number][];
}

/** Over `stacks`, against `outstandingBytes` (the report's total: bytes whose stack failed count as incomplete). */
export function completeness(stacks: StackReport[], outstandingBytes: number): Completeness {
  const ends = new Map<string, number>();
  let completeBytes = 0;
  for (const stack of stacks) {
    if (isComplete(stack)) completeBytes += stack.bytes;
    else ends.set(frameName(stack.frames.at(-1)), (ends.get(frameName(stack.frames.at(-1))) ?? 0) + stack.bytes);
  }
  const frames = stacks.flatMap((stack) => stack.frames);
  return {
    outstandingBytes,
    completeBytes,
    stacks: stacks.length,
    partialStacks: stacks.filter((stack) => stack.partial).length,
    medianFrames: median(stacks.map((stack) => stack.frames.length)),
    frames: frames.length,
    unnamedFrames: frames.filter((frame) => frame.symbol === null).length,
    incompleteEnds: [...ends].sort((a, b) => b[1] - a[1]),
  };
}
