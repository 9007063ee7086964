// What a scrape reads: the trace's own ledgers as they stand, and its stack
// map for the labels. Nothing runs between scrapes.
import type { Ledger, StackTotal } from '../aggregate/ledger.js';
import type { ResourceLedger } from '../aggregate/resource-ledger.js';
import { type NativeTracer, readCounters } from '../native/binding.js';
import { lostEvents } from '../native/layout.js';
import { LiveStackNames, type StackSymbols } from '../report/live-stack-names.js';
import type { StackSource } from '../report/stacks.js';
import { stackLabel } from './stack-label.js';

/** The figures a registry reads at each scrape (a hand-built one in the unit tests). */
export interface LiveSource {
  /** Outstanding blocks per stack, largest first. */
  byStack(): StackTotal[];
  events(): { allocations: number; frees: number };
  losses(): { lostEvents: number; failedStacks: number };
  /** Descriptors open and bytes mapped; each null when not traced. */
  resources(): { openFds: number | null; mappedBytes: number | null };
  /** One allocation in this many was kept (--sample-every): figures are scaled by it. */
  scale: number;
  /** Labels of these stacks, in order (see stack-label.ts). */
  labels(stacks: StackTotal[]): string[];
}

/** Names stacks for their labels; opened at the first scrape, closed with the trace. */
export type LabelSymbols = StackSymbols;

export interface LiveTrace {
  mode: StackSource['mode'];
  ledger: Ledger;
  resources: ResourceLedger | null;
  tracer: NativeTracer;
  sampleEvery: number;
  readStack: StackSource['readStack'];
  openSymbols: () => LabelSymbols;
}

/** A running trace as a LiveSource; `close` frees its symbols. */
export function liveSource(trace: LiveTrace): LiveSource & { close(): void } {
  const names = new LiveStackNames(trace);
  const label = (stacks: StackTotal[]) => names.frames(stacks).map((frames) => stackLabel(frames, trace.mode));
  return {
    byStack: () => trace.ledger.byStack(),
    events: () => ({ allocations: trace.ledger.allocations, frees: trace.ledger.frees }),
    losses: () => {
      const counters = readCounters(trace.tracer);
      return { lostEvents: lostEvents(counters), failedStacks: counters.stackFailures + counters.stacksFull };
    },
    resources: () => ({
      openFds: trace.resources?.traced.fds ? trace.resources.live.openFds : null,
      mappedBytes: trace.resources?.traced.mappings ? trace.resources.live.mappedBytes : null,
    }),
    scale: trace.sampleEvery,
    labels: label,
    close: () => names.close(),
  };
}
