// The live view on a terminal: at each --interval the view is redrawn in
// place over its last drawing (cursor up, erase), leakhound's own lines pass
// above it, and it is erased before the report. It goes to stderr, where
// leakhound's lines go: stdout is the report's and a launched command's.
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

export interface LiveTerminal {
  /** leakhound's lines while the view is up: written above it. */
  say(line: string): void;
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
  return { options: { say: view.say, onInterval: view.update, intervalLines: false }, end: view.end };
}

/** The view, where stderr is a terminal that can move its cursor; else null (the trace says plain summary lines). */
export function openLiveTerminal(options: LiveTerminalOptions): LiveTerminal | null {
  if (!options.live || !process.stderr.isTTY || process.env.TERM === 'dumb') return null;
  // no-color.org: any non-empty value turns colour off.
  const color = !process.env.NO_COLOR;
  let drawn: string[] = [];
  let before: LiveViewFrame | null = null;
  let broken = false;
  const write = (text: string) => {
    if (broken) return;
    try {
      writeAllSync(STDERR, text);
    } catch {
      // A terminal gone (EIO after a hangup): the trace goes on to its report.
      broken = true;
    }
  };
  const up = () => (drawn.length > 0 ? `\x1b[${drawn.length}A\r\x1b[J` : '');
  const draw = (lines: string[]) => {
    write(up() + lines.map((line) => `${line}\n`).join(''));
    drawn = lines;
  };
  return {
    say: (line) => {
      const lines = drawn;
      write(up());
      drawn = [];
      say(line);
      draw(lines);
    },
    update: (snapshot) => {
      // The view stays shorter than the screen: cursor-up stops at its top row.
      // A terminal that gives no size (0: a pty nobody sized) is taken as 80x24.
      const rows = process.stderr.rows || 24;
      const shown = Math.max(0, Math.min(options.top, rows - CHROME_LINES - 1));
      const now = viewFrame(snapshot, shown, options.mode);
      draw(renderLiveView(now, before, { width: process.stderr.columns || 80, color }));
      before = now;
    },
    end: () => {
      write(up());
      drawn = [];
    },
  };
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
