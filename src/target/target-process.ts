// What a --pid names, read from /proc before anything is loaded, so that a
// refusal gives the true cause: no such process, a thread, a zombie, a
// kernel thread, or one leakhound may not read.
import { readFileSync } from 'node:fs';

import { LeakhoundError } from '../errors.js';

export type TargetState =
  | { kind: 'process' }
  | { kind: 'absent' }
  | { kind: 'not-permitted'; reason: string }
  | { kind: 'thread'; tgid: number }
  | { kind: 'zombie' }
  | { kind: 'kernel-thread' };

/** include/linux/sched.h: the task flag the kernel sets on its own threads. */
const PF_KTHREAD = 0x00200000;

type Read = (path: string) => string;
const readText: Read = (path) => readFileSync(path, 'utf8');

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

/** /proc/PID/stat's fields after the command name (which may hold spaces and parentheses). */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

export function inspectTarget(pid: number, read: Read = readText): TargetState {
  let status: string;
  let stat: string;
  try {
    status = read(`/proc/${pid}/status`);
    stat = read(`/proc/${pid}/stat`);
  } catch (error) {
    return errnoCode(error) === 'ENOENT' ? { kind: 'absent' } : { kind: 'not-permitted', reason: (error as Error).message };
  }
  const tgid = Number(/^Tgid:\s*(\d+)$/m.exec(status)?.[1] ?? pid);
  if (tgid !== pid) return { kind: 'thread', tgid };
  const fields = statFields(stat);
  // fields[0] is the state; fields[6] the flags (proc(5) numbers them 3 and 9).
  if (fields[0] === 'Z' || fields[0] === 'X') return { kind: 'zombie' };
  if (Number(fields[6]) & PF_KTHREAD) return { kind: 'kernel-thread' };
  try {
    // The maps are what leakhound needs; reading them takes what attaching takes (PTRACE_MODE_READ).
    read(`/proc/${pid}/maps`);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ESRCH') return { kind: 'absent' };
    return { kind: 'not-permitted', reason: (error as Error).message };
  }
  return { kind: 'process' };
}

/** Throws the one line that says why `pid` cannot be traced, if it cannot. */
export function requireTraceable(pid: number, read: Read = readText): void {
  const state = inspectTarget(pid, read);
  switch (state.kind) {
    case 'process':
      return;
    case 'absent':
      throw new LeakhoundError('NO_PROCESS', `no process has PID ${pid}`, 'check the PID with ps');
    case 'not-permitted':
      throw new LeakhoundError('NOT_PERMITTED', `leakhound may not read process ${pid}'s memory map (${state.reason})`, 'it runs in another user namespace or under a security policy that forbids reading it; trace it from where it runs');
    case 'thread':
      throw new LeakhoundError('NO_PROCESS', `${pid} is a thread of process ${state.tgid}, not a process`, `give --pid ${state.tgid}: leakhound traces every thread of a process`);
    case 'zombie':
      throw new LeakhoundError('NO_PROCESS', `process ${pid} has exited and is a zombie waiting for its parent`, 'there is nothing left to trace');
    case 'kernel-thread':
      throw new LeakhoundError('NO_PROCESS', `process ${pid} is a kernel thread, with no user memory`, 'use leakhound kernel --pid for what the kernel allocates');
  }
}
