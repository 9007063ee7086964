// A launched command followed across exec (env, nice, setarch, a shell's
// exec): BPF stops the new program before its first instruction
// (hold_at_exec in bpf/user-alloc.bpf.c); here its loader runs up to its
// TLS set-up, as at launch, the allocator of the program it became is
// probed, and it is let go.
import { readFileSync } from 'node:fs';

import type { NativeTracer } from '../native/binding.js';
import type { LaunchedCommand } from '../target/launch.js';

/** The keys of the exec_hold map. */
const HELD_PID = 0;
const EXECS = 1;

function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32LE(value);
  return buffer;
}

/** Stopped (state T in /proc/PID/stat), as the exec hold leaves it. */
function isStopped(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('T');
  } catch {
    return false;
  }
}

export class ExecFollower {
  readonly #tracer: NativeTracer;
  readonly #command: LaunchedCommand;
  #followed = 0;

  constructor(tracer: NativeTracer, command: LaunchedCommand) {
    this.#tracer = tracer;
    this.#command = command;
  }

  /** From now on, each exec of the command stops it for `follow`. */
  arm(): void {
    this.#tracer.attachTracepoint('hold_at_exec', 'sched', 'sched_process_exec');
    this.#tracer.update('exec_hold', HELD_PID, u32(this.#command.pid));
  }

  /** If the command has exec'd and stopped, runs its loader, calls `probe`
   * and lets it run on. A `probe` that fails still lets it go. */
  follow(probe: () => void): void {
    if (!this.#held()) return;
    if (!this.#command.holdLoaded()) return;
    try {
      probe();
    } finally {
      this.#command.resume();
    }
  }

  /** Once tracing has stopped (no exec is held any more): a command that
   * stopped, or is about to stop, at an exec not yet followed runs on
   * unprobed (SIGCONT also discards a stop still pending). */
  letGo(): void {
    if (this.#execs() !== this.#followed) this.#command.signal('SIGCONT');
  }

  /** An exec not yet followed, with the command stopped by it: taken. */
  #held(): boolean {
    const execs = this.#execs();
    if (execs === this.#followed || !isStopped(this.#command.pid)) return false;
    this.#followed = execs;
    return true;
  }

  #execs(): number {
    return this.#tracer.lookup('exec_hold', EXECS)?.readUInt32LE() ?? 0;
  }
}
