// What a scrape reads: the trace's own ledgers as they stand, and its stack
// map for the labels. Nothing runs between scrapes.
import type { Ledger, StackTotal } from '../aggregate/ledger.js';
import type { ResourceLedger } from '../aggregate/resource-ledger.js';
import { type NativeTracer, readCounters } from '../native/binding.js';
import { lostEvents } from '../native/layout.js';
import { resolveStackRequests, type StackSource } from '../report/stacks.js';
import type { Frame } from '../report/types.js';
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
export interface LabelSymbols {
  resolveStacks: StackSource['resolveStacks'];
  close(): void;
}

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
  const labels = new Map<number, string>();
  let symbols: LabelSymbols | null = null;
  const label = (stacks: StackTotal[]) => {
    const missing = stacks.filter((stack) => !labels.has(stack.stackId));
    const unsettled = new Map<number, string>();
    if (missing.length > 0) {
      const open = (symbols ??= trace.openSymbols());
      const source: StackSource = { mode: trace.mode, readStack: trace.readStack, resolveStacks: (stacks, pids) => open.resolveStacks(stacks, pids) };
      const resolved = resolveStackRequests(source, missing.map((stack) => ({ stackId: stack.stackId, pid: stack.firstPid, cut: stack.cut })));
      // A frame not placed yet (in a library mapped since the last look at
      // the maps) is named again at the next scrape.
      missing.forEach((stack, i) => {
        const { frames } = resolved[i];
        (frames.every(placed) ? labels : unsettled).set(stack.stackId, stackLabel(frames, trace.mode));
      });
    }
    return stacks.map((stack) => (labels.get(stack.stackId) ?? unsettled.get(stack.stackId)) as string);
  };
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
    close: () => symbols?.close(),
  };
}

function placed(frame: Frame): boolean {
  return frame.symbol !== null || frame.module !== null;
}
