// The terminal report: what was traced, the totals, and the top stacks by
// outstanding bytes with one frame per line.

import type { Frame, ProcessReport, Report, StackReport } from '../report/types.js';
import { anyLoss, describeCounters, describeOutstanding, describeRun, quoteCommand, totalsApproximate } from './describe.js';
import { countOf, humanBytes } from './format.js';

export interface TextOptions {
  /** How many stacks to list, largest first. */
  top: number;
}

/**
 * Symbols, paths and commands come from the traced program, and root reads
 * this on a terminal: control and bidi-override characters are shown escaped
 * so they cannot move the cursor, retitle the window or reorder a line.
 */
function printable(line: string): string {
  return line.replace(/[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`;
  });
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** `[nf_conntrack]`; names that already carry brackets keep theirs. */
function bracketed(module: string): string {
  return module.startsWith('[') ? module : `[${module}]`;
}

function kernelFrameText(frame: Frame): string {
  const location = frame.symbol ? `${frame.symbol}+${hex(frame.offset)}` : frame.address;
  return frame.module && frame.module !== '[kernel]' ? `${location} ${bracketed(frame.module)}` : location;
}

/** An inlined frame's offset is into another function, so it shows none. */
function userFrameText(frame: Frame): string {
  const inlined = frame.inlined ? ' [inlined]' : '';
  if (frame.symbol && frame.file) {
    return `${frame.symbol} (${frame.file}${frame.line === null ? '' : `:${frame.line}`})${inlined}`;
  }
  if (frame.symbol && frame.inlined) return `${frame.symbol}${frame.module ? ` (${frame.module})` : ''}${inlined}`;
  if (frame.symbol) return `${frame.symbol}+${hex(frame.offset)}${frame.module ? ` (${frame.module})` : ''}`;
  if (frame.module) return `${frame.module}+${hex(frame.offset)}`;
  return frame.address;
}

function stackLines(stack: StackReport, rank: number, mode: Report['mode']): string[] {
  const cache = stack.cache === undefined ? '' : `, cache ${stack.cache}`;
  const pids = stack.pids === undefined ? '' : ` [${stack.pids.length === 1 ? 'pid' : 'pids'} ${stack.pids.join(', ')}]`;
  const lines = [
    `#${rank}  ${countOf(stack.bytes, 'byte')} (${humanBytes(stack.bytes)}) in ${countOf(stack.allocations, 'allocation')}${cache}${pids}`,
  ];
  const frameText = mode === 'kernel' ? kernelFrameText : userFrameText;
  for (const frame of stack.frames) lines.push(`    ${frameText(frame)}`);
  if (stack.frames.length === 0) lines.push('    [no stack]');
  if (stack.truncated) lines.push('    [truncated]');
  if (stack.partial) lines.push('    [partial: through code without frame pointers, callers may be missing]');
  return lines;
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
    `${describeOutstanding(totals)}; ${countOf(totals.allocations, 'allocation')} and ${countOf(totals.frees, 'free')} seen`,
    !anyLoss(totals)
      ? counters
      : `WARNING: ${counters}${totalsApproximate(totals) ? ' (totals are approximate)' : ''}`,
  ];
  if (report.processes) lines.push('processes:', ...report.processes.map(processLine));

  // Array sort is stable: equal stacks keep the report's order, so output is deterministic.
  const ranked = [...report.stacks].sort((a, b) => b.bytes - a.bytes);
  const shown = ranked.slice(0, options.top);
  shown.forEach((stack, i) => lines.push('', ...stackLines(stack, i + 1, report.mode)));

  const hidden = ranked.slice(shown.length);
  if (hidden.length > 0) {
    const hiddenBytes = hidden.reduce((sum, stack) => sum + stack.bytes, 0);
    lines.push('', `(${countOf(hidden.length, 'more stack')} with ${countOf(hiddenBytes, 'byte')} not shown)`);
  }
  if (ranked.length === 0) lines.push('', 'no outstanding allocations with a stack');
  return `${lines.map(printable).join('\n')}\n`;
}
