// Issue 20, "free stacks": what taking every free's stack (and remembering
// recently freed blocks with it, bounded) adds to the malloc loop. leakhound as
// it runs by default against leakhound --no-free-stacks, the difference over
// the floor run just before both, paired within each repetition.
import path from 'node:path';

import type { Bench } from '../lib/bench.js';
import { fixed, raw, times } from '../lib/format.js';
import { loopCommand, runLoop } from '../lib/loop.js';
import { table, verdictsAndCommands, type Section } from '../lib/markdown.js';
import { mallocLoop, mallocLoopNoFp } from '../lib/paths.js';
import { Cells, median, ratio } from '../lib/stats.js';
import { shownCommand, TOOLS, type ToolId } from '../lib/tools.js';

interface Variant {
  name: string;
  depth: number;
  /** malloc-loop, or malloc-loop-nofp. */
  program: string;
}

// The floor first in each repetition: both leakhound runs are set against it.
const TOOL_IDS: ToolId[] = ['floor', 'leakhound', 'leakhoundNoFreeStacks'];

// With -d 19 the walk finds 23 frames (malloc-loop.ts says which).
const VARIANTS: Variant[] = [
  { name: '23 frames', depth: 19, program: mallocLoop },
  { name: '23+ frames, no frame pointers (unwound from .eh_frame)', depth: 19, program: mallocLoopNoFp },
];

/** The bound: free stacks cost at most this much of the floor's CPU per pair. */
const TARGET = 0.1;

export async function freeStacksSection(bench: Bench): Promise<Section> {
  const reps = bench.quick ? 1 : 11;
  const loopMs = bench.quick ? 200 : 700;
  const cells = new Cells();
  const cell = (v: Variant, id: ToolId) => cells.get(v.name, id);
  const failures: string[] = [];
  const args = (v: Variant) => ['-T', String(loopMs), '-d', String(v.depth)];

  for (let rep = 1; rep <= reps; rep++) {
    for (const variant of VARIANTS) {
      for (const id of TOOL_IDS) {
        bench.progress(`free stacks: rep ${rep}/${reps}, ${variant.name}, ${TOOLS[id].label}`);
        let wall = NaN;
        let cpu = NaN;
        try {
          const result = await runLoop(bench, TOOLS[id], args(variant), 300_000, variant.program);
          [wall, cpu] = [result.nsPerPair[0], result.cpuNsPerPair[0]];
        } catch (error) {
          // NaN keeps the repetitions aligned for the paired figures.
          failures.push(`rep ${rep}, ${variant.name}, ${TOOLS[id].label}: ${(error as Error).message.slice(0, 400)}`);
        }
        cell(variant, id).wall.push(wall);
        cell(variant, id).cpu.push(cpu);
      }
    }
  }

  const lines: string[] = [
    `Each figure: the median of ${reps} repetitions (raw values in run order after it), within a repetition the floor, then leakhound (free stacks on, the default), then leakhound --no-free-stacks; each run loops for ${loopMs} ms (malloc-loop -T), timed inside the program. wall and CPU as in the malloc loop above.`,
    '',
    `The cost of free stacks: in each repetition, leakhound's CPU ns per pair less leakhound --no-free-stacks', over that repetition's floor; the median of those (target at most ${TARGET.toFixed(2)}x the floor).`,
    '',
  ];
  const verdicts: string[] = [];
  for (const variant of VARIANTS) {
    const floor = cell(variant, 'floor');
    const on = cell(variant, 'leakhound');
    const off = cell(variant, 'leakhoundNoFreeStacks');
    const rows = TOOL_IDS.map((id) => {
      const { wall, cpu } = cell(variant, id);
      return [TOOLS[id].label, fixed(median(wall)), times(ratio(median(wall), median(floor.wall))), fixed(median(cpu)), times(ratio(median(cpu), median(floor.cpu))), raw(wall), raw(cpu)];
    });
    const cpuNs = on.cpu.map((v, i) => v - off.cpu[i]);
    const wallNs = on.wall.map((v, i) => v - off.wall[i]);
    const cpuCost = cpuNs.map((ns, i) => ratio(ns, floor.cpu[i]));
    const wallCost = median(wallNs.map((ns, i) => ratio(ns, floor.wall[i])));
    const cost = median(cpuCost);
    verdicts.push(
      `${variant.name}: free stacks cost ${times(cost)} the floor in CPU (${fixed(median(cpuNs))} ns per pair), ${times(wallCost)} in wall time (${fixed(median(wallNs))} ns), medians over the ${reps} repetitions (per repetition in CPU: ${cpuCost.map(times).join(', ')}) (target at most ${TARGET.toFixed(2)}x: ${cost <= TARGET ? 'met' : 'NOT met'})`,
    );
    lines.push(
      `### ${variant.name} (${path.basename(variant.program)} -d ${variant.depth})`,
      '',
      ...table(['tool', 'wall ns/pair', 'wall vs floor', 'CPU ns/pair', 'CPU vs floor', 'raw wall', 'raw CPU'], rows),
      '',
    );
  }
  lines.push(...verdictsAndCommands(verdicts, failures, VARIANTS.flatMap((v) => TOOL_IDS.map((id) => shownCommand(TOOLS[id], loopCommand(args(v), v.program))))));
  return { title: 'Free stacks', lines };
}
