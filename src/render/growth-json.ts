// The JSON of what the intervals add (history, suspects, the process), field
// by field in the schema's order, as render/json.ts does for the rest.
import type { ProcessMemoryReport, StackHistoryReport, SuspectReport } from '../report/types.js';

export function historyJson(history: StackHistoryReport): StackHistoryReport {
  return { atMs: [...history.atMs], bytes: [...history.bytes] };
}

export function suspectJson(suspect: SuspectReport): SuspectReport {
  return { stack: suspect.stack, reason: suspect.reason, growthBytesPerSecond: suspect.growthBytesPerSecond, rSquared: suspect.rSquared, grewShare: suspect.grewShare };
}

export function processMemoryJson(process: ProcessMemoryReport): ProcessMemoryReport {
  const { cgroup } = process;
  return {
    pid: process.pid,
    atMs: [...process.atMs],
    rssBytes: [...process.rssBytes],
    anonBytes: [...process.anonBytes],
    heapBytes: [...process.heapBytes],
    tracedBytes: [...process.tracedBytes],
    cgroup: cgroup && { path: cgroup.path, currentBytes: [...cgroup.currentBytes], maxBytes: cgroup.maxBytes },
    explainedShare: process.explainedShare,
  };
}
