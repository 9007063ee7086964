// The live view on a terminal: the bottom lines are kept for it (a scroll
// region), and at each --interval it is redrawn there in place; leakhound's
// own lines and a launched command's output scroll above it, untouched. It is
// erased, and the whole screen given back, before the report. It goes to
// stderr, where leakhound's lines go: stdout is the report's and a launched
// command's.
import type { Argv } from 'yargs';

import { writeAllSync } from '../output/descriptor.js';
import { callerFrame } from '../metrics/stack-label.js';
import { type LiveViewFrame, renderLiveView } from '../render/live-view.js';
import type { Report } from '../report/types.js';
import type { LiveSnapshot } from '../trace/live-snapshot.js';
import type { CommonOptions } from './options.js';
import { say } from './say.js';

const STDERR = 2;
/** Lines of the view that are not stacks: the two of figures, the heading, the "and N more" line. */
const CHROME_LINES = 4;

/** leakhound's own lines need nothing of it: the cursor stays in the rows that scroll, above the view. */
export interface LiveTerminal {
  /** The trace's interval callback. */
  update(snapshot: LiveSnapshot): void;
  /** Erases the view, before the report is written. */
  end(): void;
}

export interface LiveTerminalOptions {
  mode: Report['mode'];
  /** Stacks shown at most (--top); fewer on a short terminal. */
  top: number;
  /** --no-live: the plain summary lines even on a terminal. */
  live: boolean;
}

export function withLiveOption<T>(yargs: Argv<T>) {
  return yargs.option('live', { type: 'boolean', default: true, describe: 'with --interval on a terminal, redraw the top stacks in place on stderr (--no-live: plain summary lines)' });
}

/** What the trace is given to talk to the user while tracing, and what erases the view before the report. */
export interface LiveTracing {
  options: { say: (line: string) => void; onInterval?: (snapshot: LiveSnapshot) => void; intervalLines: boolean };
  end(): void;
}

/** The view where --interval is given and stderr is a terminal; else the plain lines of today. */
export function liveTracing(argv: Record<string, unknown>, common: CommonOptions, mode: Report['mode']): LiveTracing {
  const view = common.intervalMs === null ? null : openLiveTerminal({ mode, top: common.top, live: argv.live !== false });
  if (view === null) return { options: { say, intervalLines: true }, end: () => {} };
  return { options: { say, onInterval: view.update, intervalLines: false }, end: view.end };
}

/** The view, where stderr is a terminal that can move its cursor; else null (the trace says plain summary lines). */
export function openLiveTerminal(options: LiveTerminalOptions): LiveTerminal | null {
  if (!options.live || !process.stderr.isTTY || process.env.TERM === 'dumb') return null;
  // no-color.org: any non-empty value turns colour off.
  const color = !process.env.NO_COLOR;
  let region: Region | null = null;
  let before: LiveViewFrame | null = null;
  let broken = false;
  const write = (text: string) => {
    if (broken) return;
    try {
      // One write: the terminal takes it whole, never cut by a launched command's own output.
      writeAllSync(STDERR, text);
    } catch {
      // A terminal gone (EIO after a hangup): the trace goes on to its report.
      broken = true;
    }
  };
  const end = () => {
    if (region) write(released(region));
    region = null;
  };
  // Even if leakhound fails: a terminal left with a scroll region is unusable.
  process.once('exit', end);
  return {
    update: (snapshot) => {
      // A terminal that gives no size (0: a pty nobody sized) is taken as 80x24.
      const rows = process.stderr.rows || 24;
      // Half the screen at most, so that what scrolls above stays readable.
      const shown = Math.max(0, Math.min(options.top, Math.floor(rows / 2) - CHROME_LINES));
      const wanted = { rows, height: shown + CHROME_LINES };
      let setup = '';
      if (region?.rows !== wanted.rows || region.height !== wanted.height) {
        setup = (region ? released(region) : '') + reserved(wanted);
        region = wanted;
      }
      const now = viewFrame(snapshot, shown, options.mode);
      write(setup + drawn(region, renderLiveView(now, before, { width: process.stderr.columns || 80, color })));
      before = now;
    },
    end,
  };
}

/** The bottom `height` of `rows` lines hold the view; the rest scrolls as before. */
interface Region {
  rows: number;
  height: number;
}

/** Makes room at the bottom (scrolling what is there up, the cursor kept on its
 * text), then limits scrolling to the lines above it (DECSTBM, which homes the
 * cursor: saved and restored around it). */
function reserved({ rows, height }: Region): string {
  return `${'\n'.repeat(height)}\x1b[${height}A\x1b7\x1b[1;${rows - height}r\x1b8`;
}

/** The view's lines at their rows, each erased first; the cursor back where the text goes on. */
function drawn(region: Region, lines: string[]): string {
  return `\x1b7${atRows(region, lines)}\x1b8`;
}

/** Scrolling over the whole screen again (which homes the cursor), and the view's lines erased. */
function released(region: Region): string {
  return `\x1b7\x1b[r${atRows(region, [])}\x1b8`;
}

function atRows({ rows, height }: Region, lines: string[]): string {
  return Array.from({ length: height }, (_, i) => `\x1b[${rows - height + 1 + i};1H\x1b[2K${lines[i] ?? ''}`).join('');
}

function viewFrame(snapshot: LiveSnapshot, shown: number, mode: Report['mode']): LiveViewFrame {
  return {
    elapsedMs: snapshot.elapsedMs,
    outstandingBytes: snapshot.outstandingBytes,
    outstandingAllocations: snapshot.outstandingAllocations,
    allocations: snapshot.allocations,
    frees: snapshot.frees,
    lostEvents: snapshot.lostEvents,
    stackCount: snapshot.stackCount(),
    stacks: snapshot.topStacks(shown).map((stack) => ({ stackId: stack.stackId, bytes: stack.bytes, allocations: stack.allocations, site: callerFrame(stack.frames, mode) })),
  };
}
