// Folded stacks, the line format flamegraph.pl, inferno and speedscope read:
// `root;caller;leaf 24000`, one line per distinct stack, counted in bytes
// (or descriptors).

import type { Report } from '../report/types.js';
import { heapStacks } from './graphs.js';
import { stackPath, type PathFrame, type WeightedStack } from './stack-path.js';

/** `;` separates frames and a newline ends the record; other control characters would corrupt terminals and diffs. */
export function foldedName(frame: PathFrame): string {
  const name = frame.name.replace(/[;\x00-\x1f\x7f]/g, '_');
  // FlameGraph's annotations for kernel and inlined frames (its palettes pick them up).
  if (frame.kind === 'kernel') return `${name}_[k]`;
  return frame.kind === 'inlined' ? `${name}_[i]` : name;
}

/** The report's heap stacks, or `stacks` of it. */
export function renderFolded(report: Report, stacks: WeightedStack[] = heapStacks(report)): string {
  const weightByStack = new Map<string, number>();
  for (const { stack, weight } of stacks) {
    const key = stackPath(stack, report.mode).map(foldedName).join(';');
    weightByStack.set(key, (weightByStack.get(key) ?? 0) + weight);
  }
  // Sorted so two runs diff line by line; zero-weight stacks would draw nothing.
  return [...weightByStack]
    .filter(([, weight]) => weight > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, weight]) => `${key} ${weight}\n`)
    .join('');
}
