// A list in the text report: the first `top` entries as numbered blocks,
// each after a blank line, then one line for the rest.
import { countOf } from './format.js';

export function rankedBlocks<T>(items: T[], top: number, block: (item: T, rank: number) => string[], rest: (hidden: T[]) => string): string[] {
  const lines: string[] = [];
  items.slice(0, top).forEach((item, i) => lines.push('', ...block(item, i + 1)));
  const hidden = items.slice(top);
  if (hidden.length > 0) lines.push('', rest(hidden));
  return lines;
}

/** `(3 more stacks with 1,024 bytes not shown)`: the rest of a list of stacks, weighed by `weight`. */
export function moreStacks<T>(hidden: T[], weight: (stack: T) => number, noun: string): string {
  return `(${countOf(hidden.length, 'more stack')} with ${countOf(hidden.reduce((sum, stack) => sum + weight(stack), 0), noun)} not shown)`;
}
