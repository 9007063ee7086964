// The OOM flight recorder: when the kernel's OOM killer chooses a process
// the trace is about, note the kill and the victim's cgroup at once, and
// end the trace, so that the report is written from the ledger as it
// stands while the victim dies.
import { readFileSync } from 'node:fs';

import type { OomSink, OomVictim } from '../ingest/decode.js';
import type { NativeTracer } from '../native/binding.js';
import type { OomReport, Report } from '../report/types.js';
import { readVictimCgroup } from './oom-cgroup.js';

/** The process a pid belongs to (the kernel names a thread of it, mostly its first). */
function tgidOf(pid: number): number {
  try {
    const tgid = /^Tgid:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return tgid === undefined ? pid : Number(tgid);
  } catch {
    return pid;
  }
}

function commandOf(victim: OomVictim): string | null {
  if (victim.details) return victim.details.command;
  try {
    return readFileSync(`/proc/${victim.pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}

export class OomRecorder implements OomSink {
  #struck: OomReport | null = null;
  readonly #traced: (tgid: number) => boolean;
  readonly #say: (line: string) => void;

  /** `traced`: whether the victim's process is one the trace is about. */
  constructor(traced: (tgid: number) => boolean, say: (line: string) => void) {
    this.#traced = traced;
    this.#say = say;
  }

  /** The first kill of a traced process; null while there was none. */
  get struck(): OomReport | null {
    return this.#struck;
  }

  oomVictim(victim: OomVictim): void {
    if (this.#struck !== null) return;
    const tgid = tgidOf(victim.pid);
    if (!this.#traced(tgid)) {
      this.#say(`the OOM killer chose PID ${victim.pid}, which is not traced: tracing on`);
      return;
    }
    const cgroup = readVictimCgroup({ pid: victim.pid, tgid }, { tgid: victim.invokerTgid, memcgId: victim.invokerMemcgId });
    const details = victim.details;
    this.#struck = {
      victimPid: tgid,
      command: commandOf(victim),
      ...cgroup,
      at: new Date().toISOString(),
      victim: details && {
        totalVmBytes: details.totalVmBytes,
        anonRssBytes: details.anonRssBytes,
        fileRssBytes: details.fileRssBytes,
        shmemRssBytes: details.shmemRssBytes,
        pageTablesBytes: details.pageTablesBytes,
        oomScoreAdj: details.oomScoreAdj,
      },
    };
    this.#say(`the OOM killer chose PID ${tgid}${cgroup.cgroup === null ? '' : ` in cgroup ${cgroup.cgroup}`}: writing the report`);
  }
}

/** oom:mark_victim (bpf/oom-victim.bpf.h), in either object. A classic
 * tracepoint needs tracefs: without it the trace goes on without the
 * recorder, and says so. */
export function attachOomVictims(tracer: NativeTracer, say: (line: string) => void): boolean {
  try {
    tracer.attachTracepoint('oom_victim', 'oom', 'mark_victim');
    return true;
  } catch (error) {
    say(`warning: no report at an OOM kill: ${(error as Error).message}`);
    return false;
  }
}

/** The report, with the kill it was written at, if any. */
export function withOomKill(report: Report, recorder: OomRecorder | null): Report {
  return recorder?.struck ? { ...report, oom: recorder.struck } : report;
}
