// /proc/PID/maps as typed mappings: which file, and where in it, backs each
// range of a process's address space.
import { readFileSync } from 'node:fs';

export interface Mapping {
  start: number;
  end: number;
  /** File offset of `start`. */
  offset: number;
  /** As the kernel prints them, e.g. `r-xp`. */
  perms: string;
  /** The file's device as the kernel prints it (`major:minor`, hex), e.g. `fe:01`. */
  device: string;
  inode: number;
  /** A file path, a pseudo-name such as `[heap]`, or null for anonymous memory. */
  path: string | null;
  /** The file was deleted or replaced after it was mapped. */
  deleted: boolean;
}

const LINE = /^([0-9a-f]+)-([0-9a-f]+) (\S+) ([0-9a-f]+) (\S+) (\d+)\s*(.*)$/;
const DELETED = ' (deleted)';

/** Lines that do not parse, and ranges past 2^53 ([vsyscall]), are left out. */
export function parseMaps(text: string): Mapping[] {
  const mappings: Mapping[] = [];
  for (const line of text.split('\n')) {
    const match = LINE.exec(line);
    if (!match) continue;
    const [, start, end, perms, offset, device, inode, name] = match;
    const numbers = [start, end, offset].map((hex) => parseInt(hex, 16));
    if (!numbers.every(Number.isSafeInteger)) continue;
    const deleted = name.endsWith(DELETED);
    // The kernel writes a newline in a file name as \012.
    const path = (deleted ? name.slice(0, -DELETED.length) : name).replaceAll('\\012', '\n');
    mappings.push({ start: numbers[0], end: numbers[1], offset: numbers[2], perms, device, inode: Number(inode), path: path === '' ? null : path, deleted });
  }
  return mappings;
}

/** Throws (ENOENT) when the process does not exist. */
export function readMaps(pid: number, read: (path: string) => string = (path) => readFileSync(path, 'utf8')): Mapping[] {
  return parseMaps(read(`/proc/${pid}/maps`));
}
