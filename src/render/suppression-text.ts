// The text report's account of --suppressions: what was hidden, and by which rule.

import type { SuppressionReport } from '../report/types.js';
import { countOf, humanBytes } from './format.js';

function hiddenText(figures: Pick<SuppressionReport, 'stacks' | 'bytes' | 'allocations'>): string {
  return `${countOf(figures.bytes, 'byte')} (${humanBytes(figures.bytes)}) in ${countOf(figures.allocations, 'allocation')}, ${countOf(figures.stacks, 'stack')}`;
}

/** A total line, then one line per rule (those that hid nothing too: a stale rule shows). */
export function suppressionTextLines(suppressions: SuppressionReport[]): string[] {
  const total = suppressions.reduce((sum, s) => ({ stacks: sum.stacks + s.stacks, bytes: sum.bytes + s.bytes, allocations: sum.allocations + s.allocations }), { stacks: 0, bytes: 0, allocations: 0 });
  return [
    `suppressed ${hiddenText(total)} (not in the figures above or below):`,
    ...suppressions.map((s) => `  ${s.pattern} (${s.file}:${s.line}): ${s.stacks === 0 ? 'nothing' : hiddenText(s)}`),
  ];
}
