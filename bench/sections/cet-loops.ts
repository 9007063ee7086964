// Issue 18: allocators whose functions begin with endbr64, which the kernel
// single-steps where a uprobe sits on it. A C++ new/delete loop (every
// operator new in Debian's libstdc++), and malloc-loop on the CET-built
// allocator of the fixtures, preloaded. Each as a ratio to its floor: empty
// programs at the same sites, measured in the same run, repetitions alternating.
import type { Bench } from '../lib/bench.js';
import { fixed, raw, times } from '../lib/format.js';
import { threadLines } from '../lib/loop.js';
import { table, verdictsAndCommands, type Section } from '../lib/markdown.js';
import { cetAllocator, mallocLoop, newLoop } from '../lib/paths.js';
import { run } from '../lib/proc.js';
import { Cells, median, pairedRatio, ratio } from '../lib/stats.js';
import { shownArgv, shownCommand, TOOLS, type ToolId } from '../lib/tools.js';

interface Case {
  name: string;
  command: (loopMs: number) => string[];
  /** LD_PRELOAD for the whole tool command, leakhound's node included (the allocator serves it as glibc would). */
  preload: string | null;
}

const CASES: Case[] = [
  { name: "new/delete loop (libstdc++'s operator new)", command: (ms) => [newLoop, '-T', String(ms)], preload: null },
  { name: 'malloc loop on the preloaded CET allocator', command: (ms) => [mallocLoop, '-T', String(ms)], preload: cetAllocator },
];

const TOOL_IDS: ToolId[] = ['bare', 'floor', 'leakhound'];

/** One run's wall and CPU ns per pair. */
async function measure(bench: Bench, c: Case, id: ToolId, loopMs: number): Promise<{ wall: number; cpu: number }> {
  const argv = TOOLS[id].wrap(c.command(loopMs), bench.out(`cet-${id}`));
  const env = c.preload ? { ...process.env, LD_PRELOAD: c.preload } : process.env;
  const finished = await run(argv, 300_000, { env });
  const line = threadLines(finished.stdout)[0];
  if (finished.code !== 0 || !line) throw new Error(`${TOOLS[id].label}: exited ${finished.code ?? finished.signal}: ${finished.stderr.slice(-1500)}`);
  return { wall: line.ns_per_pair, cpu: line.cpu_ns_per_pair };
}

export async function cetLoopsSection(bench: Bench): Promise<Section> {
  const reps = bench.quick ? 1 : 11;
  const loopMs = bench.quick ? 200 : 700;
  const cells = new Cells();
  const cell = (c: Case, id: ToolId) => cells.get(c.name, id);
  const failures: string[] = [];
  for (let rep = 1; rep <= reps; rep++) {
    for (const c of CASES) {
      for (const id of TOOL_IDS) {
        bench.progress(`CET loops: rep ${rep}/${reps}, ${c.name}, ${TOOLS[id].label}`);
        let figures = { wall: NaN, cpu: NaN };
        try {
          figures = await measure(bench, c, id, loopMs);
        } catch (error) {
          failures.push(`rep ${rep}, ${c.name}, ${TOOLS[id].label}: ${(error as Error).message.slice(0, 400)}`);
        }
        cell(c, id).wall.push(figures.wall);
        cell(c, id).cpu.push(figures.cpu);
      }
    }
  }

  const lines: string[] = [
    `Each figure: the median of ${reps} repetitions (raw values in run order after it); each run loops for ${loopMs} ms, timed inside the program. wall and CPU as in the malloc loop above. Every probe sits past the functions' endbr64 where an emulated instruction allows it (\`leakhound trace --verbose\` says where).`,
    '',
  ];
  const verdicts: string[] = [];
  for (const c of CASES) {
    const floor = cell(c, 'floor');
    const leakhound = cell(c, 'leakhound');
    const rows = TOOL_IDS.map((id) => {
      const { wall, cpu } = cell(c, id);
      return [TOOLS[id].label, fixed(median(wall)), times(ratio(median(wall), median(floor.wall))), fixed(median(cpu)), times(ratio(median(cpu), median(floor.cpu))), raw(wall), raw(cpu)];
    });
    const cpuRatio = pairedRatio(leakhound.cpu, floor.cpu);
    const wallRatio = pairedRatio(leakhound.wall, floor.wall);
    verdicts.push(`${c.name}: leakhound ${times(cpuRatio)} the floor in CPU, ${times(wallRatio)} in wall time, medians of paired ratios (target at most 1.30x: ${cpuRatio <= 1.3 && wallRatio <= 1.3 ? 'met' : cpuRatio <= 1.3 ? 'met in CPU only' : 'NOT met'})`);
    lines.push(`### ${c.name}`, '', ...table(['tool', 'wall ns/pair', 'wall vs floor', 'CPU ns/pair', 'CPU vs floor', 'raw wall', 'raw CPU'], rows), '');
  }
  lines.push(
    ...verdictsAndCommands(
      verdicts,
      failures,
      CASES.flatMap((c) => TOOL_IDS.map((id) => `${c.preload ? `LD_PRELOAD=${shownArgv([c.preload])} ` : ''}${shownCommand(TOOLS[id], c.command(loopMs))}`)),
    ),
  );
  return { title: 'Loops on CET-built allocators (issue 18)', lines };
}
