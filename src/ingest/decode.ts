// Ring-buffer batches -> calls on a sink. One pass over a Uint32Array view:
// no per-event object, no per-event native call.
import { EVENT, EventKind } from '../native/layout.js';

export interface EventSink {
  alloc(addr: number, size: number, stackId: number, tsNs: number, flags: number): void;
  free(addr: number): void;
}

const WORDS = EVENT.recordSize / 4;
const HI = 2 ** 32;

/** Decodes every whole record of `batch`; returns how many there were. */
export function decodeBatch(batch: Uint8Array, sink: EventSink): number {
  if (batch.byteLength % EVENT.recordSize !== 0 || batch.byteOffset % 4 !== 0) {
    throw new RangeError(`batch of ${batch.byteLength} bytes at offset ${batch.byteOffset} is not whole aligned records`);
  }
  const words = new Uint32Array(batch.buffer, batch.byteOffset, batch.byteLength / 4);
  const records = words.length / WORDS;
  for (let base = 0; base < words.length; base += WORDS) {
    const addr = words[base + EVENT.addr / 4] + words[base + EVENT.addr / 4 + 1] * HI;
    if (words[base + EVENT.kind / 4] === EventKind.alloc) {
      sink.alloc(
        addr,
        words[base + EVENT.size / 4] + words[base + EVENT.size / 4 + 1] * HI,
        words[base + EVENT.stackId / 4] + words[base + EVENT.stackId / 4 + 1] * HI,
        words[base + EVENT.tsNs / 4] + words[base + EVENT.tsNs / 4 + 1] * HI,
        words[base + EVENT.flags / 4],
      );
    } else {
      sink.free(addr);
    }
  }
  return records;
}
