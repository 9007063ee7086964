// The BPF maps and programs a process holds open, as bpftool describes them:
// their ids come from /proc/PID/fdinfo, their details from `bpftool -j`.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { runOk } from './proc.js';

export interface MapInfo {
  id: number;
  name: string;
  type: string;
  flags: number;
  max_entries: number;
  bytes_memlock: number;
}

export interface ProgInfo {
  id: number;
  name: string;
  /** Only counted while kernel.bpf_stats_enabled is 1. */
  run_cnt?: number;
  run_time_ns?: number;
}

function idsOf(pid: number, field: 'map_id' | 'prog_id'): Set<number> {
  const ids = new Set<number>();
  const pattern = new RegExp(`^${field}:\\s+(\\d+)`, 'm');
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    try {
      const id = readFileSync(path.join(`/proc/${pid}/fdinfo`, fd), 'utf8').match(pattern);
      if (id) ids.add(Number(id[1]));
    } catch {
      // closed between listing and reading
    }
  }
  return ids;
}

export async function mapsOf(pid: number): Promise<MapInfo[]> {
  const ids = idsOf(pid, 'map_id');
  const all = JSON.parse((await runOk(['bpftool', 'map', 'show', '-j'], 30_000)).stdout) as MapInfo[];
  return all.filter((map) => ids.has(map.id));
}

export async function programsOf(pid: number): Promise<ProgInfo[]> {
  const ids = idsOf(pid, 'prog_id');
  const all = JSON.parse((await runOk(['bpftool', 'prog', 'show', '-j'], 30_000)).stdout) as ProgInfo[];
  return all.filter((prog) => ids.has(prog.id));
}

const STATS = '/proc/sys/kernel/bpf_stats_enabled';

/** Runs `body` with the kernel counting time inside every BPF program, and
 * puts the setting back as it was. */
export async function withBpfStats<T>(body: () => Promise<T>): Promise<T> {
  const before = readFileSync(STATS, 'utf8').trim();
  writeFileSync(STATS, '1');
  try {
    return await body();
  } finally {
    writeFileSync(STATS, before);
  }
}
