// Names for the few stacks shown mid-trace (metrics labels, the terminal
// view, a library's interval callback): each stack is symbolized once and
// kept, so an update costs only the stacks new to the top.
import type { StackTotal } from '../aggregate/ledger.js';
import { LeakhoundError } from '../errors.js';
import { resolveStackRequests, type StackSource } from './stacks.js';
import type { Frame } from './types.js';

/** Symbolizes stacks mid-trace; opened at the first stack named. */
export interface StackSymbols {
  resolveStacks: StackSource['resolveStacks'];
  close(): void;
}

export interface LiveStackSource {
  mode: StackSource['mode'];
  readStack: StackSource['readStack'];
  openSymbols: () => StackSymbols;
}

export class LiveStackNames {
  readonly #source: LiveStackSource;
  readonly #settled = new Map<number, Frame[]>();
  #symbols: StackSymbols | null = null;
  #closed = false;

  constructor(source: LiveStackSource) {
    this.#source = source;
  }

  /** The frames of each stack, in order. */
  frames(stacks: Pick<StackTotal, 'stackId' | 'firstPid' | 'cut'>[]): Frame[][] {
    if (this.#closed) throw new LeakhoundError('TRACE_ENDED', 'the trace has ended: its stacks are named only while it runs', 'ask for the top stacks in the interval callback');
    const missing = stacks.filter((stack) => !this.#settled.has(stack.stackId));
    const unsettled = new Map<number, Frame[]>();
    if (missing.length > 0) {
      const open = (this.#symbols ??= this.#source.openSymbols());
      const source: StackSource = { mode: this.#source.mode, readStack: this.#source.readStack, resolveStacks: (ips, pids) => open.resolveStacks(ips, pids) };
      const resolved = resolveStackRequests(source, missing.map((stack) => ({ stackId: stack.stackId, pid: stack.firstPid, cut: stack.cut })));
      // A frame not placed yet (in a library mapped since the last look at
      // the maps) is named again next time.
      missing.forEach((stack, i) => {
        const { frames } = resolved[i];
        (frames.every(placed) ? this.#settled : unsettled).set(stack.stackId, frames);
      });
    }
    return stacks.map((stack) => (this.#settled.get(stack.stackId) ?? unsettled.get(stack.stackId)) as Frame[]);
  }

  close(): void {
    this.#closed = true;
    this.#symbols?.close();
  }
}

function placed(frame: Frame): boolean {
  return frame.symbol !== null || frame.module !== null;
}
