// The processes of a cgroup v2 directory and of every cgroup below it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Process ids in `dir`'s cgroup.procs and its descendants', each once; a
 * cgroup that vanishes while it is read holds none. */
export function cgroupProcesses(dir: string, depth = 0): number[] {
  let procs: number[] = [];
  try {
    procs = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
  // The kernel bounds a hierarchy's depth; so does this walk.
  if (depth > 64) return procs;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) procs.push(...cgroupProcesses(join(dir, entry.name), depth + 1));
  }
  return [...new Set(procs)];
}

/** Whether this process runs in `dir` or below it: tracing the cgroup would trace leakhound. */
export function runsInside(dir: string, self = readFileSync('/proc/self/cgroup', 'utf8'), mount = '/sys/fs/cgroup'): boolean {
  const own = /^0::(.*)$/m.exec(self)?.[1];
  if (own === undefined) return false;
  const mine = join(mount, own);
  return mine === dir || mine.startsWith(`${dir}/`);
}
