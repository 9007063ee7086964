// What the stack walk needs to read user memory through the kernel's direct
// map (bpf/user-memory.bpf.h): where RAM ends, so that no read leaves it,
// and how many levels the page tables have.
import { readFileSync } from 'node:fs';

export interface MemoryLayout {
  /** One past the last byte of the highest "System RAM" range; 0 when unknown. */
  physEnd: number;
  pagingLevels: 4 | 5;
}

/** The end of RAM from /proc/iomem's top-level "System RAM" ranges (which
 * only root sees with real addresses: others see zeros, and get 0). */
export function ramEnd(iomem: string): number {
  let end = 0;
  for (const line of iomem.split('\n')) {
    const match = /^([0-9a-f]+)-([0-9a-f]+) : System RAM$/.exec(line);
    const last = match ? Number.parseInt(match[2], 16) : 0;
    if (last > 0) end = Math.max(end, last + 1);
  }
  return end;
}

/** The kernel clears the CPU's la57 flag when it does not use 5-level paging. */
export function pagingLevels(cpuinfo: string): 4 | 5 {
  return /^flags\s*:.*\bla57\b/m.test(cpuinfo) ? 5 : 4;
}

export function readMemoryLayout(): MemoryLayout {
  return { physEnd: ramEnd(readFileSync('/proc/iomem', 'utf8')), pagingLevels: pagingLevels(readFileSync('/proc/cpuinfo', 'utf8')) };
}
