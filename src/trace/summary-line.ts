// The line --interval prints while tracing, the same for every mode.
import type { Ledger } from '../aggregate/ledger.js';
import { type NativeTracer, readCounters } from '../native/binding.js';
import { lostEvents } from '../native/layout.js';

/** What is held besides the heap, when descriptors and mappings are traced. */
export interface ResourcesHeld {
  readonly live: { openFds: number; mappedBytes: number };
}

export function summaryLine(elapsedMs: number, ledger: Ledger, tracer: NativeTracer, resources?: ResourcesHeld): string {
  const lost = lostEvents(readCounters(tracer));
  const seconds = (elapsedMs / 1000).toFixed(1);
  const held = resources ? `; ${resources.live.openFds} descriptors open, ${resources.live.mappedBytes} bytes mapped` : '';
  return `${seconds}s: ${ledger.live.bytes} bytes outstanding in ${ledger.live.count} allocations (${ledger.allocations} allocations, ${ledger.frees} frees, ${lost} events lost)${held}`;
}
