// Where a probe goes: the first instruction the kernel emulates, rather than
// one it must single-step out of line (about 17x dearer here for glibc's
// free, 37x for an endbr64, with which every function built with
// -fcf-protection begins). Entry and return probes alike: a return probe
// hijacks the return address at the stack pointer when its probe is hit, so
// any instruction before the stack pointer first moves serves it.

/** One decoded instruction, as the addon's Capstone decoder gives it. */
export interface Instruction {
  /** File offset of the instruction. */
  offset: number;
  size: number;
  mnemonic: string;
  operands: string;
  bytes: Uint8Array;
  groups: string[];
  /** Registers the instruction writes. */
  writes: string[];
  /** A direct branch's destination (file offset), else null. */
  target: number | null;
}

export interface ProbeSite {
  fileOffset: number;
  /** What was chosen and why, for --verbose. */
  reason: string;
}

/** How far into a function a site may be. */
const MAX_LEADING_INSTRUCTIONS = 8;

/** 0f 1f 44 00 00: on this kernel a uprobe there is optimized into a call
 * through a trampoline that forked children do not inherit: they crash. */
function isFiveByteNop(insn: Instruction): boolean {
  const b = insn.bytes;
  return b.length === 5 && b[0] === 0x0f && b[1] === 0x1f && b[2] === 0x44 && b[3] === 0x00 && b[4] === 0x00;
}

const isBranch = (insn: Instruction) => insn.groups.some((g) => g === 'jump' || g === 'call' || g === 'ret' || g === 'int' || g === 'iret');

/** Instructions x86 uprobes emulate in the kernel: direct branches and
 * calls, push of a register, and nops. */
export function kernelEmulates(insn: Instruction): boolean {
  if (isFiveByteNop(insn)) return false;
  if (isBranch(insn)) return insn.target !== null && !insn.groups.includes('ret');
  if (insn.mnemonic === 'push') return /^r(\d+|[a-z]{2})$/.test(insn.operands);
  return insn.mnemonic === 'nop';
}

const ALIASES: Record<string, string[]> = {
  rdi: ['rdi', 'edi', 'di', 'dil'],
  rsi: ['rsi', 'esi', 'si', 'sil'],
  rdx: ['rdx', 'edx', 'dx', 'dl'],
  rsp: ['rsp', 'esp', 'sp', 'spl'],
};

const text = (insn: Instruction) => `${insn.mnemonic} ${insn.operands}`.trim();

/**
 * The first emulated instruction among the function's leading straight-line
 * instructions, provided nothing before it changes the registers the probe
 * reads or the stack pointer, and no branch in the function lands between
 * the entry and it (so every call passes it exactly once). Falls back to the
 * entry, saying what stopped the search.
 */
export function chooseProbeSite(instructions: Instruction[], reads: string[]): ProbeSite {
  const entry = instructions[0];
  if (!entry) return { fileOffset: NaN, reason: 'no instructions decoded' };
  const at = (insn: Instruction) => (insn === entry ? 'entry' : `entry+${insn.offset - entry.offset}`);
  const guarded = new Set([...reads, 'rsp'].flatMap((reg) => ALIASES[reg] ?? [reg]));
  const landings = instructions.filter((insn) => insn.target !== null).map((insn) => insn.target as number);
  const passed: Instruction[] = [];
  let stop = `none of the first ${MAX_LEADING_INSTRUCTIONS} instructions is emulated`;
  for (const insn of instructions.slice(0, MAX_LEADING_INSTRUCTIONS)) {
    if (insn !== entry && landings.some((target) => target > entry.offset && target <= insn.offset)) {
      stop = `a branch in the function lands at ${at(insn)} or before`;
      break;
    }
    if (kernelEmulates(insn)) {
      return { fileOffset: insn.offset, reason: `${text(insn)} at ${at(insn)}` + (passed.length ? ` (after ${passed.map(text).join('; ')})` : '') };
    }
    const clobbered = insn.writes.find((reg) => guarded.has(reg));
    if (isBranch(insn) || clobbered) {
      stop = `${text(insn)} at ${at(insn)} ${clobbered ? `changes ${clobbered}` : 'may leave the function'}`;
      break;
    }
    passed.push(insn);
  }
  // A five-byte nop changes nothing: the instruction after it is as good an
  // entry, and the only safe one.
  const fallback = instructions.find((insn) => !isFiveByteNop(insn)) ?? entry;
  return { fileOffset: fallback.offset, reason: `${at(fallback)} (${text(fallback)} is single-stepped: ${stop})` };
}
