// Each thread's stack pointer, where the kernel will say: /proc/PID/task/
// TID/syscall gives it for a thread that is not running (blocked in a
// system call, or stopped), and "running" otherwise.
import { readdirSync, readFileSync } from 'node:fs';

export interface ThreadState {
  tid: number;
  /** Null while it runs: its whole stack mapping is then scanned. */
  stackPointer: number | null;
  /** Blocked inside a system call: the red zone below the stack pointer
   * holds nothing live (no leaf function is running). */
  inSyscall: boolean;
}

/** `nr arg1..arg6 sp pc` inside a call, `-1 sp pc` outside one, or `running`. */
export function parseSyscallLine(text: string): Omit<ThreadState, 'tid'> {
  const fields = text.trim().split(/\s+/);
  if (fields.length < 3 || fields[0] === 'running') return { stackPointer: null, inSyscall: false };
  const stackPointer = Number.parseInt(fields[fields.length - 2], 16);
  return { stackPointer: Number.isSafeInteger(stackPointer) ? stackPointer : null, inSyscall: fields[0] !== '-1' };
}

/** Threads that vanish while being read are left out. */
export function readThreads(pid: number): ThreadState[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const threads: ThreadState[] = [];
  for (const tid of tids) {
    try {
      threads.push({ tid: Number(tid), ...parseSyscallLine(readFileSync(`/proc/${pid}/task/${tid}/syscall`, 'utf8')) });
    } catch {
      // gone
    }
  }
  return threads;
}
