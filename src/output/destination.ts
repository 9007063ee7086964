// A report destination named on the command line, checked and (for anything
// but a regular file) opened before the trace: a bad one is refused before
// the command runs, and a pipe such as bash's >(cmd) is held open until the
// report is written into it.
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

import { LeakhoundError } from '../errors.js';
import { checkWritableDescriptor, descriptorNamed, writeAllSync } from './descriptor.js';
import { errnoCode, systemMessage } from './errno.js';
import { probeWritable, writeFileSafely } from './safe-write.js';

const { O_WRONLY, O_NOFOLLOW, O_NOCTTY, O_NONBLOCK, O_DIRECTORY, O_RDONLY } = constants;

export type Destination =
  /** Absent or a regular file: written beside it and renamed over it. */
  | { kind: 'file'; path: string }
  /** A device, FIFO, pipe or socket: written in place, never replaced. */
  | { kind: 'descriptor'; fd: number; name: string; owned: boolean };

export const STDOUT: Destination = { kind: 'descriptor', fd: 1, name: 'stdout', owned: false };

/** Checks `given` (the value of option `label`) and opens it if it is written in place. */
export async function openDestination(given: string, label: string): Promise<Destination> {
  const path = resolve(given);
  const fd = descriptorNamed(path);
  if (fd !== null) {
    checkWritableDescriptor(fd, `${label} ${given}`);
    return fd === 1 ? STDOUT : { kind: 'descriptor', fd, name: given, owned: false };
  }
  const refuse = (what: string, hint: string) => new LeakhoundError('USAGE', `${label} ${given}: ${what}`, hint);
  const stats = await lstat(path).catch((error: unknown) => {
    if (errnoCode(error) === 'ENOENT') return null;
    throw refuse(systemMessage(error), 'name a file in a writable directory');
  });
  if (stats === null || stats.isFile()) {
    await checkFolder(dirname(path), (what) => refuse(what, 'create the directory, or name a file in another one'));
    return { kind: 'file', path };
  }
  if (stats.isSymbolicLink()) throw refuse('it is a symbolic link, which leakhound does not follow', 'name the file it points to');
  if (stats.isDirectory()) throw refuse('it is a directory', 'name a file, or use --out DIR for a directory');
  if (stats.isBlockDevice()) throw refuse('it is a block device, which a report would overwrite', 'name a file');
  if (stats.isSocket()) throw refuse('it is a socket, which cannot be opened by name', 'name a file');
  return { kind: 'descriptor', fd: openInPlace(path, refuse), name: path, owned: true };
}

/** The parent of a file to be created: it must exist, be a directory, and take a new file. */
async function checkFolder(dir: string, refuse: (what: string) => LeakhoundError): Promise<void> {
  try {
    await (await open(dir, O_RDONLY | O_DIRECTORY)).close();
  } catch (error) {
    const code = errnoCode(error);
    throw refuse(code === 'ENOENT' ? `directory ${dir} does not exist` : code === 'ENOTDIR' ? `${dir} is not a directory` : systemMessage(error));
  }
  await probeWritable(dir);
}

/**
 * Opens a character device or FIFO for writing where it is: no O_CREAT or
 * O_TRUNC, O_NOFOLLOW in case a link was swapped in since lstat, O_NOCTTY so
 * a terminal does not become leakhound's. O_NONBLOCK makes a FIFO without a
 * reader fail now (ENXIO) instead of hanging before the trace; writes retry
 * on EAGAIN.
 */
function openInPlace(path: string, refuse: (what: string, hint: string) => LeakhoundError): number {
  let fd: number;
  try {
    fd = openSync(path, O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
  } catch (error) {
    if (errnoCode(error) === 'ENXIO') throw refuse('the FIFO has no reader', 'start its reader first');
    throw refuse(systemMessage(error), 'name a file');
  }
  // Swapped for something else since lstat: a regular file opened without O_TRUNC would keep a tail of old content.
  const now = fstatSync(fd);
  if (!now.isCharacterDevice() && !now.isFIFO()) {
    closeSync(fd);
    throw refuse('it changed while leakhound checked it', 'run again');
  }
  return fd;
}

/** Writes the whole report to its destination; throws a LeakhoundError naming it and what failed. */
export async function writeDestination(destination: Destination, data: string | Uint8Array): Promise<void> {
  if (destination.kind === 'file') return writeFileSafely(destination.path, data);
  try {
    writeAllSync(destination.fd, data);
  } catch (error) {
    throw new LeakhoundError('OUTPUT_WRITE_FAILED', `cannot write ${destination.name}: ${systemMessage(error)}`);
  }
}

/** Closes a descriptor leakhound opened itself; stdout and inherited ones stay. */
export function closeDestination(destination: Destination): void {
  if (destination.kind === 'descriptor' && destination.owned) closeSync(destination.fd);
}
