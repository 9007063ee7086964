// Whether a user stack may be missing frames: the frame-pointer walk went
// through, or stopped in, code that keeps no frame pointer, or stopped at a
// value that is no address.
import type { Frame } from './types.js';

/** The end of user space with 5-level paging (TASK_SIZE_MAX), the larger of
 * x86-64's two: no user code lies at or above it. */
const USER_TOP = 2 ** 56 - 4096;

/**
 * A user stack's return addresses up to the first that is no user address,
 * and whether any were dropped. Defence only: the BPF walk stops there
 * already (at the exact bound of this machine's paging) and flags the stack
 * as cut. Such a value names nothing, and would make a new stack of each
 * value the garbage held.
 */
export function userStack(ips: number[]): { ips: number[]; cut: boolean } {
  const bad = ips.findIndex((ip) => !(ip > 0 && ip < USER_TOP));
  return bad < 0 ? { ips, cut: false } : { ips: ips.slice(0, bad), cut: true };
}

/** Where every process's and thread's stack begins: a walk that gets here is complete. */
const STACK_ROOTS = new Set(['_start', '__libc_start_main', '__libc_start_main_impl', '__libc_start_call_main', 'start_thread', 'clone', 'clone3', '__clone', '__clone3']);

/** The walk reached where a process or thread begins: nothing is missing above. */
export function reachesStart(frames: Frame[]): boolean {
  return frames.some((frame) => frame.symbol !== null && STACK_ROOTS.has(frame.symbol));
}

/**
 * Partial when the walk stopped short of the outermost frame (`walkCut`)
 * without reaching where a process or thread begins; or when a frame in code
 * without frame pointers has frames after it (they came from a stale frame
 * pointer: callers in between may be missing), or ends the stack at a named
 * function that does not begin a process or a thread. An unnamed last frame
 * cannot be judged by the second rule and is left to the first, unless it is
 * the only one: the allocator's caller (as in a stripped program) begins
 * nothing, and nothing could be walked from it.
 * `keepsFramePointers` takes a frame's module; null means unknown.
 */
export function isPartialStack(frames: Frame[], keepsFramePointers: (module: string) => boolean | null, walkCut = false): boolean {
  // One frame per return address walked: an inlined frame shares its address with the next.
  const walked = frames.filter((frame) => !frame.inlined);
  for (const [i, frame] of walked.entries()) {
    if (frame.symbol !== null && STACK_ROOTS.has(frame.symbol)) return false;
    if (frame.module === null || keepsFramePointers(frame.module) !== false) continue;
    if (i < walked.length - 1 || frame.symbol !== null || i === 0) return true;
  }
  return walkCut;
}
