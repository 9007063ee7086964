// Whether a user stack may be missing frames: the frame-pointer walk went
// through, or stopped in, code that keeps no frame pointer.
import type { Frame } from './types.js';

/** Where every process's and thread's stack begins: a walk that gets here is complete. */
const STACK_ROOTS = new Set(['_start', '__libc_start_main', '__libc_start_main_impl', '__libc_start_call_main', 'start_thread', 'clone', 'clone3', '__clone', '__clone3']);

/**
 * Partial when a frame in code without frame pointers has frames after it
 * (they came from a stale frame pointer: callers in between may be missing),
 * or ends the stack at a named function that does not begin a process or a
 * thread. An unnamed last frame cannot be judged and is left unmarked.
 * `keepsFramePointers` takes a frame's module; null means unknown.
 */
export function isPartialStack(frames: Frame[], keepsFramePointers: (module: string) => boolean | null): boolean {
  for (const [i, frame] of frames.entries()) {
    if (frame.symbol !== null && STACK_ROOTS.has(frame.symbol)) return false;
    if (frame.module === null || keepsFramePointers(frame.module) !== false) continue;
    return i < frames.length - 1 || frame.symbol !== null;
  }
  return false;
}
