// Ring-buffer batches -> calls on a sink. One pass over a Uint32Array view:
// no per-event object, no per-event native call.
import { structs } from '../native/contract.generated.js';
import { EVENT, EventKind } from '../native/layout.js';

/** Every call names the process (tgid) the event is of. */
export interface EventSink {
  alloc(tgid: number, addr: number, size: number, stackId: number, ticks: number, flags: number): void;
  free(tgid: number, addr: number, flags: number): void;
  /** The process exec'd: the blocks of the program it was are gone. */
  exec(tgid: number): void;
  /** A followed process forked a new one, followed from now on. */
  fork(parent: number, child: number): void;
}

/** Where the BPF walk asks for the unwind table of an object it met. */
export interface TableRequests {
  /** `addr` is in process `tgid`, in the file with `inode` on `device` (the kernel's encoding). */
  needTable(tgid: number, addr: number, device: number, inode: number): void;
}

// The loop reads kind and flags as the two halves of the first word, the
// process id as the second word: refuse any other layout at once.
const fields: Record<string, { offset: number; size: number }> = structs.lh_event.fields;
for (const [name, offset, size] of [['kind', 0, 2], ['flags', 2, 2], ['tgid', 4, 4]] as const) {
  if (fields[name].offset !== offset || fields[name].size !== size) {
    throw new Error(`lh_event.${name} is at ${fields[name].offset} (size ${fields[name].size}), decode.ts reads it at ${offset} (size ${size})`);
  }
}

// Word offsets, computed once: the loop below runs millions of times a second.
const WORDS = EVENT.recordSize / 4;
const TGID = EVENT.tgid / 4;
const ADDR = EVENT.addr / 4;
const SIZE = EVENT.size / 4;
const STACK = EVENT.stackId / 4;
const TICKS = EVENT.ticks / 4;
const ALLOC = EventKind.alloc;
const FREE = EventKind.free;
const EXEC = EventKind.exec;
const FORK = EventKind.fork;
const NEED_TABLE = EventKind.needTable;
const HI = 2 ** 32;

/** Decodes every whole record of `batch`; returns how many there were. */
export function decodeBatch(batch: Uint8Array, sink: EventSink, requests?: TableRequests): number {
  if (batch.byteLength % EVENT.recordSize !== 0 || batch.byteOffset % 4 !== 0) {
    throw new RangeError(`batch of ${batch.byteLength} bytes at offset ${batch.byteOffset} is not whole aligned records`);
  }
  const words = new Uint32Array(batch.buffer, batch.byteOffset, batch.byteLength / 4);
  const records = words.length / WORDS;
  for (let base = 0; base < words.length; base += WORDS) {
    // Little-endian (x86): kind is the low half of the first word.
    const head = words[base];
    const kind = head & 0xffff;
    const tgid = words[base + TGID];
    const addr = words[base + ADDR] + words[base + ADDR + 1] * HI;
    if (kind === ALLOC) {
      sink.alloc(
        tgid,
        addr,
        words[base + SIZE] + words[base + SIZE + 1] * HI,
        words[base + STACK] + words[base + STACK + 1] * HI,
        words[base + TICKS] + words[base + TICKS + 1] * HI,
        head >>> 16,
      );
    } else if (kind === FREE) {
      sink.free(tgid, addr, head >>> 16);
    } else if (kind === EXEC) {
      sink.exec(tgid);
    } else if (kind === FORK) {
      sink.fork(words[base + SIZE], addr);
    } else if (kind === NEED_TABLE) {
      requests?.needTable(tgid, addr, words[base + STACK] + words[base + STACK + 1] * HI, words[base + SIZE] + words[base + SIZE + 1] * HI);
    }
  }
  return records;
}
