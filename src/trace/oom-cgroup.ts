// The cgroup an OOM victim was in, and what its memory controller says, read
// at the kill: /proc keeps a killed process (and its cgroup line) only until
// it is reaped, and the figures move as it frees.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import type { OomReport } from '../report/types.js';

export type OomCgroup = Pick<OomReport, 'cgroup' | 'memoryMaxBytes' | 'memoryCurrentBytes' | 'memoryEvents'>;

const UNKNOWN: OomCgroup = { cgroup: null, memoryMaxBytes: null, memoryCurrentBytes: null, memoryEvents: null };

/** Where the memory controller of a victim is: its hierarchy's mount and the victim's path in it. */
interface MemoryCgroup {
  version: 1 | 2;
  path: string;
  mount: string;
}

/** cgroup mounts (mountinfo: mount point is field 5, the file system type follows " - "). */
function mounts(mountinfo: string): { point: string; type: string; options: string[] }[] {
  return mountinfo
    .split('\n')
    .filter((line) => line.includes(' - '))
    .map((line) => {
      const [before, after] = line.split(' - ');
      const [type, , options = ''] = after.split(' ');
      return { point: before.split(' ')[4], type, options: options.split(',') };
    });
}

/** The hierarchy the memory controller is bound to: v1's memory hierarchy
 * where one is mounted (a hybrid system), else v2's. */
export function memoryHierarchy(mountinfo: string): { version: 1 | 2; mount: string } | null {
  const all = mounts(mountinfo);
  const v1 = all.find((m) => m.type === 'cgroup' && m.options.includes('memory'));
  if (v1) return { version: 1, mount: v1.point };
  const v2 = all.find((m) => m.type === 'cgroup2');
  return v2 ? { version: 2, mount: v2.point } : null;
}

/** A process's path in that hierarchy, from its /proc/PID/cgroup. */
export function memoryCgroupOf(procCgroup: string, hierarchy: { version: 1 | 2; mount: string }): MemoryCgroup | null {
  const line =
    hierarchy.version === 2
      ? /^0::(.*)$/m.exec(procCgroup)
      : [...procCgroup.matchAll(/^\d+:([^:]*):(.*)$/gm)].find(([, controllers]) => controllers.split(',').includes('memory'));
  const path = line?.[hierarchy.version === 2 ? 1 : 2];
  return path === undefined ? null : { ...hierarchy, path };
}

/** "max", or v1's "no limit" (the largest page-aligned 63-bit number), is no limit. */
function limit(text: string | null): number | null {
  if (text === null || text === 'max') return null;
  const bytes = Number(text);
  return Number.isFinite(bytes) && bytes < 2 ** 62 ? bytes : null;
}

function counters(text: string | null): Record<string, number> | null {
  if (text === null) return null;
  const pairs = text.split('\n').filter(Boolean).map((line) => line.split(' '));
  return Object.fromEntries(pairs.map(([key, value]) => [key, Number(value)]));
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

/** The limit, usage and counters of one memory cgroup. */
export function readMemoryCgroup(cgroup: MemoryCgroup): OomCgroup {
  const dir = join(cgroup.mount, cgroup.path);
  const file = (v2: string, v1: string) => readText(join(dir, cgroup.version === 2 ? v2 : v1));
  const current = file('memory.current', 'memory.usage_in_bytes');
  return {
    cgroup: cgroup.path,
    memoryMaxBytes: limit(file('memory.max', 'memory.limit_in_bytes')),
    memoryCurrentBytes: current === null ? null : Number(current),
    memoryEvents: counters(file('memory.events', 'memory.oom_control')),
  };
}

/** The cgroup directory with this id (its inode number), searched from the mount; null when none. */
function cgroupWithId(mount: string, id: number, dir = mount, depth = 0): string | null {
  try {
    if (statSync(dir, { bigint: true }).ino === BigInt(id)) return `/${dir.slice(mount.length + 1)}`;
    if (depth > 16) return null;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const found = cgroupWithId(mount, id, join(dir, entry.name), depth + 1);
      if (found !== null) return found;
    }
  } catch {
    // A cgroup removed meanwhile holds nothing to find.
  }
  return null;
}

/**
 * The victim's memory cgroup. When the victim killed itself (it was the
 * process running), the cgroup BPF read then, found by its id: exact, and
 * still there once /proc has lost the victim. Otherwise /proc/PID/cgroup,
 * while the victim is still there.
 */
export function readVictimCgroup(
  victim: { pid: number; tgid: number },
  invoker: { tgid: number; memcgId: number },
  mountinfo = readFileSync('/proc/self/mountinfo', 'utf8'),
): OomCgroup {
  const hierarchy = memoryHierarchy(mountinfo);
  if (hierarchy === null) return UNKNOWN;
  const byId = invoker.tgid === victim.tgid && invoker.memcgId !== 0 ? cgroupWithId(hierarchy.mount, invoker.memcgId) : null;
  if (byId !== null) return readMemoryCgroup({ ...hierarchy, path: byId });
  const procCgroup = readText(`/proc/${victim.pid}/cgroup`);
  const found = procCgroup === null ? null : memoryCgroupOf(procCgroup, hierarchy);
  return found ? readMemoryCgroup(found) : UNKNOWN;
}
