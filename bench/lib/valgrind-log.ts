// The two lines of memcheck's summary the benchmarks compare against.
import { existsSync, readFileSync } from 'node:fs';

export interface HeapSummary {
  inUseBytes: number;
  inUseBlocks: number;
  allocs: number;
  frees: number;
}

const number = (text: string) => Number(text.replaceAll(',', ''));

export function readHeapSummary(logPath: string): HeapSummary | null {
  if (!existsSync(logPath)) return null;
  const log = readFileSync(logPath, 'utf8');
  const inUse = log.match(/in use at exit: ([\d,]+) bytes in ([\d,]+) blocks/);
  const usage = log.match(/total heap usage: ([\d,]+) allocs, ([\d,]+) frees/);
  if (!inUse || !usage) return null;
  return { inUseBytes: number(inUse[1]), inUseBlocks: number(inUse[2]), allocs: number(usage[1]), frees: number(usage[2]) };
}
