// Where the tests make their cgroups.
import { readFileSync } from 'node:fs';

/** The cgroup v2 mount, from this process's mount table; null when none is mounted. */
export function cgroup2Root(): string | null {
  const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((entry) => entry.includes(' - cgroup2 '));
  return line ? line.split(' ')[4]! : null;
}
