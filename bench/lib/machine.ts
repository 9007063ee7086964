// The run's circumstances, for RESULTS.md: figures only compare within one run.
import { cpus, release } from 'node:os';

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
    `- tools: ${await firstLine(['bpftrace', '--version'])}; heaptrack ${await firstLine(['heaptrack', '--version'])}; ${await firstLine(['valgrind', '--version'])}`,
    `- workloads: python3 ${await firstLine(['/usr/bin/python3', '--version'])}; sqlite3 ${await firstLine(['sqlite3', '--version'])}; ${await firstLine(['gcc', '--version'])}; ${await firstLine(['xz', '--version'])}`,
    `- load average at the start: ${(await firstLine(['cat', '/proc/loadavg'])).split(' ').slice(0, 3).join(' ')}`,
  ];
}
