// Each object a process maps, held open from the moment its mapping is seen.
// A binary or library replaced on disk (an upgrade, a deploy) is then read as
// the copy the process runs, never as the new file at its path, and a
// launched command's objects stay readable after it exits and its
// /proc/PID/map_files are gone.
import { closeSync, constants, fstatSync, openSync, statSync } from 'node:fs';
import { identityAt } from './file-identity.js';
import type { Mapping } from './proc-maps.js';

export type FileMapping = Mapping & { path: string };

// Non-blocking: a FIFO planted at a library's path must not hang the open.
const openForReading = (path: string): number => openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);

export class MappedObjects {
  /** By device and inode: the path that reaches the held descriptor, null when none could be opened. */
  readonly #held = new Map<string, string | null>();
  readonly #descriptors: number[] = [];
  readonly #say: (line: string) => void;
  readonly #open: (path: string) => number;

  /** `say` gets the --verbose lines; `open` stands in for open(2) in tests. */
  constructor(say: (line: string) => void, open: (path: string) => number = openForReading) {
    this.#say = say;
    this.#open = open;
  }

  /** A path that reaches the very file behind `mapping` (/proc/self/fd/N), for
   * the ELF reader, the symbolizer and uprobe attach alike (the kernel follows
   * the magic link); null when it cannot be opened. One descriptor per file.
   * Only a mapping with code opens its file: frames and probes land in code,
   * and opening a device the process mapped could act on it. A mapping
   * without code gets its file's descriptor if one is held. */
  keep(pid: number, mapping: FileMapping): string | null {
    const key = `${mapping.device}:${mapping.inode}`;
    if (!this.#held.has(key) && mapping.perms.includes('x')) this.#held.set(key, this.#hold(pid, mapping));
    return this.#held.get(key) ?? null;
  }

  close(): void {
    for (const fd of this.#descriptors.splice(0)) closeSync(fd);
    this.#held.clear();
  }

  #hold(pid: number, mapping: FileMapping): string | null {
    const fd = this.#openMapped(pid, mapping);
    if (fd === null) {
      this.#say(`${mapping.path}: neither its mapping nor a file with its inode can be opened; its code is left unnamed and unprobed`);
      return null;
    }
    this.#descriptors.push(fd);
    const atPath = identityAt(`/proc/${pid}/root${mapping.path}`);
    if (mapping.deleted || (atPath !== null && atPath.inode !== mapping.inode)) {
      this.#say(`${mapping.path} was replaced on disk after the process mapped it; reading the mapped copy`);
    }
    return `/proc/self/fd/${fd}`;
  }

  /** The mapping itself (/proc/PID/map_files needs CAP_SYS_ADMIN), else the
   * file at its path if that is still the inode mapped. */
  #openMapped(pid: number, mapping: FileMapping): number | null {
    const range = `${mapping.start.toString(16)}-${mapping.end.toString(16)}`;
    return this.#openRegular(`/proc/${pid}/map_files/${range}`, null) ?? this.#openRegular(`/proc/${pid}/root${mapping.path}`, mapping.inode);
  }

  /** Opens `path` only if it is a regular file, and that `inode` where one is
   * given; looked at before the open (which could act on a device) and after
   * (the path may have changed in between). */
  #openRegular(path: string, inode: number | null): number | null {
    const fits = (stat: { isFile(): boolean; ino: number }) => stat.isFile() && (inode === null || stat.ino === inode);
    try {
      if (!fits(statSync(path))) return null;
      const fd = this.#open(path);
      if (fits(fstatSync(fd))) return fd;
      closeSync(fd);
    } catch {
      // Not there, not permitted, or gone: nothing held.
    }
    return null;
  }
}
