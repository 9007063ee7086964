// References -> leak classes, as valgrind's memcheck and LeakSanitizer name
// them. Marking starts from the roots (memory that is no block) and goes on
// through the blocks it reaches:
// - a start pointer from a root or a reachable block makes a block
//   reachable;
// - any other reference (an interior pointer, or one from a block only
//   possibly reached) makes it possibly lost, unless it is reachable;
// then, of the blocks nothing reached, those pointed to by another such
// block (start or interior) are indirectly lost, and the rest definitely
// lost.
import { ROOT } from './scan.js';

export const LeakClass = {
  DefinitelyLost: 0,
  IndirectlyLost: 1,
  PossiblyLost: 2,
  StillReachable: 3,
} as const;
export type LeakClass = (typeof LeakClass)[keyof typeof LeakClass];

/** The references of a scan, grouped by the block they lie in. */
export class ReferenceGraph {
  readonly #roots: number[] = [];
  readonly #out: number[][];

  constructor(readonly blockCount: number) {
    this.#out = Array.from({ length: blockCount }, () => []);
  }

  /** Encoded as 2 * to + interior, so one array holds both. */
  reference(from: number, to: number, interior: boolean): void {
    (from === ROOT ? this.#roots : this.#out[from]).push(2 * to + (interior ? 1 : 0));
  }

  roots(): readonly number[] {
    return this.#roots;
  }

  from(block: number): readonly number[] {
    return this.#out[block];
  }
}

const UNREACHED = -1;

export function classify(graph: ReferenceGraph): Uint8Array {
  const state = new Int8Array(graph.blockCount).fill(UNREACHED);
  const pending: number[] = [];
  const reach = (ref: number, fromDefinite: boolean) => {
    const to = ref >>> 1;
    const start = (ref & 1) === 0;
    if (start && fromDefinite && state[to] !== LeakClass.StillReachable) {
      state[to] = LeakClass.StillReachable;
      pending.push(to);
    } else if (state[to] === UNREACHED) {
      state[to] = LeakClass.PossiblyLost;
      pending.push(to);
    }
  };
  for (const ref of graph.roots()) reach(ref, true);
  // A block is scanned again when it rises from possibly lost to reachable.
  while (pending.length > 0) {
    const block = pending.pop() as number;
    const definite = state[block] === LeakClass.StillReachable;
    for (const ref of graph.from(block)) reach(ref, definite);
  }
  // Lost blocks in address order; each still unreached leads, and what it
  // reaches among the unreached (an earlier leader too) is indirectly lost.
  for (let leader = 0; leader < graph.blockCount; leader++) {
    if (state[leader] !== UNREACHED) continue;
    state[leader] = LeakClass.DefinitelyLost;
    const stack = [leader];
    while (stack.length > 0) {
      for (const ref of graph.from(stack.pop() as number)) {
        const to = ref >>> 1;
        if (to === leader || (state[to] !== UNREACHED && state[to] !== LeakClass.DefinitelyLost)) continue;
        state[to] = LeakClass.IndirectlyLost;
        stack.push(to);
      }
    }
  }
  return Uint8Array.from(state);
}
