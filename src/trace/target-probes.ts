// A process's allocator, probed from its current maps. At the start of a
// trace, and again after each exec of a launched command: the program it
// became may keep the same allocator (the same file, whose probes are on
// already) or bring another (env LD_PRELOAD=libjemalloc.so prog).
import { LeakhoundError } from '../errors.js';
import { addon, type NativeTracer } from '../native/binding.js';
import { identitiesOf } from '../symbolize/file-identity.js';
import type { FileMapping } from '../symbolize/mapped-objects.js';
import { ModuleMap } from '../symbolize/module-map.js';
import { type Mapping, readMaps } from '../symbolize/proc-maps.js';
import { type AllocatorChoice, chooseAllocator, isGlibc, type ProbeEnvironment, type ProbePoint } from '../target/allocator.js';
import { chooseProbeSite } from '../target/probe-site.js';
import { requireTraceable } from '../target/target-process.js';

export interface TargetProbeOptions {
  /** Probes fire in every process that maps the object, not only the one
   * probed (--follow-children, --cgroup: BPF keeps to the followed ones). */
  everyProcess: boolean;
  /** --allocator, if given. */
  allocator: string | null;
  /** The chosen stack walk's programs for the allocator's return and free's entry. */
  walkPrograms: WalkPrograms;
  verbose: boolean;
  say: (line: string) => void;
}

/** What loads, per stack walk, in place of the programs probes name. */
export interface WalkPrograms {
  alloc_exit: string;
  free_enter: string;
}

export class TargetProbes {
  readonly #tracer: NativeTracer;
  readonly #options: TargetProbeOptions;
  readonly #keep: (pid: number, mapping: FileMapping) => string | null;
  /** Every probe attached, by program, file and offset: each goes on once. */
  readonly #attached = new Set<string>();

  constructor(tracer: NativeTracer, keep: (pid: number, mapping: FileMapping) => string | null, options: TargetProbeOptions) {
    this.#tracer = tracer;
    this.#keep = keep;
    this.#options = options;
  }

  /** Reads the maps of `pid` (adding them to `history`), chooses the
   * allocator of the program it runs now, and attaches the probes not on yet. */
  probe(pid: number, history: ModuleMap): AllocatorChoice {
    const snapshot = readTargetMaps(pid);
    history.add(snapshot);
    // Only this program's objects: the history still holds those of the one before an exec.
    const now = new ModuleMap((mapping) => this.#keep(pid, mapping));
    now.add(snapshot);
    const choice = chooseAllocator(now.executable(), now.libraries(), this.#environment(pid, now), this.#options.allocator);
    const attachTo = this.#options.everyProcess ? -1 : pid;
    const fresh = choice.probes.filter((probe) => !this.#attached.has(probeKey(probe, attachTo)));
    attachAll(this.#tracer, fresh, attachTo, this.#options.walkPrograms);
    for (const probe of fresh) this.#attached.add(probeKey(probe, attachTo));
    return choice;
  }

  /** --reachability for a launched command: a probe on the C library's
   * _exit that stops `pid` there, its memory whole (bpf/exit-stop.bpf.h).
   * The executable first: a static program has its own _exit. */
  probeExit(pid: number, modules: ModuleMap): void {
    const executable = modules.executable();
    const libraries = [...modules.libraries().filter(isGlibc), ...modules.libraries().filter((name) => !isGlibc(name))];
    for (const name of executable ? [executable, ...libraries] : libraries) {
      const file = modules.openPath(name);
      const exit = file === null ? undefined : addon().elfSymbols(file, ['_exit'])[0];
      if (file === null || exit === undefined) continue;
      this.#tracer.attachUprobes('exit_stop', file, [exit.fileOffset], [pid], pid, false);
      return;
    }
    throw new LeakhoundError('NO_EXIT', 'no object the command maps defines _exit, where --reachability stops it to scan its memory', 'scan a running process instead: start it alone and use leakhound trace --pid PID --reachability');
  }

  #environment(pid: number, modules: ModuleMap): ProbeEnvironment {
    const { verbose, say } = this.#options;
    return {
      lookup: (path, names) => addon().elfSymbols(path, names),
      open: (path) => modules.openPath(path),
      mapped: (path) => modules.named(path, identitiesOf(pid, path)),
      place: (path, symbol, reads) => {
        const site = chooseProbeSite(addon().decodeFunction(path, symbol.fileOffset, symbol.size), reads);
        if (verbose) say(`${symbol.name}: probe at ${site.reason}`);
        return Number.isNaN(site.fileOffset) ? symbol.fileOffset : site.fileOffset;
      },
    };
  }
}

/** A probe on a file's offset, for one process or (-1) for all. */
function probeKey(probe: ProbePoint, pid: number): string {
  return `${probe.program}\0${probe.path}\0${probe.fileOffset}\0${probe.isReturn}\0${pid}`;
}

/** One call per program and object: with uprobe_multi links, one link each.
 * Probes that walk the stack go to the chosen stack walk's program. */
function attachAll(tracer: NativeTracer, probes: ProbePoint[], pid: number, walkPrograms: WalkPrograms): void {
  const groups = new Map<string, ProbePoint[]>();
  for (const probe of probes) {
    const key = `${probe.program}\0${probe.path}\0${probe.isReturn}`;
    groups.set(key, [...(groups.get(key) ?? []), probe]);
  }
  for (const [first, ...rest] of groups.values()) {
    const group = [first, ...rest];
    const program = first.program === 'alloc_enter' ? first.program : walkPrograms[first.program];
    tracer.attachUprobes(program, first.path, group.map((p) => p.fileOffset), group.map((p) => p.cookie), pid, first.isReturn);
  }
}

function readTargetMaps(pid: number): Mapping[] {
  const maps = tryReadMaps(pid);
  if (maps && maps.length > 0) return maps;
  // Gone or changed since it was checked: say what it is now.
  requireTraceable(pid);
  throw exitedWhileAttaching(pid);
}

export function exitedWhileAttaching(pid: number): LeakhoundError {
  return new LeakhoundError('NO_PROCESS', `process ${pid} exited while leakhound was attaching`, 'nothing was left attached');
}

/** The process's maps, or null once it is gone. */
export function tryReadMaps(pid: number): Mapping[] | null {
  try {
    return readMaps(pid);
  } catch {
    return null;
  }
}
