// Which file a path names, in the terms /proc/PID/maps uses for a mapping's
// file: its device (`major:minor` in hex) and inode.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';

export interface FileIdentity {
  device: string;
  inode: number;
}

/** glibc's dev_t encoding (what stat gives) as the kernel prints it in maps: `%02x:%02x`. */
export function deviceName(dev: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}`;
}

/** Null when `path` cannot be looked up (missing, not permitted, a process gone). */
export function identityAt(path: string): FileIdentity | null {
  try {
    const stat = statSync(path, { bigint: true });
    return { device: deviceName(stat.dev), inode: Number(stat.ino) };
  } catch {
    return null;
  }
}

/** The files a path given by the user may name: seen from the target's root
 * (a process in a container), and from leakhound's. */
export function identitiesOf(pid: number, path: string): FileIdentity[] {
  const absolute = resolve(path);
  return [`/proc/${pid}/root${absolute}`, absolute].map(identityAt).filter((identity): identity is FileIdentity => identity !== null);
}
