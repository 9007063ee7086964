// What a process had mapped where, merged over snapshots of its maps: a
// launched command's maps vanish when it exits, and a library unloaded
// since a stack was captured must still place that stack's frames. Each
// file is read through the mapping itself (mapped-objects.ts), so an object
// replaced on disk since it was mapped is still read as the process runs it.
import { resolve } from 'node:path';

import { firstEndingAfter } from '../sorted-ranges.js';
import type { FileIdentity } from './file-identity.js';
import type { FileMapping } from './mapped-objects.js';
import type { Mapping } from './proc-maps.js';

export interface Location {
  /** As the target mapped it. */
  path: string;
  fileOffset: number;
  /** Where leakhound reads that file; null when it cannot be opened. */
  file: string | null;
}

/** Where leakhound reads the file behind a mapping, or null; given a file's
 * code mappings before its others. */
export type Keeper = (mapping: FileMapping) => string | null;

type Range = Mapping & { file: string | null };

function isFileBacked<T extends Mapping>(mapping: T): mapping is T & { path: string } {
  return mapping.path !== null && mapping.path.startsWith('/') && mapping.inode !== 0;
}

/** A file-backed range leakhound can read. */
function isReadable(mapping: Range): mapping is Range & { path: string; file: string } {
  return isFileBacked(mapping) && mapping.file !== null;
}

/** Whether a mapping holds code: only such a mapping holds return addresses. */
function hasCode(mapping: Mapping): boolean {
  return mapping.perms.includes('x');
}

/** Whether any mapping in `sorted` (by start, disjoint) shares an address with `range`. */
function overlapsAny(range: Mapping, sorted: Mapping[]): boolean {
  const next = sorted[firstEndingAfter(sorted, range.start)];
  return next !== undefined && next.start < range.end;
}

export class ModuleMap {
  readonly #keep: Keeper;
  /** Disjoint, by start address: each as a snapshot showed it, kept until a
   * newer snapshot maps anything over any part of it. */
  #ranges: Range[] = [];
  /** Where leakhound reads each file, by its name in the maps; the newest mapping wins. */
  readonly #files = new Map<string, string>();

  constructor(keep: Keeper) {
    this.#keep = keep;
  }

  add(snapshot: Mapping[]): void {
    const mappings = snapshot.filter((mapping) => mapping.end > mapping.start);
    // Code first: a file's other mappings (its ELF header, its data) share
    // the descriptor its code mapping opened.
    const files = new Map<Mapping, string | null>();
    for (const mapping of [...mappings.filter(hasCode), ...mappings.filter((mapping) => !hasCode(mapping))]) {
      if (isFileBacked(mapping)) files.set(mapping, this.#keep(mapping));
    }
    const newer = mappings.map((mapping): Range => ({ ...mapping, file: files.get(mapping) ?? null })).sort((a, b) => a.start - b.start);
    for (const mapping of newer) if (isReadable(mapping)) this.#files.set(mapping.path, mapping.file);
    // What an older snapshot showed stays only where nothing is mapped over
    // it now: a mapping this one overlaps is gone or remade (what is left of
    // it is in this snapshot), and the rest of its range no longer holds it.
    // The dynamic linker maps a library dlopen()ed late where it had read
    // /etc/ld.so.cache: a piece of the cache kept would name the code loaded
    // next to it. Ranges nothing replaced keep naming frames of objects
    // unmapped since, or of a process that exited.
    const kept = this.#ranges.filter((old) => !overlapsAny(old, newer));
    this.#ranges = [...kept, ...newer].sort((a, b) => a.start - b.start);
  }

  /** The file and offset behind a return address (the call's last byte);
   * null for anonymous memory, a mapping without code (data, a file read
   * through mmap such as /etc/ld.so.cache) or an unknown address. */
  locate(address: number): Location | null {
    const mapping = this.#ranges[firstEndingAfter(this.#ranges, address)];
    if (!mapping || mapping.start > address || !isFileBacked(mapping) || !hasCode(mapping)) return null;
    return { path: mapping.path, fileOffset: address - mapping.start + mapping.offset, file: mapping.file };
  }

  /** The program's own file: the kernel maps it lowest. Null when it cannot be read. */
  executable(): string | null {
    const first = this.#ranges.find(isFileBacked);
    return first && first.file !== null ? first.path : null;
  }

  /** Other readable objects with executable code, in load order: the dynamic
   * linker maps each library below the previous one. */
  libraries(): string[] {
    const executable = this.executable();
    const seen = new Set<string>();
    for (let i = this.#ranges.length - 1; i >= 0; i--) {
      const mapping = this.#ranges[i];
      if (isReadable(mapping) && hasCode(mapping) && mapping.path !== executable) seen.add(mapping.path);
    }
    return [...seen];
  }

  /** Executable ranges of readable files, by address. */
  code(): { path: string; start: number; end: number }[] {
    return this.#ranges.filter(isReadable).filter(hasCode).map(({ path, start, end }) => ({ path, start, end }));
  }

  /** Where leakhound reads a file the target mapped, by its name in the maps;
   * null when it cannot be read. */
  openPath(path: string): string | null {
    return this.#files.get(path) ?? null;
  }

  /** The name in the maps of the object a user named: the same file (device
   * and inode), else a mapping by that name, read as mapped even if the name
   * now holds another file. Null when the target maps neither. */
  named(path: string, identities: FileIdentity[]): string | null {
    const readable = this.#ranges.filter(isReadable);
    const same = readable.find((mapping) => identities.some((id) => id.device === mapping.device && id.inode === mapping.inode));
    return (same ?? readable.find((mapping) => mapping.path === resolve(path)))?.path ?? null;
  }
}
