// Ring-buffer batches -> calls on a sink. One pass over a Uint32Array view:
// no per-event object, no per-event native call.
import { EVENT, EventKind } from '../native/layout.js';

export interface EventSink {
  alloc(addr: number, size: number, stackId: number, ticks: number, flags: number): void;
  free(addr: number, flags: number): void;
  /** The process exec'd: the blocks of the program it was are gone. */
  exec(): void;
}

// Word offsets, computed once: the loop below runs millions of times a second.
const WORDS = EVENT.recordSize / 4;
const KIND = EVENT.kind / 4;
const FLAGS = EVENT.flags / 4;
const ADDR = EVENT.addr / 4;
const SIZE = EVENT.size / 4;
const STACK = EVENT.stackId / 4;
const TICKS = EVENT.ticks / 4;
const ALLOC = EventKind.alloc;
const FREE = EventKind.free;
const EXEC = EventKind.exec;
const HI = 2 ** 32;

/** Decodes every whole record of `batch`; returns how many there were. */
export function decodeBatch(batch: Uint8Array, sink: EventSink): number {
  if (batch.byteLength % EVENT.recordSize !== 0 || batch.byteOffset % 4 !== 0) {
    throw new RangeError(`batch of ${batch.byteLength} bytes at offset ${batch.byteOffset} is not whole aligned records`);
  }
  const words = new Uint32Array(batch.buffer, batch.byteOffset, batch.byteLength / 4);
  const records = words.length / WORDS;
  for (let base = 0; base < words.length; base += WORDS) {
    const kind = words[base + KIND];
    const addr = words[base + ADDR] + words[base + ADDR + 1] * HI;
    if (kind === ALLOC) {
      sink.alloc(
        addr,
        words[base + SIZE] + words[base + SIZE + 1] * HI,
        words[base + STACK] + words[base + STACK + 1] * HI,
        words[base + TICKS] + words[base + TICKS + 1] * HI,
        words[base + FLAGS],
      );
    } else if (kind === FREE) {
      sink.free(addr, words[base + FLAGS]);
    } else if (kind === EXEC) {
      sink.exec();
    }
  }
  return records;
}
