// Issue 10, "Malloc loop": ns per malloc+free pair under every tool, as
// ratios to the floor measured in the same run, repetitions alternating.
import type { Bench } from '../lib/bench.js';
import { fixed, grouped, raw, times } from '../lib/format.js';
import { loopCommand, runLoop } from '../lib/loop.js';
import { codeBlock, table, type Section } from '../lib/markdown.js';
import { failureLines } from '../lib/proc.js';
import { median, ratio } from '../lib/stats.js';
import { shownCommand, TOOLS, type ToolId } from '../lib/tools.js';

interface Variant {
  name: string;
  depth: number;
  tools: ToolId[];
}

const EBPF: ToolId[] = ['bare', 'floor', 'leakhound'];
const ALL: ToolId[] = ['bare', 'floor', 'leakhound', 'entryFloor', 'bpftraceMemleak', 'heaptrack', 'valgrind'];

// malloc-loop -d D puts D descend() frames under pairs(); with pairs(),
// timed(), run(), main() and __libc_start_call_main the walk finds D + 5.
const VARIANTS: Variant[] = [
  { name: 'shallow (6 frames)', depth: 1, tools: EBPF },
  { name: '23 frames', depth: 18, tools: ALL },
  { name: 'deep (80 frames, walk cut at 64)', depth: 75, tools: EBPF },
];

/** Each timed loop runs about this long, whatever a pair costs under the tool. */
const LOOP_MS = 800;

interface Cell {
  pairs: number;
  values: number[];
}

export async function mallocLoopSection(bench: Bench): Promise<Section> {
  const reps = bench.quick ? 1 : 5;
  const loopMs = bench.quick ? 200 : LOOP_MS;
  const cells = new Map<string, Cell>();
  const failures: string[] = [];
  const key = (v: Variant, tool: ToolId) => `${v.name}/${tool}`;

  // A short run per tool sizes its loop; the floor takes leakhound's size so
  // the two compared most closely run the very same loop.
  for (const variant of VARIANTS) {
    for (const id of variant.tools) {
      if (id === 'floor') continue;
      const probe = id === 'bare' ? 1_000_000 : 5_000;
      bench.progress(`malloc loop: sizing ${TOOLS[id].label}, ${variant.name}`);
      const { nsPerPair } = await runLoop(bench, TOOLS[id], ['-n', String(probe), '-d', String(variant.depth)], 120_000);
      const pairs = Math.max(5_000, Math.min(20_000_000, Math.round((loopMs * 1e6) / Math.max(nsPerPair[0], 1) / 1000) * 1000));
      cells.set(key(variant, id), { pairs, values: [] });
      if (id === 'leakhound') cells.set(key(variant, 'floor'), { pairs, values: [] });
    }
  }

  for (let rep = 1; rep <= reps; rep++) {
    for (const variant of VARIANTS) {
      for (const id of variant.tools) {
        const cell = cells.get(key(variant, id)) as Cell;
        bench.progress(`malloc loop: rep ${rep}/${reps}, ${variant.name}, ${TOOLS[id].label}, ${grouped(cell.pairs)} pairs`);
        try {
          const result = await runLoop(bench, TOOLS[id], ['-n', String(cell.pairs), '-d', String(variant.depth)], 300_000);
          cell.values.push(result.nsPerPair[0]);
        } catch (error) {
          // One failed run leaves a gap, not a lost section.
          failures.push(`rep ${rep}, ${variant.name}, ${TOOLS[id].label}: ${(error as Error).message.slice(0, 400)}`);
        }
      }
    }
  }

  const lines: string[] = [
    `Each cell: the median of ${reps} repetitions (raw values in run order after it), every tool in turn within a repetition.`,
    'The loop times itself (clock_gettime around the malloc/free pairs), so no tool\'s start-up or report is counted.',
    '',
  ];
  const verdicts: string[] = [];
  for (const variant of VARIANTS) {
    const frames = await framesSeen(bench, variant.depth);
    const floor = median(cells.get(key(variant, 'floor'))!.values);
    const bare = median(cells.get(key(variant, 'bare'))!.values);
    const rows = variant.tools.map((id) => {
      const cell = cells.get(key(variant, id)) as Cell;
      const value = median(cell.values);
      return [TOOLS[id].label, grouped(cell.pairs), fixed(value), times(ratio(value, floor)), times(ratio(value, bare)), raw(cell.values)];
    });
    const leakhound = cells.get(key(variant, 'leakhound')) as Cell;
    const lhRatio = ratio(median(leakhound.values), floor);
    verdicts.push(`${variant.name}: leakhound ${times(lhRatio)} the floor (target at most 1.30x: ${lhRatio <= 1.3 ? 'met' : 'NOT met'}); frames in leakhound's stack of the loop's allocations: ${frames}`);
    lines.push(
      `### ${variant.name} (malloc-loop -d ${variant.depth})`,
      '',
      ...table(['tool', 'pairs per run', 'ns/pair (median)', 'vs floor', 'vs bare', 'raw ns/pair'], rows),
      '',
    );
  }
  const example = VARIANTS[1];
  lines.push(
    '**Verdicts**',
    '',
    ...verdicts.map((v) => `- ${v}`),
    '',
    ...failureLines(failures),
    `Commands (${example.name}; PAIRS from the sizing run, \`$OUT\` a scratch prefix):`,
    '',
    ...codeBlock(ALL.map((id) => shownCommand(TOOLS[id], loopCommand(['-n', 'PAIRS', '-d', String(example.depth)])))),
    '',
  );
  return { title: 'Malloc loop', lines };
}

/** How many frames leakhound reports for the loop's own allocations at this
 * depth: a leaking run, so the blocks (and their stack) outlive the trace. */
async function framesSeen(bench: Bench, depth: number): Promise<string> {
  const { report } = await runLoop(bench, TOOLS.leakhound, ['-l', '-n', '10', '-s', '777', '-d', String(depth)], 120_000);
  const stack = report?.stacks.find((s) => s.bytes === 7770);
  return stack ? `${stack.frames.length}${stack.truncated ? ' (truncated)' : ''}` : 'not found';
}
