// What a process had mapped where, merged over snapshots of its maps: a
// launched command's maps vanish when it exits, and a library unloaded
// since a stack was captured must still place that stack's frames.
import { existsSync } from 'node:fs';
import type { Mapping } from './proc-maps.js';

export interface Location {
  /** As the target mapped it. */
  path: string;
  fileOffset: number;
}

function isFileBacked(mapping: Mapping): mapping is Mapping & { path: string } {
  return mapping.path !== null && mapping.path.startsWith('/') && mapping.inode !== 0;
}

/** The parts of `old` that no mapping in `newer` (sorted, disjoint) covers. */
function uncovered(old: Mapping, newer: Mapping[]): Mapping[] {
  const pieces: Mapping[] = [];
  let from = old.start;
  for (let i = firstEndingAfter(newer, old.start); i < newer.length && newer[i].start < old.end; i++) {
    if (newer[i].start > from) pieces.push(slice(old, from, newer[i].start));
    from = Math.max(from, newer[i].end);
  }
  if (from < old.end) pieces.push(slice(old, from, old.end));
  return pieces;
}

function slice(mapping: Mapping, start: number, end: number): Mapping {
  return { ...mapping, start, end, offset: mapping.offset + (start - mapping.start) };
}

/** Index of the first mapping whose end lies above `address`. */
function firstEndingAfter(sorted: Mapping[], address: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle].end <= address) low = middle + 1;
    else high = middle;
  }
  return low;
}

export class ModuleMap {
  /** Disjoint, by start address; where snapshots disagree, the newest wins. */
  #ranges: Mapping[] = [];

  add(snapshot: Mapping[]): void {
    const newer = snapshot.filter((mapping) => mapping.end > mapping.start).sort((a, b) => a.start - b.start);
    const kept = this.#ranges.flatMap((old) => uncovered(old, newer));
    this.#ranges = [...kept, ...newer].sort((a, b) => a.start - b.start);
  }

  /** The file and offset behind an address; null for anonymous memory or an unknown address. */
  locate(address: number): Location | null {
    const mapping = this.#ranges[firstEndingAfter(this.#ranges, address)];
    if (!mapping || mapping.start > address || !isFileBacked(mapping)) return null;
    return { path: mapping.path, fileOffset: address - mapping.start + mapping.offset };
  }

  /** The program's own file: the kernel maps it lowest. Null when it was deleted. */
  executable(): string | null {
    const first = this.#ranges.find(isFileBacked);
    return first && !first.deleted ? first.path : null;
  }

  /** Other objects with executable code, in load order: the dynamic linker
   * maps each library below the previous one. Deleted files are left out
   * (nothing by that path is what the process runs). */
  libraries(): string[] {
    const executable = this.executable();
    const seen = new Set<string>();
    for (let i = this.#ranges.length - 1; i >= 0; i--) {
      const mapping = this.#ranges[i];
      if (isFileBacked(mapping) && !mapping.deleted && mapping.perms.includes('x') && mapping.path !== executable) seen.add(mapping.path);
    }
    return [...seen];
  }

  /** Executable ranges of files, by address. */
  code(): { path: string; start: number; end: number }[] {
    return this.#ranges
      .filter((mapping) => isFileBacked(mapping) && !mapping.deleted && mapping.perms.includes('x'))
      .map((mapping) => ({ path: mapping.path as string, start: mapping.start, end: mapping.end }));
  }

  /** The path leakhound opens for a file the target mapped: through the
   * target's root (containers) while that exists, else as named. */
  openPath(pid: number, path: string, exists: (path: string) => boolean = existsSync): string {
    const rooted = `/proc/${pid}/root${path}`;
    return exists(rooted) ? rooted : path;
  }
}
