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
/** `endbr64; push rbp; mov rbp, rsp` is 8 bytes; -O2 may schedule up to
 * BETWEEN instructions of up to 7 bytes each (`mov edi, imm32`, `lea rdi,
 * [rip + x]`) between the two: 29 bytes. A little more leaves room for a
 * decoding that runs on. */
const PROLOGUE_BYTES = 32;
/** How many instructions may come between `push rbp` and `mov rbp, rsp`. */
const BETWEEN = 3;

const STACK_REGISTERS = new Set(['rbp', 'ebp', 'bp', 'bpl', 'rsp', 'esp', 'sp', 'spl']);

function text(insn: Instruction): string {
  return `${insn.mnemonic} ${insn.operands}`.trim();
}

/** Whether an instruction between the push and the mov leaves the frame
 * they build as it would be without it: it writes neither rbp nor rsp
 * (a push or pop moves rsp) and does not leave the straight line. */
function leavesFrameAlone(insn: Instruction): boolean {
  if (insn.writes.some((reg) => STACK_REGISTERS.has(reg))) return false;
  return !insn.groups.some((group) => group === 'jump' || group === 'call' || group === 'ret' || group === 'int' || group === 'iret');
}

/**
 * `push rbp; mov rbp, rsp` at the entry, after an optional endbr64. GCC at
 * -O2 with -fno-omit-frame-pointer, as distributions build with frame
 * pointers, often schedules an argument's set-up between the two (`push rbp;
 * mov edi, 0xd0; mov rbp, rsp`): up to BETWEEN such instructions are
 * accepted, as long as none touches rbp or rsp or branches.
 */
export function setsUpFramePointer(instructions: Instruction[]): boolean {
  const start = instructions[0] !== undefined && text(instructions[0]) === 'endbr64' ? 1 : 0;
  if (instructions[start] === undefined || text(instructions[start]) !== 'push rbp') return false;
  for (let i = start + 1; i < instructions.length && i <= start + 1 + BETWEEN; i++) {
    if (text(instructions[i]) === 'mov rbp, rsp') return true;
    if (!leavesFrameAlone(instructions[i])) return false;
  }
  return false;
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
