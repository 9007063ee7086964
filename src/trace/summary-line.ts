// The line --interval prints while tracing, the same for every mode.
import type { Ledger } from '../aggregate/ledger.js';
import { type NativeTracer, readCounters } from '../native/binding.js';
import { lostEvents } from '../native/layout.js';

export function summaryLine(elapsedMs: number, ledger: Ledger, tracer: NativeTracer): string {
  const lost = lostEvents(readCounters(tracer));
  const seconds = (elapsedMs / 1000).toFixed(1);
  return `${seconds}s: ${ledger.live.bytes} bytes outstanding in ${ledger.live.count} allocations (${ledger.allocations} allocations, ${ledger.frees} frees, ${lost} events lost)`;
}
