// A diff as folded stacks with two counts, `root;caller;leaf 1000 3000`
// (bytes before, bytes after): the form FlameGraph's difffolded.pl writes
// and flamegraph.pl draws as a differential graph.
import type { DiffReport } from '../report/diff-types.js';
import { foldedName } from './folded.js';
import { stackPath } from './stack-path.js';

export function renderDiffFolded(diff: DiffReport): string {
  const byPath = new Map<string, [number, number]>();
  for (const stack of diff.stacks) {
    const key = stackPath(stack, diff.mode).map(foldedName).join(';');
    const [before, after] = byPath.get(key) ?? [0, 0];
    byPath.set(key, [before + stack.before.bytes, after + stack.after.bytes]);
  }
  // Sorted like leaks.folded, so two diffs compare line by line.
  return [...byPath]
    .filter(([, [before, after]]) => before > 0 || after > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, [before, after]]) => `${key} ${before} ${after}\n`)
    .join('');
}
