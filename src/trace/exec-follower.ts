// Processes followed across exec (env, nice, setarch, a shell's exec; with
// --follow-children, any traced process): BPF has the new program stop
// itself before its first instruction (hold_at_exec in bpf/user-alloc.bpf.c)
// and says which process in a small ring; here its loader runs up to its
// TLS set-up, as at launch, the allocator of the program it became is
// probed, and it is let go.
import { readFileSync } from 'node:fs';

import { type NativeTracer, u32Value } from '../native/binding.js';

/** exec_hold's keys: the one process to hold (without --follow-children),
 * the holds so far, the holds user space has read (BPF holds no more than
 * the ring takes past them), and the execs let through for want of room. */
const HELD_PID = 0;
const HOLDS = 1;
const READ = 2;
const UNHELD = 3;
/** exec_held's slots (a ring): each (hold number + 1) << 32 | the process id. */
const RING = 64;

/** Stopped (state T in /proc/PID/stat), as the exec hold leaves it. */
function isStopped(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('T');
  } catch {
    return false;
  }
}

/** How a held process is taken and let go (the launched command keeps its own exit status). */
export interface Holder {
  /** Takes the stopped process and runs its loader; false if it ended on the way. */
  hold(pid: number): boolean;
  resume(pid: number): void;
}

export class ExecFollower {
  readonly #tracer: NativeTracer;
  readonly #holder: Holder;
  /** Holds read from the ring so far. */
  #read = 0;
  /** Held processes not yet seen stopped (the stop is taken on the way back to user space). */
  readonly #pending = new Set<number>();

  constructor(tracer: NativeTracer, holder: Holder) {
    this.#tracer = tracer;
    this.#holder = holder;
  }

  /** From now on each exec of `pid` (null: of every followed process) stops it for `follow`. */
  arm(pid: number | null): void {
    this.#tracer.attachTracepoint('hold_at_exec', 'sched', 'sched_process_exec');
    if (pid !== null) this.#tracer.update('exec_hold', HELD_PID, u32Value(pid));
  }

  /** For each process held at an exec and stopped: runs its loader, calls
   * `probe` and lets it run on. A `probe` that fails still lets it go. */
  follow(probe: (pid: number) => void): void {
    this.#collect();
    for (const pid of this.#pending) {
      if (!isStopped(pid)) continue;
      this.#pending.delete(pid);
      if (!this.#holder.hold(pid)) continue;
      try {
        probe(pid);
      } finally {
        this.#holder.resume(pid);
      }
    }
  }

  /** Once tracing has stopped (no exec is held any more): a process that
   * stopped, or is about to stop, at an exec not yet followed runs on
   * unprobed (SIGCONT also discards a stop still pending). */
  letGo(): void {
    this.#collect();
    for (const pid of this.#pending) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // gone
      }
    }
    this.#pending.clear();
  }

  /** Execs that came while the ring was full: those programs ran unprobed. */
  unheld(): number {
    return this.#word(UNHELD);
  }

  /** Moves the holds BPF has recorded since the last look into #pending. */
  #collect(): void {
    const holds = this.#word(HOLDS);
    for (; this.#read < holds; this.#read++) {
      const slot = this.#tracer.lookup('exec_held', this.#read % RING);
      // A slot is written after its hold is counted: one not yet written is read next time.
      if (!slot || slot.readUInt32LE(4) !== this.#read + 1) break;
      this.#pending.add(slot.readUInt32LE(0));
    }
    this.#tracer.update('exec_hold', READ, u32Value(this.#read));
  }

  #word(key: number): number {
    return this.#tracer.lookup('exec_hold', key)?.readUInt32LE() ?? 0;
  }
}
