// leakhound runs as root and may write into directories other users can
// write to: never follow a link someone planted there, and never leave a
// half-written file that looks like a report.

import { randomBytes } from 'node:crypto';
import { constants, rmdirSync } from 'node:fs';
import { lstat, mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { LeakhoundError } from '../errors.js';
import { errnoCode, systemMessage } from './errno.js';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_DIRECTORY } = constants;

/**
 * Creates `dir` (mode 0755, less what the umask removes) if missing, and
 * refuses it if it is a symbolic link or not a directory. Returns the
 * directories it created, deepest first. Refusals are usage errors: they
 * come before anything is traced.
 */
export async function prepareOutDir(dir: string): Promise<string[]> {
  // resolve() drops a trailing slash, which would make the kernel follow a final symlink despite O_NOFOLLOW.
  const path = resolve(dir);
  let mkdirError: unknown;
  let created: string[] = [];
  try {
    const first = await mkdir(path, { recursive: true, mode: 0o755 });
    if (first !== undefined) created = ancestorsUpTo(path, first);
  } catch (error) {
    // Whatever is in the way, the open below names it more precisely.
    mkdirError = error;
  }
  // One open both checks and does not race: O_NOFOLLOW fails on a link, O_DIRECTORY on anything else.
  let handle: FileHandle;
  try {
    handle = await open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  } catch (error) {
    const code = errnoCode(error);
    // Node's recursive mkdir says ENOENT for a read-only mount too: the probe words the true cause.
    if (code === 'ENOENT' && mkdirError) await probeWritable(await nearestExisting(path));
    if (code !== 'ELOOP' && code !== 'ENOTDIR') {
      throw new LeakhoundError('USAGE', `cannot create output directory ${path}: ${systemMessage(mkdirError ?? error)}`, 'choose a writable directory');
    }
    // Refused either way; Linux says ENOTDIR for a link under O_DIRECTORY, so look again only to word the message.
    const link = await lstat(path).then((stats) => stats.isSymbolicLink(), () => false);
    throw link
      ? new LeakhoundError('USAGE', `refusing output directory ${path}: it is a symbolic link`, 'name the real directory')
      : new LeakhoundError('USAGE', `refusing output directory ${path}: it is not a directory`, 'name a directory, or a path that does not exist yet');
  }
  await handle.close();
  return created;
}

async function nearestExisting(path: string): Promise<string> {
  let dir = dirname(path);
  while (dirname(dir) !== dir && !(await lstat(dir).then(() => true, () => false))) dir = dirname(dir);
  return dir;
}

/** `path` and its ancestors up to and including `top`, deepest first. */
function ancestorsUpTo(path: string, top: string): string[] {
  const chain = [path];
  for (let dir = path; dir !== top && dirname(dir) !== dir; ) {
    dir = dirname(dir);
    chain.push(dir);
  }
  return chain;
}

/**
 * Removes directories leakhound created, deepest first, while they are
 * empty: rmdir() never removes anything else, so whatever someone put there
 * stays. Synchronous, for a process 'exit' listener.
 */
export function removeEmptyDirs(dirs: string[]): void {
  for (const dir of dirs) {
    try {
      rmdirSync(dir);
    } catch {
      return;
    }
  }
}

/**
 * Checks that a file can be created in `dir` the way the report will be, by
 * creating one and removing it: this catches a read-only mount, missing
 * permission (which root bypasses only where the file system allows it) and
 * exhausted inodes alike.
 */
export async function probeWritable(dir: string): Promise<void> {
  const probe = join(dir, `.leakhound-probe.${randomBytes(8).toString('hex')}`);
  try {
    await (await open(probe, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)).close();
  } catch (error) {
    throw unwritable(dir, error);
  }
  await unlink(probe);
}

function unwritable(dir: string, error: unknown): LeakhoundError {
  const hint = 'choose a writable directory';
  switch (errnoCode(error)) {
    case 'EROFS':
      return new LeakhoundError('USAGE', `cannot write in ${dir}: it is on a read-only file system`, hint);
    case 'EACCES':
    case 'EPERM':
      return new LeakhoundError('USAGE', `cannot write in ${dir}: permission denied`, hint);
    case 'ENOSPC':
    case 'EDQUOT':
      return new LeakhoundError('USAGE', `cannot write in ${dir}: no space left`, 'free some space, or choose another directory');
    default:
      return new LeakhoundError('USAGE', `cannot write in ${dir}: ${systemMessage(error)}`, hint);
  }
}

/**
 * Writes a new file beside the target and renames it over the target, so
 * readers see the old file or the whole new one. rename() replaces a link
 * planted at the target instead of writing through it.
 */
export async function writeFileSafely(path: string, data: string | Uint8Array): Promise<void> {
  const target = resolve(path);
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(8).toString('hex')}.tmp`);
  let handle: FileHandle | undefined;
  let created = false;
  try {
    // O_EXCL fails on anything already at the temp name, links included; O_NOFOLLOW says so twice.
    handle = await open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
    created = true;
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, target);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    // Only a file we created: an EEXIST at open means the name belongs to someone else.
    if (created) await unlink(temp).catch(() => undefined);
    throw new LeakhoundError('OUTPUT_WRITE_FAILED', `cannot write ${target}: ${systemMessage(error)}`);
  }
}
