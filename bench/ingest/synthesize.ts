// Ring-buffer batches that look like a real program's: allocations and frees
// interleaved around a steady live set, addresses reused the way a heap
// reuses freed chunks, sizes spread over orders of magnitude, and a few hot
// stacks among many cold ones. Records follow src/native/layout.ts.
import { EVENT, EventFlag, EventKind } from '../../src/native/layout.js';

export interface SynthOptions {
  events: number;
  /** Distinct stack ids. */
  stacks: number;
  /** Allocations outstanding in the steady state. */
  liveTarget: number;
  /** Share of frees naming an address that was never allocated (0-1). */
  unknownFrees: number;
  /** No frees at all: every allocation stays outstanding. */
  allocOnly: boolean;
  /** Records per batch (the tracer hands over up to 4 MiB). */
  batchRecords: number;
}

const WORDS = EVENT.recordSize / 4;
const HI = 2 ** 32;
const HEAP_BASE = 0x5555_5000_0000;
const NEVER_ALLOCATED = 0x7f00_0000_0000;
/** One process, as a traced program without children. */
const PID = 4242;

/** xorshift32: fast, and the same batches on every run. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / HI;
  };
}

export function synthesize(options: SynthOptions): Uint8Array[] {
  const next = random(0x5eed);
  // 53-bit ids, as BPF's stack hash cut by LH_STACK_ID_MASK.
  const stackIds = Array.from({ length: options.stacks }, () => Math.floor(next() * 2 ** 21) * HI + Math.floor(next() * HI) + 1);
  const live: number[] = [];
  const freed: number[] = [];
  let bump = HEAP_BASE;
  let unknown = NEVER_ALLOCATED;
  let ts = 1e12;

  const batches: Uint8Array[] = [];
  for (let done = 0; done < options.events; ) {
    const records = Math.min(options.batchRecords, options.events - done);
    const batch = new Uint8Array(records * EVENT.recordSize);
    const words = new Uint32Array(batch.buffer);
    const put = (base: number, offset: number, value: number) => {
      words[base + offset / 4] = value % HI;
      words[base + offset / 4 + 1] = Math.floor(value / HI);
    };
    for (let i = 0; i < records; i++) {
      const base = i * WORDS;
      // More allocations than frees below the target live set, fewer above.
      const allocate = options.allocOnly || live.length === 0 || next() < 0.5 + (options.liveTarget - live.length) / (4 * options.liveTarget);
      ts += 200;
      if (allocate) {
        // A heap hands back recently freed chunks first.
        const addr = freed.length > 0 && next() < 0.9 ? (freed.pop() as number) : (bump += 16 * (1 + Math.floor(next() * 64)));
        live.push(addr);
        // kind and flags share the first word, the low half kind.
        words[base] = EventKind.alloc | ((next() < 0.01 ? EventFlag.stackTruncated : 0) << 16);
        words[base + EVENT.tgid / 4] = PID;
        put(base, EVENT.addr, addr);
        put(base, EVENT.size, 8 * Math.round(2 ** (1 + next() * 13)));
        // Cubing skews the choice: a few stacks make most allocations.
        put(base, EVENT.stackId, stackIds[Math.floor(next() ** 3 * options.stacks)]);
        put(base, EVENT.ticks, ts);
      } else {
        let addr: number;
        if (next() < options.unknownFrees) addr = unknown += 16;
        else {
          const at = Math.floor(next() * live.length);
          addr = live[at];
          live[at] = live[live.length - 1];
          live.pop();
          freed.push(addr);
        }
        words[base] = EventKind.free;
        words[base + EVENT.tgid / 4] = PID;
        put(base, EVENT.addr, addr);
      }
    }
    batches.push(batch);
    done += records;
  }
  return batches;
}
