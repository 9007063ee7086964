// Holding a process still for a scan: SIGSTOP, then a wait until every
// thread has stopped (the signal stops each on its way back to user space),
// then SIGCONT. Nothing is written to the process.
import { readdirSync, readFileSync } from 'node:fs';

import { LeakhoundError } from '../errors.js';

/** How long every thread of a process gets to reach its stop. */
const STOP_WAIT_MS = 2_000;
const LOOK_EVERY_MS = 1;

/** A thread's state letter from /proc/.../stat (after the command's closing parenthesis). */
export function stateOf(stat: string): string {
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

/** Whether every thread is stopped, or ending; a thread gone while being read counts as ended. */
export function allStopped(pid: number): boolean {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return false;
  }
  return tids.every((tid) => {
    try {
      return 'TtZX'.includes(stateOf(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')));
    } catch {
      return true;
    }
  });
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Waits (synchronously: the scan that follows is too) until every thread of `pid` is stopped. */
export function awaitStopped(pid: number): void {
  const deadline = performance.now() + STOP_WAIT_MS;
  while (!allStopped(pid)) {
    if (performance.now() > deadline) {
      throw new LeakhoundError('SCAN_FAILED', `process ${pid} did not stop within ${STOP_WAIT_MS} ms for the reachability scan`, 'a process being debugged (ptrace) stops for its debugger only: detach it, or leave out --pause');
    }
    sleepMs(LOOK_EVERY_MS);
  }
}

/**
 * Runs `work` with `pid` stopped, and lets it go whatever happens; one the
 * user had stopped already stays stopped. Says how long it was held.
 */
export function whileStopped<T>(pid: number, work: () => T): { result: T; pausedMs: number } {
  const wasStopped = allStopped(pid);
  const from = performance.now();
  if (!wasStopped) process.kill(pid, 'SIGSTOP');
  try {
    awaitStopped(pid);
    return { result: work(), pausedMs: performance.now() - from };
  } finally {
    if (!wasStopped) process.kill(pid, 'SIGCONT');
  }
}
