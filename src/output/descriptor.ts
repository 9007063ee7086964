// Writing to a descriptor leakhound did not create: a pipe, a terminal, a
// device, or stdout and stderr themselves. Writes are synchronous so that a
// line said just before process.exit() is out, and they go to the descriptor
// directly, never through process.stdout: Node would make a stdout pipe
// non-blocking, and a launched command that shares it would then see EAGAIN.
import { readFileSync, writeSync } from 'node:fs';

import { LeakhoundError } from '../errors.js';
import { errnoCode } from './errno.js';

/** How long to wait before retrying a write a non-blocking descriptor refused (EAGAIN). */
const RETRY_MS = 5;
const pause = new Int32Array(new SharedArrayBuffer(4));

/** Writes all of `data`, retrying short writes and EAGAIN; throws the first other error (EPIPE, EIO, ENOSPC...). */
export function writeAllSync(fd: number, data: string | Uint8Array): void {
  const buffer = typeof data === 'string' ? Buffer.from(data) : data;
  let offset = 0;
  while (offset < buffer.length) {
    try {
      offset += writeSync(fd, buffer, offset, buffer.length - offset);
    } catch (error) {
      if (errnoCode(error) !== 'EAGAIN') throw error;
      Atomics.wait(pause, 0, 0, RETRY_MS);
    }
  }
}

const NAMED: Record<string, number> = { '/dev/stdin': 0, '/dev/stdout': 1, '/dev/stderr': 2 };

/**
 * The descriptor a path names through the kernel's own aliases (/dev/stdout,
 * /dev/fd/N, /proc/self/fd/N), or null for any other path. These are written
 * as the descriptor itself: reopening them would reopen a pipe's far end or
 * fail on a socket, and /dev/stdout is a symbolic link only by convention.
 */
export function descriptorNamed(absolutePath: string): number | null {
  if (absolutePath in NAMED) return NAMED[absolutePath]!;
  const match = /^(?:\/dev\/fd|\/proc\/(?:self|thread-self)\/fd)\/(\d+)$/.exec(absolutePath);
  return match ? Number(match[1]) : null;
}

/** Refuses a descriptor that is not open, or open only for reading (its flags, from /proc/self/fdinfo). */
export function checkWritableDescriptor(fd: number, label: string): void {
  let info: string;
  try {
    info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
  } catch {
    throw new LeakhoundError('USAGE', `${label}: descriptor ${fd} is not open`, 'open it for writing, e.g. 3>file, or name a file');
  }
  const flags = /^flags:\s*([0-7]+)$/m.exec(info);
  // The access mode is the low two bits: 0 is O_RDONLY.
  if (flags && (parseInt(flags[1]!, 8) & 3) === 0) {
    throw new LeakhoundError('USAGE', `${label}: descriptor ${fd} is open only for reading`, 'open it for writing, or name a file');
  }
}
