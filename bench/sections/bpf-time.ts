// Where leakhound's cost above the floor goes: the time the kernel counts
// inside each of its BPF programs (kernel.bpf_stats_enabled), per call, at
// three stack depths, beside the same programs in floor mode.
import type { Bench } from '../lib/bench.js';
import { programsOf, withBpfStats, type ProgInfo } from '../lib/bpf-objects.js';
import { fixed, grouped } from '../lib/format.js';
import { launchTraced } from '../lib/live.js';
import { loopCommand } from '../lib/loop.js';
import { codeBlock, table, type Section } from '../lib/markdown.js';
import { lineMatching } from '../lib/proc.js';

const DEPTHS = [
  { depth: 1, frames: 5 },
  { depth: 19, frames: 23 },
  { depth: 76, frames: 64 },
];

/** The programs of a trace of the loop that ran, read while it holds at its end. */
async function programTimes(bench: Bench, depth: number, floor: boolean): Promise<ProgInfo[]> {
  const traced = await launchTraced(loopCommand(['-T', '1000', '-h', '-d', String(depth)]), `${bench.out('bpf-time')}.json`, { floor });
  const [, pid] = await lineMatching(traced.stdout, /^holding (\d+)/, 120_000);
  const programs = await programsOf(traced.leakhound.pid as number);
  process.kill(Number(pid), 'SIGUSR1');
  await traced.done;
  // More than once: not the programs user space runs once itself (find_direct_map).
  return programs.filter((p) => (p.run_cnt ?? 0) > 1);
}

const perCall = (p: ProgInfo | undefined) => (p?.run_cnt ? (p.run_time_ns ?? 0) / p.run_cnt : NaN);

export async function bpfTimeSection(bench: Bench): Promise<Section> {
  const rows: string[][] = [];
  await withBpfStats(async () => {
    for (const { depth, frames } of DEPTHS) {
      bench.progress(`BPF program time: ${frames} frames`);
      const full = await programTimes(bench, depth, false);
      const empty = await programTimes(bench, depth, true);
      for (const program of full) {
        rows.push([String(frames), program.name, grouped(program.run_cnt ?? 0), fixed(perCall(program), 0), fixed(perCall(empty.find((p) => p.name === program.name)), 0)]);
      }
      const sum = (list: ProgInfo[]) => list.reduce((total, p) => total + perCall(p), 0);
      rows.push([String(frames), '**all three, per pair**', '', `**${fixed(sum(full), 0)}**`, fixed(sum(empty), 0)]);
    }
  });
  return {
    title: 'Time inside the BPF programs',
    lines: [
      'run_time_ns / run_cnt of each program (bpftool prog show, with kernel.bpf_stats_enabled=1 for these runs only, which adds two clock reads per program run), for a 1-second malloc loop at three depths; a pair runs alloc_enter, alloc_exit and free_enter once each. The trap and uprobe dispatch around the programs are not in these figures: they are the floor.',
      '',
      ...table(['frames', 'program', 'calls', 'leakhound ns per call', 'floor ns per call'], rows),
      '',
      ...codeBlock([
        'sysctl -w kernel.bpf_stats_enabled=1',
        'node dist/src/cli/main.js trace --json $OUT -- .output/bench/malloc-loop -T 1000 -h -d DEPTH   # at "holding": bpftool prog show -j',
        'node dist/bench/tools/trace-runner.js --floor --json $OUT -- .output/bench/malloc-loop -T 1000 -h -d DEPTH',
      ]),
      '',
    ],
  };
}
