// What the stack walk needs to read user memory through the kernel's direct
// map (bpf/user-memory.bpf.h): where RAM ends, so that no read leaves it,
// and how many levels the page tables have.
import { existsSync, readdirSync, readFileSync } from 'node:fs';

export interface MemoryLayout {
  /** One past the last byte of RAM; 0 when unknown. */
  physEnd: number;
  pagingLevels: 4 | 5;
}

/** The end of RAM from /proc/iomem's top-level "System RAM" ranges. Only
 * CAP_SYS_ADMIN sees real addresses there; others see zeros, and get 0. */
export function ramEnd(iomem: string): number {
  let end = 0;
  for (const line of iomem.split('\n')) {
    const match = /^([0-9a-f]+)-([0-9a-f]+) : System RAM$/.exec(line);
    const last = match ? Number.parseInt(match[2], 16) : 0;
    if (last > 0) end = Math.max(end, last + 1);
  }
  return end;
}

/** The end of the highest memory block in /sys/devices/system/memory, which
 * anyone may read (where the kernel has memory hotplug): blocks are named by
 * index, each block_size_bytes long. */
export function memoryBlocksEnd(blockNames: string[], blockSizeHex: string): number {
  const size = Number.parseInt(blockSizeHex.trim(), 16);
  const indexes = blockNames.map((name) => /^memory(\d+)$/.exec(name)?.[1]).filter((index) => index !== undefined);
  if (!(size > 0) || indexes.length === 0) return 0;
  return (Math.max(...indexes.map(Number)) + 1) * size;
}

/** The kernel clears the CPU's la57 flag when it does not use 5-level paging. */
export function pagingLevels(cpuinfo: string): 4 | 5 {
  return /^flags\s*:.*\bla57\b/m.test(cpuinfo) ? 5 : 4;
}

const MEMORY_BLOCKS = '/sys/devices/system/memory';

export function readMemoryLayout(): MemoryLayout {
  let physEnd = ramEnd(readFileSync('/proc/iomem', 'utf8'));
  if (physEnd === 0 && existsSync(`${MEMORY_BLOCKS}/block_size_bytes`)) {
    physEnd = memoryBlocksEnd(readdirSync(MEMORY_BLOCKS), readFileSync(`${MEMORY_BLOCKS}/block_size_bytes`, 'utf8'));
  }
  return { physEnd, pagingLevels: pagingLevels(readFileSync('/proc/cpuinfo', 'utf8')) };
}
