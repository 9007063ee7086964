// A process's memory as the kernel counts it: resident and anonymous bytes
// (smaps_rollup, one summed record, cheaper than smaps), the brk heap (maps),
// and its cgroup v2's charge and limit. Read only.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { ProcessMemorySample } from '../report/process-growth.js';

const CGROUP_MOUNT = '/sys/fs/cgroup';

/** `Name:   1234 kB` lines -> bytes by name. */
export function parseKbFields(text: string): Map<string, number> {
  const fields = new Map<string, number>();
  for (const match of text.matchAll(/^(\w+):\s+(\d+) kB$/gm)) fields.set(match[1], Number(match[2]) * 1024);
  return fields;
}

/** The size of the `[heap]` mapping in /proc/PID/maps text; 0 when there is none. */
export function heapBytes(maps: string): number {
  const match = /^([0-9a-f]+)-([0-9a-f]+) .*\[heap\]$/m.exec(maps);
  return match ? Number.parseInt(match[2], 16) - Number.parseInt(match[1], 16) : 0;
}

/** The cgroup v2 path in /proc/PID/cgroup text (`0::/path`), or null. */
export function cgroupPath(text: string): string | null {
  return /^0::(\/.*)$/m.exec(text)?.[1] ?? null;
}

/** memory.max's text: a byte count, or `max` (null: no limit). */
export function parseLimit(text: string): number | null {
  const trimmed = text.trim();
  return trimmed === 'max' ? null : Number(trimmed);
}

function cgroupMemory(pid: number): ProcessMemorySample['cgroup'] {
  const path = cgroupPath(readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
  if (path === null) return null;
  const dir = join(CGROUP_MOUNT, path);
  try {
    return {
      path,
      currentBytes: Number(readFileSync(join(dir, 'memory.current'), 'utf8').trim()),
      maxBytes: parseLimit(readFileSync(join(dir, 'memory.max'), 'utf8')),
    };
  } catch {
    // The root cgroup has neither file; a cgroup without the memory controller neither.
    return null;
  }
}

/** The process's memory now, or null once it has gone. */
export function readProcessMemory(pid: number): ProcessMemorySample | null {
  try {
    const rollup = parseKbFields(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return {
      rssBytes: rollup.get('Rss') ?? 0,
      anonBytes: rollup.get('Anonymous') ?? 0,
      heapBytes: heapBytes(readFileSync(`/proc/${pid}/maps`, 'utf8')),
      cgroup: cgroupMemory(pid),
    };
  } catch {
    return null;
  }
}
