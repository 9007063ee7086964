// What a user-mode trace is attached to: a launched command or a running
// pid, and with --follow-children every process they fork and exec. It
// places the probes, follows execs and forks, keeps each process's maps, and
// says when the trace is over.
import { closeSync, openSync } from 'node:fs';

import type { Ledger } from '../aggregate/ledger.js';
import { addon, type ExitStatus, type NativeTracer, u32Value } from '../native/binding.js';
import type { MappedObjects } from '../symbolize/mapped-objects.js';
import type { AllocatorChoice } from '../target/allocator.js';
import { cgroupProcesses } from '../target/cgroup-processes.js';
import { FramePointerCensus } from '../target/frame-pointers.js';
import { holdLoaded, type LaunchedCommand, launchHeld, resumeHeld } from '../target/launch.js';
import { ExecFollower, type Holder } from './exec-follower.js';
import { FollowedProcesses } from './followed-processes.js';
import { exitedWhileAttaching, TargetProbes, type WalkPrograms } from './target-probes.js';
import { type UnwindCapacity, UnwindTables } from './unwind-tables.js';

export interface UserTargetOptions {
  pid: number | null;
  command: string[] | null;
  /** A cgroup v2 directory: every process in it or below it, now and later. */
  cgroup: string | null;
  allocator: string | null;
  followChildren: boolean;
  walkPrograms: WalkPrograms;
  /** Trace descriptors and mappings (the resource programs are loaded). */
  resources: boolean;
  /** Room for unwind tables; null: frame pointers alone. */
  unwind: UnwindCapacity | null;
  /** --reachability: stop the launched command at its _exit, for the scan. */
  stopAtExit?: boolean;
  verbose: boolean;
  say: (line: string) => void;
}

/** The programs of bpf/user-resources.bpf.h and their tracepoints. */
export const RESOURCE_TRACEPOINTS = [
  ['resource_enter', 'raw_syscalls', 'sys_enter'],
  ['resource_exit', 'raw_syscalls', 'sys_exit'],
  ['resource_exec', 'sched', 'sched_process_exec'],
] as const;

function describeChoice(choice: AllocatorChoice): string {
  return `${choice.probes.length} probes on ${choice.allocator}${choice.cxxRuntime ? ` and ${choice.cxxRuntime}` : ''}`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class UserTarget {
  /** The process given or launched; null for a cgroup. */
  readonly pid: number | null;
  readonly launched: LaunchedCommand | null;
  readonly processes: FollowedProcesses;
  /** Null when the walk follows frame pointers alone. */
  readonly tables: UnwindTables | null;
  readonly #tracer: NativeTracer;
  readonly #options: UserTargetOptions;
  readonly #probes: TargetProbes;
  readonly #follower: ExecFollower | null;
  readonly #census = new FramePointerCensus({
    sample: (path, max) => addon().elfFunctionSample(path, max),
    decode: (path, extents) => addon().decodeFunctions(path, extents),
  });
  #ended: boolean;
  readonly #following: boolean;
  #forksSeen = 0;

  constructor(tracer: NativeTracer, objects: MappedObjects, options: UserTargetOptions) {
    this.#tracer = tracer;
    this.#options = options;
    this.launched = options.command ? launchHeld(options.command) : null;
    this.pid = this.launched?.pid ?? options.pid;
    this.#ended = this.launched?.poll() != null;
    this.#following = options.followChildren || options.cgroup !== null;
    const keep = (pid: number, mapping: Parameters<MappedObjects['keep']>[1]) => objects.keep(pid, mapping);
    const tables = options.unwind ? new UnwindTables(tracer, { capacity: options.unwind, keep, keepsFramePointers: (file) => this.#census.keeps(file), say: options.verbose ? options.say : () => {} }) : null;
    this.tables = tables;
    // Each new look at a process's maps gives its new objects their tables:
    // before the probes fire for those there at the attach, within a drain
    // for those mapped later.
    this.processes = new FollowedProcesses(keep, tables ? (pid, maps) => tables.provide(pid, maps) : undefined);
    this.#probes = new TargetProbes(tracer, keep, { everyProcess: this.#following, allocator: options.allocator, walkPrograms: options.walkPrograms, verbose: options.verbose, say: options.say });
    this.#follower = this.launched || this.#following ? new ExecFollower(tracer, this.#holder()) : null;
  }

  /** Whether an object (as named in a process's maps) keeps frame pointers; null when unknown. */
  keepsFramePointers = (module: string): boolean | null => {
    const file = this.processes.openPath(module);
    return file === null ? null : this.#census.keeps(file);
  };

  /** Places the probes, before a launched command's first instruction. A
   * failure leaves nothing running that leakhound started. */
  attach(): AllocatorChoice | null {
    if (this.#options.cgroup !== null) return this.#attachCgroup(this.#options.cgroup);
    const pid = this.pid as number;
    const { say, verbose } = this.#options;
    try {
      if (this.#ended) return null;
      // The resource programs see every process's system calls: they keep
      // to the followed ones, the only one included.
      if (this.#following || this.#options.resources) this.#tracer.update('followed', pid, u32Value(1));
      if (this.#following) {
        this.#tracer.attachTracepoint('note_fork', 'sched', 'sched_process_fork');
        this.#tracer.attachTracepoint('forget_exited', 'sched', 'sched_process_exit');
      }
      this.#attachResources();
      this.processes.note(pid);
      const choice = this.#probes.probe(pid, this.processes.modules(pid));
      if (this.#options.stopAtExit && this.launched) this.#probes.probeExit(pid, this.processes.modules(pid));
      if (verbose) say(`code without frame pointers: ${this.#withoutFramePointers(pid)}`);
      this.#follower?.arm(this.#following ? null : pid);
      say(`attached to PID ${pid} (${describeChoice(choice)})${this.#following ? ', following its children' : ''}`);
      return choice;
    } catch (error) {
      if (this.launched) this.launched.signal('SIGKILL');
      else if (!processAlive(pid)) throw exitedWhileAttaching(pid);
      throw error;
    } finally {
      this.launched?.release();
    }
  }

  /** Every process of the cgroup now, and each that joins it later: its
   * forks are followed, and so are its execs (a service manager forks, moves
   * the child into the cgroup, and execs the service). */
  #attachCgroup(dir: string): AllocatorChoice | null {
    const { say } = this.#options;
    const fd = openSync(dir, 'r');
    try {
      this.#tracer.update('cgroup_filter', 0, u32Value(fd));
    } finally {
      closeSync(fd);
    }
    this.#tracer.attachTracepoint('note_fork', 'sched', 'sched_process_fork');
    this.#attachResources();
    this.#follower?.arm(null);
    let last: AllocatorChoice | null = null;
    const pids = cgroupProcesses(dir);
    for (const pid of pids) {
      this.processes.note(pid);
      try {
        last = this.#probes.probe(pid, this.processes.modules(pid));
      } catch (error) {
        say(`warning: PID ${pid} in ${dir}: ${(error as Error).message}`);
      }
    }
    say(`attached to cgroup ${dir} (${pids.length} ${pids.length === 1 ? 'process' : 'processes'} now${last ? `; ${describeChoice(last)}` : ''}), and to every process that joins it`);
    return last;
  }

  /** Descriptors and mappings: from the first system call after this. */
  #attachResources(): void {
    if (!this.#options.resources) return;
    for (const [program, category, name] of RESOURCE_TRACEPOINTS) this.#tracer.attachTracepoint(program, category, name);
  }

  /** After each drain: new processes and execs are followed; true once the
   * process given or launched has ended (its children may live on). */
  ended(ledger: Pick<Ledger, 'forks' | 'pids'>): boolean {
    const forks = ledger.forks();
    for (const { parent, child } of forks.slice(this.#forksSeen)) this.processes.note(child, parent);
    this.#forksSeen = forks.length;
    this.#follower?.follow((pid) => this.#followExec(pid));
    // A cgroup gains processes no followed one forked: their first events tell.
    if (this.#options.cgroup !== null) for (const pid of ledger.pids()) if (!this.processes.knows(pid)) this.processes.note(pid);
    if (!this.#ended && this.pid !== null) this.#ended = this.launched ? this.launched.poll() !== null : !processAlive(this.pid);
    return this.#ended;
  }

  /** Once tracing has stopped: a process held at an exec not yet followed runs on. */
  letGo(): void {
    this.#follower?.letGo();
    const unheld = this.#follower?.unheld() ?? 0;
    if (unheld > 0) this.#options.say(`warning: ${unheld} execs came faster than leakhound could follow them; those programs ran without their own allocator probed`);
  }

  /** The launched command's exit status, once it has one. */
  exitStatus(): ExitStatus | null {
    return this.launched?.poll() ?? null;
  }

  #followExec(pid: number): void {
    this.processes.note(pid);
    const name = this.processes.command(pid)?.[0] ?? '?';
    try {
      this.#options.say(`PID ${pid} exec'd ${name}: ${describeChoice(this.#probes.probe(pid, this.processes.modules(pid)))}`);
    } catch (error) {
      this.#options.say(`warning: PID ${pid} exec'd ${name}, whose allocator cannot be probed: ${(error as Error).message}`);
    }
  }

  /** The launched command keeps its own exit status when it ends in its loader. */
  #holder(): Holder {
    return {
      hold: (pid) => (pid === this.launched?.pid ? this.launched.holdLoaded() : holdLoaded(pid) === null),
      resume: (pid) => resumeHeld(pid),
    };
  }

  /** Named for --verbose: the walk goes on through them, and their stacks are marked partial. */
  #withoutFramePointers(pid: number): string {
    const modules = this.processes.modules(pid);
    const named = [...new Set(modules.code().map((range) => range.path))].filter((path) => this.keepsFramePointers(path) === false);
    return named.length === 0 ? 'none' : named.join(', ');
  }
}
