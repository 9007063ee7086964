// One-line descriptions of a run, shared by the text header and the flame
// graph's default subtitle so both say the same thing.

import type { Report, Totals } from '../report/types.js';
import { countOf, formatDuration, groupDigits, humanBytes } from './format.js';

/** Shell-like, so a user can see where one argument ends: `./leaky 'two words'`. */
export function quoteCommand(argv: string[]): string {
  return argv.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`)).join(' ');
}

/** `user mode, pid 4242, ./leaky --count 10 (exit code 0, CPU 1.3 s), traced 12.5 s` */
export function describeRun(report: Report): string {
  const { pid, command, exitCode, cpuMs } = report.target;
  const parts = [`${report.mode} mode`];
  if (pid !== null) parts.push(`pid ${pid}`);
  const cpu = cpuMs === null ? '' : `, CPU ${formatDuration(cpuMs)}`;
  if (command !== null) parts.push(quoteCommand(command) + (exitCode === null ? '' : ` (exit code ${exitCode}${cpu})`));
  if (pid === null && command === null) parts.push(report.mode === 'kernel' ? 'whole system' : 'unknown target');
  parts.push(`traced ${formatDuration(report.durationMs)}`);
  return parts.join(', ');
}

/** `24,000 bytes (23.4 KiB) outstanding in 1,000 allocations` */
export function describeOutstanding(totals: Totals): string {
  return `${countOf(totals.outstandingBytes, 'byte')} (${humanBytes(totals.outstandingBytes)}) outstanding in ${countOf(totals.outstandingAllocations, 'allocation')}`;
}

/** The counters that say how complete the data is, always all six so reports compare line by line. */
export function describeCounters(totals: Totals): string {
  return [
    `lost events ${groupDigits(totals.lostEvents)}`,
    `failed stacks ${groupDigits(totals.failedStacks)}`,
    `table full ${groupDigits(totals.tableFull)}`,
    `truncated stacks ${groupDigits(totals.truncatedStacks)}`,
    `cut stacks ${groupDigits(totals.cutStacks)}`,
    `partial stacks ${groupDigits(totals.partialStacks)}`,
    ...(totals.sampleEvery === undefined ? [] : [`sampled 1 in ${groupDigits(totals.sampleEvery)} (figures scaled)`]),
  ].join(', ');
}

/** Lost events and a full table drop allocations or frees outright, so the totals are not exact. */
export function totalsApproximate(totals: Totals): boolean {
  return totals.lostEvents > 0 || totals.tableFull > 0;
}

/** Anything that leaves the report less than complete, which deserves a warning line. */
export function anyLoss(totals: Totals): boolean {
  return totalsApproximate(totals) || totals.failedStacks > 0 || totals.truncatedStacks > 0;
}
