// Starting a command held before its first instruction, so every probe is
// in place before its allocator runs.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

import { LeakhoundError } from '../errors.js';
import { addon, type ExitStatus } from '../native/binding.js';

/** The longest a dynamic loader may take to set up TLS, in system calls;
 * past it the command is released with probes attached anyway. */
const MAX_LOADER_SYSCALLS = 100_000;

/** Finds a command the way execvp does: a name with a slash is a path. */
export function resolveCommand(name: string, searchPath = process.env.PATH ?? '/usr/bin:/bin'): string {
  const candidates = name.includes('/') ? [name] : searchPath.split(delimiter).filter(Boolean).map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not this one
    }
  }
  throw new LeakhoundError('SPAWN_FAILED', `cannot execute '${name}': no such executable file`, 'check the command name and PATH');
}

export interface HeldCommand {
  pid: number;
  /** Set when the command ended before its loader set up TLS. */
  exitedEarly: ExitStatus | null;
}

/** Starts the command stopped where its libraries are mapped and none has run. */
export function launchHeld(command: string[]): HeldCommand {
  const path = resolveCommand(command[0]);
  const env = Object.entries(process.env).map(([key, value]) => `${key}=${value}`);
  const pid = addon().spawnStopped(path, command, env);
  const result = addon().runToTlsSetup(pid, MAX_LOADER_SYSCALLS);
  if (result.state === 'exited') return { pid, exitedEarly: { code: result.code, signal: result.signal, cpuMs: result.cpuMs } };
  return { pid, exitedEarly: null };
}
