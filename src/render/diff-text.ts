// A diff for people: the two reports, the change in all, then the stacks
// that changed most, each with its figures before and after.
import type { DiffReport, DiffStack } from '../report/diff-types.js';
import { stackFrameLines } from './frame-text.js';
import { countOf, formatDuration, groupDigits, humanBytes } from './format.js';

export interface DiffTextOptions {
  /** Stacks shown. */
  top: number;
}

/** `+1,000 bytes`, `-24 bytes`, `±0 bytes`. */
export function signedCount(n: number, noun: string): string {
  return `${n > 0 ? '+' : n < 0 ? '-' : '±'}${countOf(Math.abs(n), noun)}`;
}

function signedBytes(n: number): string {
  return `${signedCount(n, 'byte')} (${n < 0 ? '-' : '+'}${humanBytes(Math.abs(n))})`;
}

function heading(stack: DiffStack, rank: number): string {
  const { before, after } = stack;
  return (
    `#${rank}  ${stack.status}: ${signedBytes(stack.deltaBytes)}, ${signedCount(stack.deltaAllocations, 'allocation')}` +
    `  (${groupDigits(before.bytes)} -> ${groupDigits(after.bytes)} bytes, ${groupDigits(before.allocations)} -> ${groupDigits(after.allocations)} allocations)`
  );
}

export function renderDiffText(diff: DiffReport, options: DiffTextOptions): string {
  const { before, after } = diff;
  const tally = (status: DiffStack['status']) => diff.stacks.filter((stack) => stack.status === status).length;
  const lines = [
    `leakhound diff (${diff.mode} mode): ${before.file} (traced ${formatDuration(before.durationMs)}) -> ${after.file} (traced ${formatDuration(after.durationMs)})`,
    `outstanding ${groupDigits(before.outstandingBytes)} -> ${groupDigits(after.outstandingBytes)} bytes: ${signedBytes(diff.deltaBytes)}; ` +
      `${groupDigits(before.outstandingAllocations)} -> ${groupDigits(after.outstandingAllocations)} allocations: ${signedCount(diff.deltaAllocations, 'allocation')}`,
    `stacks: ${tally('grown')} grown, ${tally('new')} new, ${tally('shrunk')} shrunk, ${tally('gone')} gone, ${tally('unchanged')} unchanged`,
  ];
  const changed = diff.stacks.filter((stack) => stack.status !== 'unchanged');
  for (const [i, stack] of changed.slice(0, options.top).entries()) {
    lines.push('', heading(stack, i + 1), ...stackFrameLines(stack, diff.mode));
  }
  if (changed.length > options.top) lines.push('', `... ${countOf(changed.length - options.top, 'more changed stack')} (--top N shows more)`);
  return `${lines.join('\n')}\n`;
}
