import { writeAllSync } from '../output/descriptor.js';

/** Set once stderr has failed (EPIPE from a closed reader, EIO after a
 * terminal hangup, EBADF): leakhound's lines are dropped from then on, and
 * the trace carries on to its report. */
let stderrBroken = false;

/** leakhound's own lines go to stderr: stdout is the report's (and a launched
 * command's). Never throws: a write that fails is dropped, never an
 * unhandled 'error' event that would end leakhound mid-trace and orphan a
 * launched command. */
export function say(line: string): void {
  if (stderrBroken) return;
  try {
    writeAllSync(2, `leakhound: ${line}\n`);
  } catch {
    stderrBroken = true;
  }
}

/** Whether a line said now can still reach the user. */
export function stderrWorks(): boolean {
  return !stderrBroken;
}
