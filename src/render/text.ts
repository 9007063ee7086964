// The terminal report: what was traced, the totals, and the top stacks by
// outstanding bytes with one frame per line.

import type { ProcessReport, Report, StackReport } from '../report/types.js';
import { anyLoss, describeCounters, describeOutstanding, describeRun, quoteCommand, totalsApproximate } from './describe.js';
import { countOf, humanBytes } from './format.js';
import { stackFrameLines } from './frame-text.js';
import { growthTextLines } from './suspects-text.js';
import { oomHeaderLines } from './oom-section.js';
import { moreStacks, rankedBlocks } from './ranked.js';
import { reachabilityTextLines } from './reachability-text.js';
import { resourceTextLines } from './resource-text.js';
import { suppressionTextLines } from './suppression-text.js';

export interface TextOptions {
  /** How many stacks to list, largest first. */
  top: number;
}

/**
 * Symbols, paths and commands come from the traced program, and root reads
 * this on a terminal: control and bidi-override characters are shown escaped
 * so they cannot move the cursor, retitle the window or reorder a line.
 */
export function printable(line: string): string {
  return line.replace(/[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`;
  });
}

export function stackLines(stack: StackReport, rank: number, mode: Report['mode']): string[] {
  const cache = stack.cache === undefined ? '' : `, cache ${stack.cache}`;
  const pids = stack.pids === undefined ? '' : ` [${stack.pids.length === 1 ? 'pid' : 'pids'} ${stack.pids.join(', ')}]`;
  return [
    `#${rank}  ${countOf(stack.bytes, 'byte')} (${humanBytes(stack.bytes)}) in ${countOf(stack.allocations, 'allocation')}${cache}${pids}`,
    ...stackFrameLines(stack, mode),
  ];
}

/** `  pid 12: 1,024 bytes (1.0 KiB) in 4 allocations, ./worker, exit code 0` */
function processLine(process: ProcessReport): string {
  const parts = [`  pid ${process.pid}: ${countOf(process.outstandingBytes, 'byte')} (${humanBytes(process.outstandingBytes)}) in ${countOf(process.outstandingAllocations, 'allocation')}`];
  if (process.command !== null) parts.push(quoteCommand(process.command));
  if (process.exitCode !== null) parts.push(`exit code ${process.exitCode}`);
  return parts.join(', ');
}

export function renderText(report: Report, options: TextOptions): string {
  if (!Number.isInteger(options.top) || options.top < 0) {
    throw new RangeError(`top must be a non-negative integer, got ${options.top}`);
  }
  const { totals } = report;
  const counters = describeCounters(totals);
  const lines = [
    `leakhound: ${describeRun(report)}`,
    ...(report.oom ? oomHeaderLines(report.oom) : []),
    `${describeOutstanding(totals)}; ${countOf(totals.allocations, 'allocation')} and ${countOf(totals.frees, 'free')} seen`,
    !anyLoss(totals)
      ? counters
      : `WARNING: ${counters}${totalsApproximate(totals) ? ' (totals are approximate)' : ''}`,
  ];
  lines.push(...growthTextLines(report, options.top));
  if (report.suppressions) lines.push(...suppressionTextLines(report.suppressions));
  if (report.processes) lines.push('processes:', ...report.processes.map(processLine));

  // Array sort is stable: equal stacks keep the report's order, so output is deterministic.
  const ranked = [...report.stacks].sort((a, b) => b.bytes - a.bytes);
  lines.push(
    ...rankedBlocks(
      ranked,
      options.top,
      (stack, rank) => stackLines(stack, rank, report.mode),
      (hidden) => moreStacks(hidden, (stack) => stack.bytes, 'byte'),
    ),
  );
  if (ranked.length === 0) lines.push('', 'no outstanding allocations with a stack');
  lines.push(...resourceTextLines(report, options.top));
  lines.push(...reachabilityTextLines(report, options.top));
  return `${lines.map(printable).join('\n')}\n`;
}
