// leakhound runs as root and may write into directories other users can
// write to: never follow a link someone planted there, and never leave a
// half-written file that looks like a report.

import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { LeakhoundError } from '../errors.js';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_DIRECTORY } = constants;

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

/**
 * Creates `dir` (mode 0755, less what the umask removes) if missing, and
 * refuses it if it is a symbolic link or not a directory.
 */
export async function prepareOutDir(dir: string): Promise<void> {
  // resolve() drops a trailing slash, which would make the kernel follow a final symlink despite O_NOFOLLOW.
  const path = resolve(dir);
  let mkdirError: unknown;
  try {
    await mkdir(path, { recursive: true, mode: 0o755 });
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
    if (code !== 'ELOOP' && code !== 'ENOTDIR') {
      throw new LeakhoundError('OUTPUT_DIR_FAILED', `cannot create output directory ${path}: ${((mkdirError ?? error) as Error).message}`);
    }
    // Refused either way; Linux says ENOTDIR for a link under O_DIRECTORY, so look again only to word the message.
    const link = await lstat(path).then((stats) => stats.isSymbolicLink(), () => false);
    throw link
      ? new LeakhoundError('OUTPUT_DIR_SYMLINK', `refusing output directory ${path}: it is a symbolic link`, 'name the real directory')
      : new LeakhoundError('OUTPUT_DIR_NOT_DIRECTORY', `refusing output directory ${path}: it is not a directory`);
  }
  await handle.close();
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
    throw new LeakhoundError('OUTPUT_WRITE_FAILED', `cannot write ${target}: ${(error as Error).message}`);
  }
}
