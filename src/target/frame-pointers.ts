// Which of the target's code keeps frame pointers. The BPF walk is exact only
// through functions that set one up: past one that does not, the saved frame
// pointer is stale, and the frames after it are a guess. Judged per object
// from a sample of its functions' first instructions (Capstone's decoding).
import type { DecodeFailure, FileExtent } from '../native/binding.js';
import type { Instruction } from './probe-site.js';

export interface FramePointerEnvironment {
  /** Functions spread over the object's symbol table; throws when it cannot be read. */
  sample(path: string, max: number): FileExtent[];
  /** Each extent's instructions, in order, or a failure for that extent
   * alone; throws when the file cannot be read. */
  decode(path: string, extents: FileExtent[]): (Instruction[] | DecodeFailure)[];
}

/** Enough functions to tell -fno-omit-frame-pointer builds from the rest: the two differ in nearly every function. */
const SAMPLE = 64;
/** `endbr64; push rbp; mov rbp, rsp` is 8 bytes; a little more leaves room for a decoding that runs on. */
const PROLOGUE_BYTES = 16;

/** `push rbp; mov rbp, rsp` at the entry, after an optional endbr64. */
export function setsUpFramePointer(instructions: Instruction[]): boolean {
  const text = instructions.slice(0, 3).map((insn) => `${insn.mnemonic} ${insn.operands}`.trim());
  const start = text[0] === 'endbr64' ? 1 : 0;
  return text[start] === 'push rbp' && text[start + 1] === 'mov rbp, rsp';
}

/**
 * True when the functions that set up a frame pointer hold at least half of
 * the sampled code. Weighed by size, because a program built with frame
 * pointers still links small start-up stubs without them. Null when the
 * object cannot be read, or has no sized function whose bytes are in the file.
 */
export function keepsFramePointers(path: string, env: FramePointerEnvironment): boolean | null {
  let functions: FileExtent[];
  let prologues: (Instruction[] | DecodeFailure)[];
  try {
    functions = env.sample(path, SAMPLE);
    if (functions.length === 0) return null;
    prologues = env.decode(path, functions.map((fn) => ({ fileOffset: fn.fileOffset, size: Math.min(fn.size, PROLOGUE_BYTES) })));
  } catch {
    return null;
  }
  let withFramePointer = 0;
  let total = 0;
  for (const [i, fn] of functions.entries()) {
    const prologue = prologues[i];
    // A function whose bytes could not be read (its symbol points past the
    // end of the file) says nothing of how the rest was built.
    if (!Array.isArray(prologue)) continue;
    total += fn.size;
    if (setsUpFramePointer(prologue)) withFramePointer += fn.size;
  }
  return total === 0 ? null : withFramePointer * 2 >= total;
}

/** Judges each object once. */
export class FramePointerCensus {
  readonly #env: FramePointerEnvironment;
  readonly #verdicts = new Map<string, boolean | null>();

  constructor(env: FramePointerEnvironment) {
    this.#env = env;
  }

  /** `path` as leakhound opens it. */
  keeps(path: string): boolean | null {
    if (!this.#verdicts.has(path)) this.#verdicts.set(path, keepsFramePointers(path, this.#env));
    return this.#verdicts.get(path) as boolean | null;
  }
}
