// Long-running targets and a leakhound started beside them: launched under
// it, or attached to with --pid once they run.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

import type { Report } from '../../src/report/types.js';
import { readReport } from './loop.js';
import { cliPath, runnerPath } from './paths.js';
import { eachLine, finished, lineMatching, type Finished } from './proc.js';

export interface Traced {
  leakhound: ChildProcess;
  /** The traced process. */
  pid: number;
  /** The target's stdin and stdout (in launch mode, through leakhound's). */
  stdin: Writable;
  stdout: Readable;
  /** Resolves with leakhound's report once it has exited. */
  done: Promise<{ finished: Finished; report: Report | null }>;
}

const ATTACHED = /^leakhound: attached to PID (\d+)/;

/** leakhound's CLI, or with --floor the benchmarks' runner in floor mode. */
function start(args: string[], json: string, floor: boolean): { leakhound: ChildProcess; attached: Promise<number>; done: Traced['done'] } {
  const entry = floor ? [runnerPath, '--floor'] : [cliPath, 'trace'];
  // A launched command inherits leakhound's stdin: a pipe, so it can be fed.
  const leakhound = spawn(process.execPath, [...entry, '--json', json, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const attached = lineMatching(leakhound.stderr!, ATTACHED, 60_000).then((match) => Number(match[1]));
  const done = finished(leakhound, 600_000).then((result) => ({ finished: result, report: readReport(json) }));
  // A target that never comes up must not leave the promise unobserved.
  done.catch(() => undefined);
  return { leakhound, attached, done };
}

/** `leakhound trace -- COMMAND`; resolves once its probes are in place. */
export async function launchTraced(command: string[], json: string, options: { floor?: boolean } = {}): Promise<Traced> {
  const { leakhound, attached, done } = start(['--', ...command], json, options.floor ?? false);
  const pid = await attached;
  return { leakhound, pid, stdin: leakhound.stdin!, stdout: leakhound.stdout!, done };
}

/** `leakhound trace --pid PID`; resolves once its probes are in place. */
export async function attachTraced(target: ChildProcess, json: string): Promise<Traced> {
  const { leakhound, attached, done } = start(['--pid', String(target.pid)], json, false);
  await attached;
  return { leakhound, pid: target.pid as number, stdin: target.stdin!, stdout: target.stdout!, done };
}

/** Starts a target directly, stdin and stdout piped, stderr dropped. */
export function startBare(command: string[]): ChildProcess {
  return spawn(command[0], command.slice(1), { stdio: ['pipe', 'pipe', 'ignore'] });
}

/** Wall and CPU time per unit of work: ns per pair over one window of the
 * malloc loop, ms per request of the sqlite3 server. */
export interface Timing {
  wall: number;
  cpu: number;
}

/**
 * The JSON lines malloc-loop -W prints, one per window, kept in arrival
 * order; `after(n, count)` waits for `count` windows past the first `n`.
 */
export class Windows {
  private readonly values: Timing[] = [];
  private readonly waiters: (() => void)[] = [];

  constructor(stream: Readable) {
    eachLine(stream, (line) => {
      if (!line.startsWith('{"window"')) return;
      const parsed = JSON.parse(line) as { ns_per_pair: number; cpu_ns_per_pair: number };
      this.values.push({ wall: parsed.ns_per_pair, cpu: parsed.cpu_ns_per_pair });
      this.waiters.splice(0).forEach((wake) => wake());
    });
  }

  get seen(): number {
    return this.values.length;
  }

  async after(skip: number, count: number, timeoutMs = 120_000): Promise<Timing[]> {
    const deadline = performance.now() + timeoutMs;
    while (this.values.length < skip + count) {
      if (performance.now() > deadline) throw new Error(`only ${this.values.length} windows within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 1000);
      });
    }
    return this.values.slice(skip, skip + count);
  }
}
