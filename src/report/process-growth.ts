// The process beside the trace: its memory at each interval, and how much of
// its growth the traced outstanding bytes explain.
import type { HistoryPoint } from '../aggregate/stack-history.js';
import type { ProcessMemoryReport } from './types.js';

/** The process's memory at one interval (target/process-memory.ts reads it). */
export interface ProcessMemorySample {
  rssBytes: number;
  anonBytes: number;
  heapBytes: number;
  cgroup: { path: string; currentBytes: number; maxBytes: number | null } | null;
}

/** tracedGrowth / processGrowth, 2 decimals; null when the process did not grow. */
export function explainedShare(traced: readonly number[], process: readonly number[]): number | null {
  if (traced.length < 2) return null;
  const grew = process[process.length - 1] - process[0];
  if (grew <= 0) return null;
  return Math.round(((traced[traced.length - 1] - traced[0]) / grew) * 100) / 100;
}

/** The section, from the points where the process could be read; undefined
 * when it never could (it had gone, or no interval ran). `scale`: the
 * sampling factor the traced bytes are scaled by. */
export function processSection(pid: number, points: readonly HistoryPoint<ProcessMemorySample | null>[], scale: number): ProcessMemoryReport | undefined {
  const read = points.filter((point): point is HistoryPoint<ProcessMemorySample> => point.extra !== null);
  if (read.length === 0) return undefined;
  const samples = read.map((point) => point.extra);
  const tracedBytes = read.map((point) => scale * point.outstandingBytes);
  const anonBytes = samples.map((sample) => sample.anonBytes);
  const last = samples[samples.length - 1].cgroup;
  return {
    pid,
    atMs: read.map((point) => Math.round(point.atMs)),
    rssBytes: samples.map((sample) => sample.rssBytes),
    anonBytes,
    heapBytes: samples.map((sample) => sample.heapBytes),
    tracedBytes,
    cgroup: last && { path: last.path, currentBytes: samples.map((sample) => sample.cgroup?.currentBytes ?? 0), maxBytes: last.maxBytes },
    explainedShare: explainedShare(tracedBytes, anonBytes),
  };
}
