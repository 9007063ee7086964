// Stacks of several processes -> frames: each stack is placed in the maps
// of the process that first made it (after an exec, or in a child that
// became another program, the same addresses hold other code).
import type { Frame } from '../report/types.js';
import { readBuildId } from '../symbolize/build-id.js';
import { UserSymbolizer } from '../symbolize/user-symbolizer.js';
import type { FollowedProcesses } from './followed-processes.js';

export class ProcessSymbolizers {
  readonly #processes: FollowedProcesses;
  readonly #symbolizers = new Map<number, UserSymbolizer>();

  constructor(processes: FollowedProcesses) {
    this.#processes = processes;
  }

  /** `pids[i]`: the process whose maps place `stacks[i]`. */
  resolveStacks(stacks: number[][], pids: number[]): Frame[][] {
    const byPid = new Map<number, number[]>();
    pids.forEach((pid, i) => byPid.set(pid, [...(byPid.get(pid) ?? []), i]));
    const frames: Frame[][] = new Array(stacks.length);
    for (const [pid, indexes] of byPid) {
      const resolved = this.#symbolizer(pid).resolveStacks(indexes.map((i) => stacks[i]));
      indexes.forEach((at, i) => (frames[at] = resolved[i]));
    }
    return frames;
  }

  close(): void {
    for (const symbolizer of this.#symbolizers.values()) symbolizer.close();
  }

  #symbolizer(pid: number): UserSymbolizer {
    let symbolizer = this.#symbolizers.get(pid);
    if (!symbolizer) this.#symbolizers.set(pid, (symbolizer = new UserSymbolizer(this.#processes.placing(pid), undefined, readBuildId)));
    return symbolizer;
  }
}
