// /proc/kallsyms -> kernel frames. The text symbols are parsed once into
// arrays sorted by address, and each lookup is a binary search. Addresses
// are kept as their low 48 bits, which a JavaScript number holds exactly:
// kernel addresses are canonical (all ones above bit 47), so the top bits say
// nothing. That is also the form ring-buffer events carry them in.
import { readFileSync } from 'node:fs';

import type { Frame } from '../report/types.js';

const LOW48 = (1n << 48n) - 1n;
const HIGH16 = 0xffffn << 48n;
const CORE = '[kernel]';
/** Text symbols, local and global; weak ones are text too. */
const TEXT_TYPES = new Set(['t', 'T', 'w', 'W']);

export interface KernelSymbol {
  symbol: string;
  /** From the symbol's start. */
  offset: number;
  /** `[kernel]`, or the module's name in brackets as kallsyms prints it. */
  module: string;
}

/** The low 48 bits of a full 64-bit kernel address. */
export function low48(address: bigint): number {
  return Number(address & LOW48);
}

/** The full canonical address, `0xffffffff8123abcd`, from its low 48 bits. */
export function kernelHex(address: number): string {
  let full = BigInt(address);
  if (full >> 47n) full |= HIGH16;
  return `0x${full.toString(16)}`;
}

export class Kallsyms {
  readonly #starts: Float64Array;
  readonly #names: string[];
  readonly #modules: string[];

  private constructor(starts: Float64Array, names: string[], modules: string[]) {
    this.#starts = starts;
    this.#names = names;
    this.#modules = modules;
  }

  static load(path = '/proc/kallsyms'): Kallsyms {
    return Kallsyms.parse(readFileSync(path, 'latin1'));
  }

  /** Lines of `address type name [module]`; anything else is skipped. Zero
   * addresses (what a reader without privileges sees) carry no information. */
  static parse(text: string): Kallsyms {
    const starts: number[] = [];
    const names: string[] = [];
    const modules: string[] = [];
    for (const line of text.split('\n')) {
      const match = /^([0-9a-fA-F]{1,16}) (\S) (\S+)(?:\s+(\[\S+\]))?\s*$/.exec(line);
      if (!match || !TEXT_TYPES.has(match[2])) continue;
      const start = parseInt(match[1].slice(-12), 16);
      if (start === 0) continue;
      starts.push(start);
      names.push(match[3]);
      modules.push(match[4] ?? CORE);
    }
    // Several names may share an address (`_text`, `_stext`): the first
    // listed is kept. The sort is stable, so that is the first of each run.
    const order = starts.map((_, i) => i).sort((a, b) => starts[a] - starts[b]);
    const kept = order.filter((index, i) => i === 0 || starts[order[i - 1]] !== starts[index]);
    return new Kallsyms(
      Float64Array.from(kept, (i) => starts[i]),
      kept.map((i) => names[i]),
      kept.map((i) => modules[i]),
    );
  }

  get size(): number {
    return this.#starts.length;
  }

  /** The symbol an address lies in: the nearest at or below it. */
  lookup(address: number | bigint): KernelSymbol | null {
    const target = typeof address === 'bigint' ? low48(address) : address;
    let low = 0;
    let high = this.#starts.length - 1;
    if (high < 0 || target < this.#starts[0]) return null;
    while (low < high) {
      const mid = (low + high + 1) >>> 1;
      if (this.#starts[mid] <= target) low = mid;
      else high = mid - 1;
    }
    return { symbol: this.#names[low], offset: target - this.#starts[low], module: this.#modules[low] };
  }

  /** Frames for stacks of return addresses (low 48 bits), innermost first. */
  resolveStacks(stacks: number[][]): Frame[][] {
    return stacks.map((stack) => stack.map((address) => this.frame(address)));
  }

  /** A return address is looked up one byte back, since the call may have
   * been its function's last instruction; the offset still counts to the
   * address itself, so symbol + offset is the address as traced. */
  frame(address: number): Frame {
    const found = this.lookup(address - 1);
    return {
      address: kernelHex(address),
      symbol: found?.symbol ?? null,
      module: found?.module ?? null,
      file: null,
      line: null,
      offset: found ? found.offset + 1 : 0,
    };
  }
}
