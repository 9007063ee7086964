// What --fail-on-leak says on stderr: the verdict in one line and, when it
// failed, the stacks that count, largest first.

import type { LeakGateVerdict } from '../report/leak-gate.js';
import type { Report } from '../report/types.js';
import { countOf, humanBytes } from './format.js';
import { moreStacks, rankedBlocks } from './ranked.js';
import { printable, stackLines } from './text.js';

/** The verdict line, without leakhound's prefix. */
export function leakGateLine(verdict: LeakGateVerdict): string {
  const held = `${countOf(verdict.bytes, 'byte')} (${humanBytes(verdict.bytes)}) ${verdict.measure}`;
  const limit = `--fail-on-leak ${countOf(verdict.limit, 'byte')}`;
  return verdict.failed ? `leak gate failed: ${held}, over ${limit}` : `leak gate passed: ${held}, within ${limit}`;
}

/** The stacks over the gate, as the text report shows them (empty when it passed). */
export function renderLeakGateStacks(verdict: LeakGateVerdict, mode: Report['mode'], top: number): string {
  if (!verdict.failed) return '';
  const lines = rankedBlocks(
    verdict.stacks,
    top,
    (entry, rank) => stackLines(entry.stack, rank, mode),
    (hidden) => moreStacks(hidden, (entry) => entry.bytes, 'byte'),
  );
  return lines.length === 0 ? '' : `${lines.slice(1).map(printable).join('\n')}\n`;
}
