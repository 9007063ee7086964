// Where a finished report goes when its destination fails after the trace
// (a full disk, a closed pipe): a new file in $TMPDIR, else /tmp, that no one
// else can have prepared (O_EXCL, O_NOFOLLOW) or read (mode 0600).
import { constants } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;

/** Saves `data` as leakhound-report-PID-TIME.EXT and returns its path; throws the last directory's error if none takes it. */
export async function saveFallback(data: string, extension: 'json' | 'txt', dirs = [...new Set([tmpdir(), '/tmp'])]): Promise<string> {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  let lastError: unknown;
  for (const dir of dirs) {
    const path = join(dir, `leakhound-report-${process.pid}-${stamp}.${extension}`);
    let created = false;
    try {
      const handle = await open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
      created = true;
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return path;
    } catch (error) {
      lastError = error;
      // Only a file made here: EEXIST means the name is someone else's.
      if (created) await unlink(path).catch(() => undefined);
    }
  }
  throw lastError;
}
