// Folded stacks, the line format flamegraph.pl, inferno and speedscope read:
// `root;caller;leaf 24000`, one line per distinct stack, counted in bytes.

import type { Report } from '../report/types.js';
import { stackPath, type PathFrame } from './stack-path.js';

/** `;` separates frames and a newline ends the record; other control characters would corrupt terminals and diffs. */
function foldedName(frame: PathFrame): string {
  const name = frame.name.replace(/[;\x00-\x1f\x7f]/g, '_');
  // FlameGraph's annotations for kernel and inlined frames (its palettes pick them up).
  if (frame.kind === 'kernel') return `${name}_[k]`;
  return frame.kind === 'inlined' ? `${name}_[i]` : name;
}

export function renderFolded(report: Report): string {
  const bytesByStack = new Map<string, number>();
  for (const stack of report.stacks) {
    const key = stackPath(stack, report.mode).map(foldedName).join(';');
    bytesByStack.set(key, (bytesByStack.get(key) ?? 0) + stack.bytes);
  }
  // Sorted so two runs diff line by line; zero-byte stacks would draw nothing.
  return [...bytesByStack]
    .filter(([, bytes]) => bytes > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, bytes]) => `${key} ${bytes}\n`)
    .join('');
}
