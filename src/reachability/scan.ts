// One pass over a stretch of the target's memory: every 8-byte-aligned word
// whose value points into an outstanding block is a reference, from the
// block the word lies in, or from a root (memory that is no block).
import type { BlockSet } from './blocks.js';

/** Where the scan's references go; `from` is a block index, or ROOT. */
export interface ReferenceSink {
  reference(from: number, to: number, interior: boolean): void;
}

export const ROOT = -1;

const HI = 2 ** 32;
/** Above this a word cannot be a user-space address (x86-64, 47 bits). */
const USER_TOP_HIGH_WORD = 0x8000;

/** The block `value` points into (at its start or inside it), else -1. */
export function pointedBlock(blocks: BlockSet, value: number): number {
  if (value < blocks.low || value >= blocks.high) return -1;
  const block = blocks.atOrBelow(value);
  if (block < 0) return -1;
  // A pointer to a zero-size block's start still holds it.
  return value === blocks.starts[block] || value < blocks.ends[block] ? block : -1;
}

/** The u64 at words[i] (little-endian u32 pair), or -1 when it cannot be a user-space address. */
function wordAt(words: Uint32Array, i: number): number {
  const high = words[i + 1];
  return high >= USER_TOP_HIGH_WORD ? -1 : words[i] + high * HI;
}

/**
 * Scans `words` (little-endian u32 pairs), read from address `base` (8-byte
 * aligned). Each reference is reported once per word that holds it.
 */
export function scanWords(words: Uint32Array, base: number, blocks: BlockSet, sink: ReferenceSink): void {
  const { starts, ends } = blocks;
  // The block that holds the current word, or the next one above it.
  let holder = Math.max(blocks.atOrBelow(base), 0);
  for (let i = 0; i + 1 < words.length; i += 2) {
    const value = wordAt(words, i);
    if (value < blocks.low || value >= blocks.high) continue;
    const to = pointedBlock(blocks, value);
    if (to < 0) continue;
    const at = base + i * 4;
    while (holder < starts.length && ends[holder] <= at) holder++;
    const from = holder < starts.length && starts[holder] <= at ? holder : ROOT;
    sink.reference(from, to, value !== starts[to]);
  }
}

/** Words held outside memory (a thread's registers): each is a root, as a stack word is. */
export function scanRootWords(words: Uint32Array, blocks: BlockSet, sink: ReferenceSink): void {
  for (let i = 0; i + 1 < words.length; i += 2) {
    const value = wordAt(words, i);
    const to = pointedBlock(blocks, value);
    if (to >= 0) sink.reference(ROOT, to, value !== blocks.starts[to]);
  }
}
