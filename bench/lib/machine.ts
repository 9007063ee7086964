// The run's circumstances, for RESULTS.md: figures only compare within one run.
import { cpus, loadavg, release } from 'node:os';

import { repoRoot } from './paths.js';
import { run } from './proc.js';

async function firstLine(argv: string[]): Promise<string> {
  try {
    const result = await run(argv, 20_000, { cwd: repoRoot });
    return (result.stdout || result.stderr).trim().split('\n')[0] ?? '?';
  } catch {
    return 'not available';
  }
}

export async function describeMachine(): Promise<string[]> {
  const commit = await firstLine(['git', 'rev-parse', '--short', 'HEAD']);
  const dirty = (await firstLine(['git', 'status', '--porcelain'])) === '' ? '' : ' plus uncommitted changes';
  return [
    `- date: ${new Date().toISOString()}`,
    `- machine: kernel ${release()}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), node ${process.version}`,
    `- leakhound: commit ${commit}${dirty}`,
    `- tools: ${await firstLine(['bpftrace', '--version'])}; ${await firstLine(['heaptrack', '--version'])}; ${await firstLine(['valgrind', '--version'])}`,
    `- workloads: ${await firstLine(['/usr/bin/python3', '--version'])}; sqlite3 ${(await firstLine(['sqlite3', '--version'])).split(' ')[0]}; ${await firstLine(['gcc', '--version'])}; ${await firstLine(['perl', '-e', 'print "perl $^V"'])}`,
    `- load average at the start: ${loadAverage()}`,
  ];
}

/** 1, 5 and 15-minute load averages: above 2 on this 2-CPU machine, others' work competes with the figures. */
export function loadAverage(): string {
  return loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
}
