// Starting a command held before its first instruction, so every probe is
// in place before its allocator runs.
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

import { LeakhoundError } from '../errors.js';
import { addon, type ExitStatus } from '../native/binding.js';

/** The longest a dynamic loader may take to set up TLS, in system calls;
 * past it the command is released with probes attached anyway. */
const MAX_LOADER_SYSCALLS = 100_000;

/** Finds a command the way execvp does: a name with a slash is a path. A
 * refusal says what was found: nothing, a directory, or a file that may not
 * be executed. */
export function resolveCommand(name: string, searchPath = process.env.PATH ?? '/usr/bin:/bin'): string {
  const candidates = name.includes('/') ? [name] : searchPath.split(delimiter).filter(Boolean).map((dir) => join(dir, name));
  let found: 'directory' | 'not-executable' | null = null;
  for (const candidate of candidates) {
    let stats;
    try {
      stats = statSync(candidate);
    } catch {
      continue;
    }
    if (stats.isDirectory()) {
      found ??= 'directory';
      continue;
    }
    try {
      accessSync(candidate, constants.X_OK);
      if (stats.isFile()) return candidate;
    } catch {
      // not this one
    }
    found = 'not-executable';
  }
  if (found === 'directory') throw new LeakhoundError('SPAWN_FAILED', `cannot execute '${name}': it is a directory`, 'name the program inside it');
  if (found === 'not-executable') throw new LeakhoundError('SPAWN_FAILED', `cannot execute '${name}': the file is not executable`, `make it executable (chmod +x), or run it through its interpreter, e.g. leakhound trace -- sh ${name}`);
  throw new LeakhoundError('SPAWN_FAILED', `cannot execute '${name}': no such file${name.includes('/') ? '' : ' in PATH'}`, 'check the command name and PATH');
}

/** Forks the command under ptrace; a child that cannot be ptraced is
 * already traced by someone else, which is worth saying outright. */
function spawnTraced(path: string, command: string[], env: string[]): number {
  try {
    return addon().spawnStopped(path, command, env);
  } catch (error) {
    if ((error as LeakhoundError).code !== 'SPAWN_TRACED') throw error;
    const tracer = /^TracerPid:\s*(\d+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    const by = tracer && tracer !== '0' ? ` (leakhound itself is traced by PID ${tracer}, and a follow-forks tracer such as strace -f or gdb takes its children too)` : '';
    throw new LeakhoundError('SPAWN_TRACED', `${(error as Error).message}${by}`, 'a process can have one tracer: run the tracer inside (leakhound trace -- strace -f CMD), or start CMD alone and use leakhound trace --pid');
  }
}

/** A command leakhound started. Its pid stays its own until it is reaped,
 * so a signal sent through here never reaches a recycled pid. */
export class LaunchedCommand {
  #status: ExitStatus | null;

  constructor(
    readonly pid: number,
    status: ExitStatus | null,
  ) {
    this.#status = status;
  }

  /** Its exit status, reaping it if it has ended; null while it runs. */
  poll(): ExitStatus | null {
    this.#status ??= addon().reap(this.pid);
    return this.#status;
  }

  signal(name: NodeJS.Signals): void {
    if (!this.#status) process.kill(this.pid, name);
  }

  /** Lets go of it: no longer held or traced. */
  release(): void {
    addon().release(this.pid);
  }

  /** holdLoaded for this command: an end on the way is its exit status. */
  holdLoaded(): boolean {
    const ended = holdLoaded(this.pid);
    if (ended) this.#status = ended;
    return ended === null;
  }

  /** Resolves once it has exited, looking every `everyMs`. */
  exit(everyMs: number): Promise<ExitStatus> {
    return new Promise((resolve) => {
      const look = () => {
        const status = this.poll();
        if (status) resolve(status);
        else setTimeout(look, everyMs);
      };
      look();
    });
  }
}

/** Takes a process that stopped itself at an exec (hold_at_exec in
 * bpf/user-alloc.bpf.c) and runs the new program's loader up to its TLS
 * set-up, as at launch. Null once it is held there; its exit status if it
 * ended on the way. */
export function holdLoaded(pid: number): ExitStatus | null {
  addon().seize(pid);
  const result = addon().runToTlsSetup(pid, MAX_LOADER_SYSCALLS);
  return result.state === 'exited' ? { code: result.code, signal: result.signal, cpuMs: result.cpuMs } : null;
}

/** Lets a process go after holdLoaded; it stopped itself, so it is continued too. */
export function resumeHeld(pid: number): void {
  addon().release(pid);
  process.kill(pid, 'SIGCONT');
}

/** Starts the command stopped where its libraries are mapped and none has
 * run; one that ends before then comes back already exited. */
export function launchHeld(command: string[]): LaunchedCommand {
  const path = resolveCommand(command[0]);
  const env = Object.entries(process.env).map(([key, value]) => `${key}=${value}`);
  const pid = spawnTraced(path, command, env);
  const result = addon().runToTlsSetup(pid, MAX_LOADER_SYSCALLS);
  return new LaunchedCommand(pid, result.state === 'exited' ? { code: result.code, signal: result.signal, cpuMs: result.cpuMs } : null);
}
