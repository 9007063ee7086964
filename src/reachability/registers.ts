// The registers of every thread of a stopped process, as roots: a pointer
// held only in a register (a callee-saved one across a blocking system
// call, say) holds its block as a stack word would. LeakSanitizer and
// valgrind read them too. Read through ptrace (native/thread-registers.cc),
// only while the process is group-stopped: a running thread's registers
// change as they are read.
import { addon } from '../native/binding.js';

export interface RegisterRoots {
  /** Each thread's registers read, as little-endian u32 pairs. */
  words: Uint32Array[];
  /** Threads whose registers could not be read (ptrace refused, or gone). */
  unread: number;
  ms: number;
}

/** A user_regs_struct's bytes as u32 words (a copy: the Buffer may sit unaligned in a pool). */
export function registerWords(registers: Buffer): Uint32Array {
  return new Uint32Array(new Uint8Array(registers).buffer);
}

export function readRegisterRoots(tids: readonly number[]): RegisterRoots {
  const from = performance.now();
  const words: Uint32Array[] = [];
  for (const tid of tids) {
    const registers = addon().threadRegisters(tid);
    if (registers) words.push(registerWords(registers));
  }
  return { words, unread: tids.length - words.length, ms: performance.now() - from };
}
