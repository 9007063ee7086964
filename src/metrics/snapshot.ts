// One scrape's figures, read from a LiveSource at once so that every family
// agrees. The stack series are bounded here: the `top` largest stacks by
// outstanding bytes get a series each, and the rest are summed into one.
import type { StackTotal } from '../aggregate/ledger.js';
import type { Report } from '../report/types.js';
import type { LiveSource } from './live-source.js';

type Totals = Report['totals'];

/** Stacks with a series of their own at each scrape. */
export const TOP_STACKS = 20;

/** The label of the series that sums every stack outside the top. */
export const OTHER_STACKS_LABEL = '[other stacks]';

export interface StackSeries {
  label: string;
  bytes: number;
  allocations: number;
}

/** The report's totals of the same names, as they stand at the scrape. */
export interface MetricsSnapshot extends Pick<Totals, 'outstandingBytes' | 'outstandingAllocations' | 'allocations' | 'frees' | 'lostEvents' | 'failedStacks'> {
  openFds: number | null;
  mappedBytes: number | null;
  /** At most `top` + 1 series, largest first, the sum of the rest last. */
  stacks: StackSeries[];
}

export function takeSnapshot(source: LiveSource, top = TOP_STACKS): MetricsSnapshot {
  const scale = source.scale;
  const all = source.byStack();
  const events = source.events();
  const resources = source.resources();
  return {
    outstandingBytes: scale * sum(all, 'bytes'),
    outstandingAllocations: scale * sum(all, 'allocations'),
    allocations: scale * events.allocations,
    frees: scale * events.frees,
    ...source.losses(),
    openFds: resources.openFds,
    mappedBytes: resources.mappedBytes,
    stacks: stackSeries(source, all, top).map((series) => ({ ...series, bytes: scale * series.bytes, allocations: scale * series.allocations })),
  };
}

function stackSeries(source: LiveSource, all: StackTotal[], top: number): StackSeries[] {
  const shown = all.slice(0, top);
  const labels = source.labels(shown);
  // Two stack ids may read the same once symbolized (one site in two
  // processes): one series each label.
  const byLabel = new Map<string, StackSeries>();
  shown.forEach((stack, i) => {
    const series = byLabel.get(labels[i]) ?? { label: labels[i], bytes: 0, allocations: 0 };
    series.bytes += stack.bytes;
    series.allocations += stack.allocations;
    byLabel.set(labels[i], series);
  });
  const rest = all.slice(top);
  const other = rest.length > 0 ? [{ label: OTHER_STACKS_LABEL, bytes: sum(rest, 'bytes'), allocations: sum(rest, 'allocations') }] : [];
  return [...byLabel.values(), ...other];
}

function sum(stacks: StackTotal[], key: 'bytes' | 'allocations'): number {
  return stacks.reduce((total, stack) => total + stack[key], 0);
}
