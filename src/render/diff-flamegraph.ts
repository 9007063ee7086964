// A differential flame graph of two reports: each stack as wide as the
// larger of its two figures (so what is gone still shows), red where it grew,
// blue where it shrank, the deeper the larger a share of the frame changed.
import type { DiffReport } from '../report/diff-types.js';
import type { Report } from '../report/types.js';
import type { FlameNode } from './flame-tree.js';
import { renderFlamegraph } from './flamegraph.js';
import { signedCount } from './diff-text.js';
import { formatDuration } from './format.js';

function changeFill(node: FlameNode): string {
  const share = node.weight === 0 ? 0 : Math.max(-1, Math.min(1, node.change / node.weight));
  // Unchanged frames are near white; a frame wholly grown is full red, wholly shrunk full blue.
  const fade = Math.round(230 - 180 * Math.abs(share));
  if (share > 0) return `rgb(240,${fade},${fade})`;
  if (share < 0) return `rgb(${fade},${fade},240)`;
  return 'rgb(232,232,228)';
}

/** `after` is the later report, whose loss counters the graph warns of. */
export function renderDiffFlamegraph(diff: DiffReport, after: Report): string {
  const stacks = diff.stacks.map((stack) => ({
    stack,
    weight: Math.max(stack.before.bytes, stack.after.bytes),
    count: stack.after.allocations,
    change: stack.deltaBytes,
  }));
  const subtitle =
    `${diff.before.file} (${formatDuration(diff.before.durationMs)}) to ${diff.after.file} (${formatDuration(diff.after.durationMs)}): ` +
    `${signedCount(diff.deltaBytes, 'byte')}; red grew, blue shrank; width: the larger figure`;
  return renderFlamegraph(
    after,
    { title: 'Outstanding memory: what changed', subtitle, fill: changeFill, note: (node) => `${signedCount(node.change, 'byte')} since the first report` },
    {
      stacks,
      units: { weight: 'byte', count: 'allocation' },
      summary: signedCount(diff.deltaBytes, 'byte'),
      empty: 'no outstanding memory in either report',
    },
  );
}
