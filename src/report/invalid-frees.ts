// The invalid frees section: double frees with both stacks, and frees of
// pointers the allocator never returned.
import type { Ledger } from '../aggregate/ledger.js';
import type { InvalidFree } from '../aggregate/free-check.js';
import { resolveStackRequests, type StackRequest, type StackSource } from './stacks.js';
import { inLibcOrLoader } from './system-objects.js';
import type { InvalidFreeReport, Report } from './types.js';

export interface InvalidFreeInput extends StackSource {
  ledger: Ledger;
}

function freeStack(free: InvalidFree, stackId: number): StackRequest {
  return { stackId, pid: free.tgid, cut: false, fromCaller: true };
}

/**
 * Absent when frees were not checked. A free called from inside the C
 * library or the loader is their own bookkeeping, not the program's error:
 * at a thread's end glibc frees its thread cache (a block malloc never
 * handed out) and hands the blocks cached in it back through free, blocks
 * the program had freed already. (A program's own second fclose of one FILE
 * is left out with them.)
 */
export function invalidFreeSection(input: InvalidFreeInput): Pick<Report, 'invalidFrees' | 'invalidFreesOmitted'> {
  const check = input.ledger.freeCheck;
  if (check === null) return {};
  const frees = check.invalid;
  const withPrevious = frees.filter((free) => free.previousStackId !== null);
  const resolved = resolveStackRequests(input, [
    ...frees.map((free) => freeStack(free, free.stackId)),
    ...withPrevious.map((free) => freeStack(free, free.previousStackId!)),
  ]);
  const previous = new Map(withPrevious.map((free, i) => [free, resolved[frees.length + i].frames]));
  const shown = frees
    .map((free, i) => ({ free, frames: resolved[i].frames }))
    .filter(({ frames }) => !inLibcOrLoader(frames[0]));
  return {
    invalidFrees: shown.map(({ free, frames }): InvalidFreeReport => {
      const previousFrames = previous.get(free);
      return {
        kind: free.kind,
        address: `0x${free.addr.toString(16)}`,
        frames,
        previousFree: previousFrames === undefined ? null : { frames: previousFrames },
      };
    }),
    invalidFreesOmitted: check.omitted + shown.reduce((sum, { free }) => sum + free.repeats, 0),
  };
}
