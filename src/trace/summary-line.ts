// The line --interval prints while tracing, the same for every mode.
import type { Ledger } from '../aggregate/ledger.js';
import type { NativeTracer } from '../native/binding.js';
import { nameCounters } from '../native/layout.js';

export function summaryLine(elapsedMs: number, ledger: Ledger, tracer: NativeTracer): string {
  const counters = nameCounters(tracer.counters(), tracer.missedRuns());
  const lost = counters.ringbufDrops + counters.missedRuns;
  const seconds = (elapsedMs / 1000).toFixed(1);
  return `${seconds}s: ${ledger.live.bytes} bytes outstanding in ${ledger.live.count} allocations (${ledger.allocations} allocations, ${ledger.frees} frees, ${lost} events lost)`;
}
