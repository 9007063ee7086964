// What the text report leads with after --interval: the stacks that grew
// steadily, and how much of the process's growth the trace explains.
import type { ProcessMemoryReport, Report, SuspectReport } from '../report/types.js';
import { countOf, formatDuration, humanBytes } from './format.js';
import { stackFrameLines } from './frame-text.js';
import { rankedBlocks } from './ranked.js';

function suspectLines(report: Report, suspect: SuspectReport, rank: number): string[] {
  const stack = report.stacks[suspect.stack];
  return [
    `S${rank}  growing ${humanBytes(suspect.growthBytesPerSecond)}/s, ${countOf(stack.bytes, 'byte')} outstanding: ${suspect.reason}`,
    ...stackFrameLines(stack, report.mode),
  ];
}

/** `anonymous memory grew 1.2 MiB over 2.8 s; the traced outstanding bytes grew 1.1 MiB: they explain 92% of it` */
function processLine(process: ProcessMemoryReport): string {
  const last = process.atMs.length - 1;
  const grew = (values: number[]) => humanBytes(values[last] - values[0]);
  const over = formatDuration(process.atMs[last] - process.atMs[0]);
  const explained =
    process.explainedShare === null ? 'it did not grow, so there is nothing to explain' : `they explain ${Math.round(process.explainedShare * 100)}% of it`;
  const cgroup = process.cgroup ? `; cgroup ${process.cgroup.path}: ${humanBytes(process.cgroup.currentBytes[last])} of ${process.cgroup.maxBytes === null ? 'no limit' : humanBytes(process.cgroup.maxBytes)}` : '';
  return `process ${process.pid}: anonymous memory grew ${grew(process.anonBytes)} over ${over} (RSS ${grew(process.rssBytes)}); the traced outstanding bytes grew ${grew(process.tracedBytes)}: ${explained}${cgroup}`;
}

/** Empty when no interval ran. */
export function growthTextLines(report: Report, top: number): string[] {
  if (!report.suspects) return [];
  const lines = ['', ...(report.process && report.process.atMs.length > 1 ? [processLine(report.process)] : [])];
  if (report.suspects.length === 0) return [...lines, 'no leak suspects: no stack grew steadily over the intervals'];
  lines.push(`leak suspects (outstanding bytes grew steadily over the intervals), fastest first:`);
  lines.push(
    ...rankedBlocks(
      report.suspects,
      top,
      (suspect, rank) => suspectLines(report, suspect, rank),
      (hidden) => `(${countOf(hidden.length, 'more suspect')} not shown)`,
    ),
  );
  return lines;
}
