// An interval's snapshot as a live consumer reads it: the pump's figures,
// and its largest stacks named only when asked.
import type { StackTotal } from '../aggregate/ledger.js';
import type { LiveStackNames } from '../report/live-stack-names.js';
import type { Frame } from '../report/types.js';
import type { IntervalSnapshot } from './pump.js';

/** One stack of the top, named. */
export interface LiveStack {
  stackId: number;
  bytes: number;
  allocations: number;
  /** Innermost first, as in the report. */
  frames: Frame[];
}

/** An interval's figures, and its largest stacks named on request. */
export interface LiveSnapshot extends IntervalSnapshot {
  /** Distinct stacks holding memory now. */
  stackCount(): number;
  /** The `n` stacks holding the most bytes, largest first; only these are symbolized. */
  topStacks(n: number): LiveStack[];
}

export function liveSnapshot(snapshot: IntervalSnapshot, names: LiveStackNames): LiveSnapshot {
  let all: StackTotal[] | null = null;
  const stacks = () => (all ??= snapshot.ledger.byStack());
  return {
    ...snapshot,
    stackCount: () => stacks().length,
    topStacks: (n) => {
      const top = stacks().slice(0, Math.max(0, n));
      const frames = names.frames(top);
      return top.map((stack, i) => ({ stackId: stack.stackId, bytes: stack.bytes, allocations: stack.allocations, frames: frames[i] }));
    },
  };
}
