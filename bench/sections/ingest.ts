// Issue 10, "Ingest": synthesized ring-buffer batches replayed through
// decodeBatch + Ledger on one core (taskset), in events per second.
import path from 'node:path';

import type { Bench } from '../lib/bench.js';
import { fixed, grouped, raw } from '../lib/format.js';
import { codeBlock, table, type Section } from '../lib/markdown.js';
import { repoRoot } from '../lib/paths.js';
import { runOk } from '../lib/proc.js';
import { median } from '../lib/stats.js';
import { shownArgv } from '../lib/tools.js';

interface Scenario {
  name: string;
  args: string[];
}

const SCENARIOS: Scenario[] = [
  { name: 'alloc/free mix, 5,000 stacks, ~50k live', args: ['--stacks', '5000', '--live', '50000'] },
  { name: 'alloc/free mix, 100,000 stacks, ~50k live', args: ['--stacks', '100000', '--live', '50000'] },
  { name: 'half the frees of unknown addresses', args: ['--stacks', '5000', '--live', '50000', '--unknown-frees', '0.5'] },
  { name: 'alloc/free mix, ~1M live', args: ['--stacks', '5000', '--live', '1000000'] },
];

const TARGET = 5e6;

export function replayCommand(args: string[], nodeFlags: string[] = []): string[] {
  return ['taskset', '-c', '1', process.execPath, ...nodeFlags, path.join(repoRoot, 'dist/bench/ingest/replay.js'), ...args];
}

export async function ingestSection(bench: Bench): Promise<Section> {
  const events = bench.quick ? '1000000' : '4000000';
  const reps = bench.quick ? '2' : '5';
  const rows: string[][] = [];
  const commands: string[] = [];
  for (const scenario of SCENARIOS) {
    bench.progress(`ingest: ${scenario.name}`);
    const argv = replayCommand(['--events', events, '--reps', reps, ...scenario.args]);
    commands.push(shownArgv(argv));
    const result = await runOk(argv, 600_000);
    const figures = JSON.parse(result.stdout) as { outstanding: number; eventsPerSecond: number[]; eventsPerCpuSecond: number[] };
    const wall = median(figures.eventsPerSecond);
    const cpu = median(figures.eventsPerCpuSecond);
    rows.push([
      scenario.name,
      grouped(figures.outstanding),
      fixed(wall / 1e6, 2),
      fixed(cpu / 1e6, 2),
      Math.max(wall, cpu) >= TARGET ? 'met' : '**NOT met**',
      raw(figures.eventsPerSecond.map((v) => v / 1e6), 2),
    ]);
  }
  return {
    title: 'Ingest replay',
    lines: [
      `${grouped(Number(events))} synthesized 40-byte records in batches of 100,000 (4 MB, as the tracer hands them over), replayed into a fresh Ledger ${reps} times; median. Pinned to CPU 1; "per CPU second" divides by the process's user+system time, which on this shared machine says more than wall time does.`,
      '',
      ...table(['scenario', 'outstanding at end', 'M events/s (wall)', 'M events/s (per CPU second)', `target ${fixed(TARGET / 1e6, 0)} M/s`, 'raw M events/s (wall)'], rows),
      '',
      'Commands:',
      '',
      ...codeBlock(commands),
      '',
    ],
  };
}
