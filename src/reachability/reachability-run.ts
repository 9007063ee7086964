// When --reachability scans, and what it hands the report: a launched
// command when it calls _exit (stopped there by bpf/exit-stop.bpf.h, then
// let go), an attached process at the trace's end (stopped around the scan
// with --pause, else running on).
import { existsSync } from 'node:fs';

import type { ExitStops } from '../ingest/decode.js';
import type { ReachabilityClasses, ReachabilityReport } from '../report/types.js';
import type { OutstandingBlock } from './blocks.js';
import { awaitStopped, whileStopped } from './freeze.js';
import { type ProcessScan, scanProcess } from './scan-process.js';

export interface ReachabilityTarget {
  pid: number;
  /** The outstanding blocks of `pid`, as the ledger knows them now. */
  blocks: () => OutstandingBlock[];
  /** Continues the process stopped at its exit (a launched command: through its handle). */
  resume: () => void;
  say: (line: string) => void;
}

const tenths = (ms: number) => Math.round(ms * 10) / 10;
/** Reading registers takes well under a millisecond a thread. */
const hundredths = (ms: number) => Math.round(ms * 100) / 100;

export class ReachabilityRun implements ExitStops {
  readonly #target: ReachabilityTarget;
  /** The exiting thread's stack pointer, once the exit probe fired. */
  #exiting: number | null = null;
  #scan: ProcessScan | null = null;
  #report: ReachabilityReport | null = null;

  constructor(target: ReachabilityTarget) {
    this.#target = target;
  }

  exitStop(tgid: number, stackPointer: number): void {
    if (tgid === this.#target.pid) this.#exiting = stackPointer;
  }

  /** After each drain: a command stopped at its exit is scanned, then let go
   * (held from when leakhound saw the probe's record). */
  scanIfExiting(): void {
    const stackPointer = this.#exiting;
    if (stackPointer === null) return;
    this.#exiting = null;
    const { pid } = this.#target;
    const from = performance.now();
    try {
      awaitStopped(pid);
      this.#record(scanProcess(pid, this.#target.blocks(), true, stackPointer), 'exit');
    } catch (error) {
      this.#target.say(`warning: no reachability scan: ${(error as Error).message}`);
    } finally {
      this.#target.resume();
    }
    if (this.#report) this.#report.pausedMs = tenths(performance.now() - from);
  }

  /** At the end of an attached trace: `drain` takes in what the process did up to the scan. */
  scanAtEnd(pause: boolean, drain: () => void): void {
    const { pid } = this.#target;
    if (!existsSync(`/proc/${pid}`)) {
      this.#target.say(`reachability: process ${pid} has ended, nothing to scan`);
      return;
    }
    const scan = () => {
      drain();
      return scanProcess(pid, this.#target.blocks(), pause);
    };
    try {
      if (pause) {
        const { result, pausedMs } = whileStopped(pid, scan);
        this.#record(result, 'end');
        (this.#report as ReachabilityReport).pausedMs = tenths(pausedMs);
      } else {
        this.#record(scan(), 'end');
      }
    } catch (error) {
      this.#target.say(`warning: no reachability scan: ${(error as Error).message}`);
    }
  }

  /** Once the trace is over: says so when a launched command was never scanned. */
  finish(launched: boolean): void {
    if (launched && this.#report === null) this.#target.say('reachability: the command ended without calling _exit (killed by a signal, or exit_group called directly): nothing was scanned');
  }

  /** The scan's summary for the report; null when none ran. */
  get report(): ReachabilityReport | null {
    return this.#report;
  }

  /** One stack's classes, by BPF stack id. */
  classesOf = (stackId: number): ReachabilityClasses | undefined => this.#scan?.byStack.get(stackId);

  #record(scan: ProcessScan, when: ReachabilityReport['when']): void {
    this.#scan = scan;
    const { totals, bytesScanned, regions, threads, threadsRunning, threadsWithoutRegisters, registersMs, scanMs } = scan;
    this.#report = {
      pid: this.#target.pid,
      when,
      ...totals,
      bytesScanned,
      regions,
      threads,
      threadsRunning,
      threadsWithoutRegisters,
      registersMs: registersMs === null ? null : hundredths(registersMs),
      scanMs: tenths(scanMs),
      pausedMs: null,
    };
  }
}
