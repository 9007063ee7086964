// A cgroup with a memory limit and no swap, for the OOM tests: in the cgroup
// v2 hierarchy where the memory controller can be had there (the controller
// enabled below the root when it is not yet), else in cgroup v1's memory
// hierarchy (a hybrid system binds the controller there).
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { cgroup2Root } from './cgroup.js';

export interface MemoryCgroup {
  /** The directory a process joins through its cgroup.procs. */
  dir: string;
  /** Its path as /proc/PID/cgroup names it. */
  path: string;
  version: 1 | 2;
}

function v1MemoryRoot(): string | null {
  const line = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .find((entry) => / - cgroup \S+ \S*\bmemory\b/.test(entry));
  return line ? line.split(' ')[4]! : null;
}

/** The v2 root with memory enabled for its children; null when the controller is bound elsewhere. */
function v2WithMemory(): string | null {
  const root = cgroup2Root();
  if (root === null || !readFileSync(path.join(root, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('memory')) return null;
  const control = path.join(root, 'cgroup.subtree_control');
  if (!readFileSync(control, 'utf8').split(/\s+/).includes('memory')) writeFileSync(control, '+memory');
  return root;
}

/** Makes the cgroup, removed when the test ends (once the processes in it are gone). */
export function memoryCgroup(t: TestContext, limitBytes: number): MemoryCgroup {
  const v2 = v2WithMemory();
  const root = v2 ?? v1MemoryRoot();
  if (root === null) throw new Error('no cgroup hierarchy has the memory controller');
  const name = `leakhound-oom-${process.pid}-${Date.now()}`;
  const dir = path.join(root, name);
  mkdirSync(dir);
  t.after(() => rmdirSync(dir));
  const set = (file: string, value: number) => writeFileSync(path.join(dir, file), String(value));
  if (v2 !== null) {
    set('memory.max', limitBytes);
    if (existsSync(path.join(dir, 'memory.swap.max'))) set('memory.swap.max', 0);
  } else {
    set('memory.limit_in_bytes', limitBytes);
    // With swap accounting, memory and swap together get the same limit: no swap.
    if (existsSync(path.join(dir, 'memory.memsw.limit_in_bytes'))) set('memory.memsw.limit_in_bytes', limitBytes);
  }
  return { dir, path: `/${name}`, version: v2 !== null ? 2 : 1 };
}
