// The OOM kill a report was written at: its JSON object, and the text
// report's header lines.
import type { OomReport } from '../report/types.js';
import { humanBytes } from './format.js';

export function oomJson(oom: OomReport): OomReport {
  return {
    victimPid: oom.victimPid,
    command: oom.command,
    cgroup: oom.cgroup,
    at: oom.at,
    memoryMaxBytes: oom.memoryMaxBytes,
    memoryCurrentBytes: oom.memoryCurrentBytes,
    memoryEvents: oom.memoryEvents === null ? null : { ...oom.memoryEvents },
    victim: oom.victim === null ? null : { ...oom.victim },
  };
}

/** `OOM kill: PID 42 (oom-leak) at ..., cgroup /x (memory.max 64.0 MiB, 64.0 MiB used); the report is what it held then` */
export function oomHeaderLines(oom: OomReport): string[] {
  const who = `PID ${oom.victimPid}${oom.command === null ? '' : ` (${oom.command})`}`;
  const limit = oom.memoryMaxBytes === null ? 'no limit' : `limit ${humanBytes(oom.memoryMaxBytes)}`;
  const used = oom.memoryCurrentBytes === null ? '' : `, ${humanBytes(oom.memoryCurrentBytes)} charged when read`;
  const where = oom.cgroup === null ? 'cgroup unknown (the victim was gone)' : `cgroup ${oom.cgroup} (${limit}${used})`;
  const lines = [`OOM kill: the kernel's OOM killer chose ${who} at ${oom.at}, in ${where}; this report is what was outstanding then`];
  if (oom.victim !== null) {
    const v = oom.victim;
    lines.push(`  victim: anon ${humanBytes(v.anonRssBytes)}, file ${humanBytes(v.fileRssBytes)}, shmem ${humanBytes(v.shmemRssBytes)} resident; ${humanBytes(v.totalVmBytes)} mapped; oom_score_adj ${v.oomScoreAdj}`);
  }
  return lines;
}
