// Which of a process's mappings may hold references, and from where: every
// readable, writable, private mapping (data, bss, the heap, anonymous memory,
// thread stacks). A stack whose thread's stack pointer is known is scanned
// from there up: below it lies only what returned calls left behind.
import type { Mapping } from '../symbolize/proc-maps.js';
import type { ThreadState } from './threads.js';

export interface ScanRegion {
  start: number;
  end: number;
  /** The mapping's name, for --verbose and tests. */
  name: string;
}

/** x86-64's red zone: a leaf function may keep live data this far below the stack pointer. */
const RED_ZONE = 128;

/** The kernel's own pages, never the program's data. */
const KERNEL_PAGES = new Set(['[vvar]', '[vvar_vclock]', '[vdso]', '[vsyscall]']);

function scanned(mapping: Mapping): boolean {
  return mapping.perms.startsWith('rw') && mapping.perms[3] === 'p' && !KERNEL_PAGES.has(mapping.path ?? '');
}

/** The lowest live address of each stack a known stack pointer lies in. */
function stackBottoms(threads: readonly ThreadState[]): number[] {
  return threads.filter((thread) => thread.stackPointer !== null).map((thread) => (thread.stackPointer as number) - (thread.inSyscall ? 0 : RED_ZONE));
}

export function scanRegions(maps: readonly Mapping[], threads: readonly ThreadState[]): ScanRegion[] {
  const bottoms = stackBottoms(threads);
  const regions: ScanRegion[] = [];
  for (const mapping of maps) {
    if (!scanned(mapping)) continue;
    const inside = bottoms.filter((bottom) => bottom >= mapping.start && bottom < mapping.end);
    const lowest = Math.min(...inside);
    // 8-byte aligned (no bitwise operators: addresses pass 32 bits).
    const start = inside.length > 0 ? Math.max(lowest - (lowest % 8), mapping.start) : mapping.start;
    regions.push({ start, end: mapping.end, name: mapping.path ?? '[anon]' });
  }
  return regions;
}
