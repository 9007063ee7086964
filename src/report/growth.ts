// What the intervals add to a report: each stack's history, the suspects
// ranked from it, and the target process's memory beside the trace.
import type { StackHistory } from '../aggregate/stack-history.js';
import { type ProcessMemorySample, processSection } from './process-growth.js';
import { rankSuspects } from './suspects.js';
import type { Report, StackHistoryReport } from './types.js';

export interface GrowthInput {
  history: StackHistory<ProcessMemorySample | null>;
  /** The single target whose memory was sampled (null: none was). */
  pid: number | null;
}

/** The points a stack was followed at, its bytes scaled by `scale`. */
function historyOf(growth: GrowthInput, stackId: number, scale: number): StackHistoryReport | undefined {
  const series = growth.history.series(stackId);
  if (!series) return undefined;
  const atMs: number[] = [];
  const bytes: number[] = [];
  series.forEach((value, i) => {
    if (value === null) return;
    atMs.push(Math.round(growth.history.points[i].atMs));
    bytes.push(scale * value);
  });
  return { atMs, bytes };
}

/** The report with its stacks' histories, its suspects and its process section;
 * `stackIds[i]` is the BPF stack id of `report.stacks[i]`. */
export function withGrowth(report: Report, stackIds: readonly number[], growth: GrowthInput | undefined): Report {
  if (!growth || growth.history.points.length === 0) return report;
  const scale = report.totals.sampleEvery ?? 1;
  const stacks = report.stacks.map((stack, i) => {
    const history = historyOf(growth, stackIds[i], scale);
    return history ? { ...stack, history } : stack;
  });
  const process = growth.pid === null ? undefined : processSection(growth.pid, growth.history.points, scale);
  return { ...report, stacks, suspects: rankSuspects(stacks), ...(process ? { process } : {}) };
}
