// The live terminal view drawn at each --interval: elapsed time, totals and
// their rates, lost events, and the top stacks by outstanding bytes with
// their growth since the last update. Pure: figures and a width in, lines
// out; the terminal handling (cursor movement, clearing) is src/cli/live-terminal.ts.
import type { Frame, Report } from '../report/types.js';
import { countOf, formatDuration, groupDigits, humanBytes } from './format.js';
import { printable } from './text.js';

/** One stack of the top: its figures and the frame that names it. */
export interface LiveViewStack {
  stackId: number;
  bytes: number;
  allocations: number;
  /** The allocation site (undefined: no frame could be read). */
  site: Frame | undefined;
}

/** The trace's figures at one update: the report's totals of the same names, as they stand. */
export interface LiveViewFrame extends Pick<Report['totals'], 'outstandingBytes' | 'outstandingAllocations' | 'allocations' | 'frees' | 'lostEvents'> {
  elapsedMs: number;
  /** Distinct stacks holding memory, shown or not. */
  stackCount: number;
  /** Largest first. */
  stacks: LiveViewStack[];
}

export interface LiveViewOptions {
  /** Columns: every line is cut to fit, since a wrapped line would break the redraw's line count. */
  width: number;
  color: boolean;
}

type Style = 'bold' | 'dim' | 'red' | 'green' | 'yellow';

const SGR: Record<Style, string> = { bold: '1', dim: '2', red: '31', green: '32', yellow: '33' };

interface Cell {
  text: string;
  style?: Style;
}

export function renderLiveView(now: LiveViewFrame, before: LiveViewFrame | null, options: LiveViewOptions): string[] {
  const seconds = before === null ? null : (now.elapsedMs - before.elapsedMs) / 1000;
  const rate = (n: number, was: number | undefined) => (seconds === null || seconds <= 0 || was === undefined ? null : (n - was) / seconds);
  const previous = new Map(before?.stacks.map((stack) => [stack.stackId, stack]) ?? []);
  const bytesRate = rate(now.outstandingBytes, before?.outstandingBytes);
  const lines: Cell[][] = [
    [
      { text: `leakhound  ${formatDuration(now.elapsedMs)}`, style: 'bold' },
      { text: `  ${humanBytes(now.outstandingBytes)} outstanding (` },
      bytesRate === null ? { text: '-' } : rateCell(bytesRate, perSecondBytes),
      { text: `) in ${countOf(now.outstandingAllocations, 'allocation')}` },
    ],
    [
      { text: `${groupDigits(now.allocations)} allocations (${perSecondCount(rate(now.allocations, before?.allocations))}), ${groupDigits(now.frees)} frees (${perSecondCount(rate(now.frees, before?.frees))}), ` },
      { text: `${countOf(now.lostEvents, 'event')} lost`, ...(now.lostEvents > 0 ? { style: 'yellow' as const } : {}) },
    ],
    [{ text: `${'BYTES'.padStart(12)}  ${'ALLOCS'.padStart(9)}  ${'GROWTH'.padStart(12)}  FUNCTION (MODULE)`, style: 'dim' }],
    ...now.stacks.map((stack): Cell[] => {
      const was = previous.get(stack.stackId);
      return [
        { text: `${humanBytes(stack.bytes).padStart(12)}  ${groupDigits(stack.allocations).padStart(9)}  ` },
        was === undefined && before !== null ? { text: 'new'.padStart(12), style: 'red' } : padded(rateCell(rate(stack.bytes, was?.bytes), perSecondBytes), 12),
        { text: `  ${siteName(stack.site)}` },
      ];
    }),
  ];
  const hidden = now.stackCount - now.stacks.length;
  if (hidden > 0) lines.push([{ text: `and ${countOf(hidden, 'more stack')}`, style: 'dim' }]);
  return lines.map((cells) => fitted(cells, options));
}

/** `leak_request_context (growth)`: module by file name only. */
function siteName(site: Frame | undefined): string {
  if (site === undefined) return '[no stack]';
  const name = site.symbol ?? site.address;
  const module = site.module === null ? '' : ` (${site.module.slice(site.module.lastIndexOf('/') + 1)})`;
  return printable(name + module);
}

/** Growth reads red, shrinking green: what a leak hunter looks for. */
function rateCell(value: number | null, format: (n: number) => string): Cell {
  if (value === null) return { text: '' };
  const text = format(value);
  return value > 0 ? { text, style: 'red' } : value < 0 ? { text, style: 'green' } : { text };
}

function padded(cell: Cell, width: number): Cell {
  return { ...cell, text: cell.text.padStart(width) };
}

function perSecondBytes(n: number): string {
  return `${n > 0 ? '+' : ''}${humanBytes(Math.round(n))}/s`;
}

function perSecondCount(n: number | null): string {
  return n === null ? '-' : `${groupDigits(Math.round(n))}/s`;
}

/** The cells cut to `width - 1` characters (the last column would wrap on some terminals), styled after the cut. */
function fitted(cells: Cell[], options: LiveViewOptions): string {
  let room = Math.max(0, options.width - 1);
  let line = '';
  for (const cell of cells) {
    const text = cell.text.slice(0, room);
    room -= text.length;
    line += options.color && cell.style && text !== '' ? `\x1b[${SGR[cell.style]}m${text}\x1b[0m` : text;
  }
  return line;
}
