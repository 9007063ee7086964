// The processes one trace follows: the target alone, or with
// --follow-children and --cgroup every process it forks and execs (and every
// process of the cgroup). Each keeps its own history of maps, so that a
// stack is placed in the program of the process that made it, and the
// command line it ran last.
import { readFileSync } from 'node:fs';

import type { FileMapping } from '../symbolize/mapped-objects.js';
import { ModuleMap } from '../symbolize/module-map.js';
import type { Mapping } from '../symbolize/proc-maps.js';
import { tryReadMaps } from './target-probes.js';

/** /proc/PID/cmdline as words; null once the process is gone (or for a kernel thread). */
function readCommand(pid: number): string[] | null {
  try {
    const words = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (words.at(-1) === '') words.pop();
    return words.length > 0 ? words : null;
  } catch {
    return null;
  }
}

export class FollowedProcesses {
  readonly #keep: (pid: number, mapping: FileMapping) => string | null;
  readonly #maps = new Map<number, ModuleMap>();
  readonly #commands = new Map<number, string[] | null>();
  /** Processes seen to end: their maps are gone, what was read stays. */
  readonly #ended = new Set<number>();
  /** Processes whose maps were read at least once. */
  readonly #read = new Set<number>();
  /** Each forked process's parent: a child gone before its maps were read
   * ran in a copy of its parent's address space. */
  readonly #parents = new Map<number, number>();

  readonly #onMaps: (pid: number, maps: Mapping[]) => void;

  /** `onMaps` sees every snapshot of a process's maps as it is read. */
  constructor(keep: (pid: number, mapping: FileMapping) => string | null, onMaps: (pid: number, maps: Mapping[]) => void = () => {}) {
    this.#keep = keep;
    this.#onMaps = onMaps;
  }

  /** Follows `pid` from now (or again, after an exec): its command line and maps as they are now. */
  note(pid: number, parent?: number): void {
    if (parent !== undefined) this.#parents.set(pid, parent);
    const command = readCommand(pid);
    if (command || !this.#commands.has(pid)) this.#commands.set(pid, command);
    this.snapshot(pid);
  }

  knows(pid: number): boolean {
    return this.#commands.has(pid);
  }

  command(pid: number): string[] | null {
    return this.#commands.get(pid) ?? null;
  }

  /** Its history of maps (empty if it was never read). */
  modules(pid: number): ModuleMap {
    let modules = this.#maps.get(pid);
    if (!modules) this.#maps.set(pid, (modules = new ModuleMap((mapping) => this.#keep(pid, mapping))));
    return modules;
  }

  /** Reads the maps of every process still running, as new stacks appear:
   * a process's maps vanish when it exits. */
  snapshotAll(): void {
    for (const pid of this.#commands.keys()) if (!this.#ended.has(pid)) this.snapshot(pid);
  }

  snapshot(pid: number): void {
    const maps = tryReadMaps(pid);
    if (!maps) {
      this.#ended.add(pid);
      return;
    }
    this.modules(pid).add(maps);
    this.#read.add(pid);
    this.#onMaps(pid, maps);
  }

  /** The maps that place `pid`'s stacks: its own, or for a child gone
   * before they were read, its nearest ancestor's. */
  placing(pid: number): ModuleMap {
    let at = pid;
    for (let hops = 0; !this.#read.has(at) && this.#parents.has(at) && hops < this.#parents.size; hops++) at = this.#parents.get(at) as number;
    return this.modules(at);
  }

  /** Where leakhound reads a file any followed process mapped; null if none can. */
  openPath(path: string): string | null {
    for (const modules of this.#maps.values()) {
      const file = modules.openPath(path);
      if (file !== null) return file;
    }
    return null;
  }
}
