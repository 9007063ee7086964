// Issue 10, "Malloc loop": ns per malloc+free pair under every tool, as
// ratios to the floor measured in the same run, repetitions alternating.
// Issue 19: the same loop built without frame pointers, whose stacks can only
// be unwound from .eh_frame, against its own floor.
import path from 'node:path';

import { spawn } from 'node:child_process';

import type { Bench } from '../lib/bench.js';
import { fixed, raw, times } from '../lib/format.js';
import { loopCommand, runLoop, threadLines } from '../lib/loop.js';
import { codeBlock, table, type Section } from '../lib/markdown.js';
import { mallocLoop, mallocLoopNoFp } from '../lib/paths.js';
import { failureLines, finished, lineMatching, run, sleep } from '../lib/proc.js';
import { Cells, median, pairedRatio, ratio } from '../lib/stats.js';
import { frameName, isComplete } from '../lib/stack-check.js';
import { shownCommand, TOOLS, type ToolId } from '../lib/tools.js';

interface Variant {
  name: string;
  depth: number;
  tools: ToolId[];
  /** malloc-loop, or malloc-loop-nofp. */
  program: string;
  /** leakhound's CPU at most this many times the floor's. */
  target: number;
  /** The figure counts only if the stacks were whole: the loop's own frames all there and the walk reaching the start. */
  mustBeComplete: boolean;
}

const EBPF: ToolId[] = ['bare', 'floor', 'leakhound'];
const ALL: ToolId[] = ['bare', 'floor', 'leakhound', 'entryFloor', 'bpftraceMemleak', 'heaptrack', 'valgrind'];

// With malloc-loop -d D the walk finds D + 4 frames: pairs(), timed(),
// D - 1 descend() (the deepest one tail-calls timed()), run(), main() and
// __libc_start_call_main. Checked below against leakhound's own report.
// Without frame pointers, an unwinder that goes on past
// __libc_start_call_main finds __libc_start_main and _start too (25 frames).
const VARIANTS: Variant[] = [
  { name: 'shallow (5 frames)', depth: 1, tools: EBPF, program: mallocLoop, target: 1.3, mustBeComplete: false },
  { name: '23 frames', depth: 19, tools: ALL, program: mallocLoop, target: 1.3, mustBeComplete: false },
  { name: 'deep (80 frames, walk cut at 64)', depth: 76, tools: EBPF, program: mallocLoop, target: 1.3, mustBeComplete: false },
  { name: '23+ frames, no frame pointers (unwound from .eh_frame)', depth: 19, tools: EBPF, program: mallocLoopNoFp, target: 1.5, mustBeComplete: true },
];

/** The stack walk leakhound takes on this kernel by itself. Where that is the
 * direct-map walk, the copy walk (what kernels without it get) is measured
 * beside it; where it is the copy, the report says why. */
async function defaultWalk(bench: Bench): Promise<{ chosen: string; reason: string }> {
  const { report } = await runLoop(bench, TOOLS.leakhound, ['-l', '-n', '1', '-s', '1'], 120_000);
  return report?.capabilities?.stackWalk ?? { chosen: 'unknown', reason: 'no report' };
}

export async function mallocLoopSection(bench: Bench): Promise<Section> {
  const walk = await defaultWalk(bench);
  const variants = walk.chosen === 'direct-map' ? VARIANTS.map((v) => ({ ...v, tools: [...v.tools, 'leakhoundCopy' as ToolId] })) : VARIANTS;
  // Single paired ratios swing by 0.1-0.3x on this VM: enough of them for a steady median.
  const reps = bench.quick ? 1 : 11;
  // Every tool gets the same time, not the same count: per-pair costs span
  // four orders of magnitude, and a warm-up is amortized alike.
  const loopMs = bench.quick ? 200 : 700;
  const cells = new Cells();
  const cell = (v: Variant, tool: ToolId) => cells.get(v.name, tool);
  const failures: string[] = [];
  const args = (v: Variant) => ['-T', String(loopMs), '-d', String(v.depth)];

  for (let rep = 1; rep <= reps; rep++) {
    for (const variant of variants) {
      for (const id of variant.tools) {
        bench.progress(`malloc loop: rep ${rep}/${reps}, ${variant.name}, ${TOOLS[id].label}`);
        try {
          const result = await runLoop(bench, TOOLS[id], args(variant), 300_000, variant.program);
          cell(variant, id).wall.push(result.nsPerPair[0]);
          cell(variant, id).cpu.push(result.cpuNsPerPair[0]);
        } catch (error) {
          // One failed run leaves a gap, not a lost section; NaN keeps the
          // repetitions aligned for the paired ratios.
          cell(variant, id).wall.push(NaN);
          cell(variant, id).cpu.push(NaN);
          failures.push(`rep ${rep}, ${variant.name}, ${TOOLS[id].label}: ${(error as Error).message.slice(0, 400)}`);
        }
      }
    }
  }

  const bystanders: { id: ToolId; cpu: number }[] = [];
  for (const id of ['leakhound', 'entryFloor'] as ToolId[]) {
    bench.progress(`malloc loop: a bystander loop while ${TOOLS[id].label} traces another`);
    try {
      bystanders.push({ id, cpu: await bystander(bench, id) });
    } catch (error) {
      failures.push(`bystander under ${TOOLS[id].label}: ${(error as Error).message.slice(0, 400)}`);
    }
  }

  const lines: string[] = [
    `Each figure: the median of ${reps} repetitions (raw values in run order after it), every tool in turn within a repetition; each run loops for ${loopMs} ms (malloc-loop -T), timed inside the program, so no tool's start-up or report is counted.`,
    '',
    '- **wall**: elapsed time per pair, what the traced program feels. It includes the CPU other processes take from the target, among them the tracer\'s own reader on a 2-core machine that is also running other work.',
    '- **CPU**: the loop thread\'s own CPU time per pair (CLOCK_THREAD_CPUTIME_ID). Uprobe traps and BPF programs run on that thread; readers in other processes (leakhound\'s node, heaptrack_interpret) do not, so this isolates the in-process cost and is steadier on a shared machine.',
    '',
  ];
  const verdicts: string[] = [];
  const leakhoundCpu: { frames: number; ns: number }[] = [];
  lines.push(`leakhound's stack walk on this kernel: **${walk.chosen}** (${walk.reason}).`, '');
  for (const variant of variants) {
    const frames = await framesSeen(bench, variant);
    const floor = cell(variant, 'floor');
    const bare = cell(variant, 'bare');
    const rows = variant.tools.map((id) => {
      const c = cell(variant, id);
      const wall = median(c.wall);
      const cpu = median(c.cpu);
      return [
        TOOLS[id].label,
        fixed(wall),
        times(ratio(wall, median(floor.wall))),
        times(ratio(wall, median(bare.wall))),
        fixed(cpu),
        times(ratio(cpu, median(floor.cpu))),
        raw(c.wall),
        raw(c.cpu),
      ];
    });
    const leakhound = cell(variant, 'leakhound');
    const cpuRatio = pairedRatio(leakhound.cpu, floor.cpu);
    const wallRatio = pairedRatio(leakhound.wall, floor.wall);
    leakhoundCpu.push({ frames: frames.count, ns: median(leakhound.cpu) - median(floor.cpu) });
    if (variant.tools.includes('leakhoundCopy')) {
      const copy = cell(variant, 'leakhoundCopy');
      verdicts.push(`${variant.name}: the copy walk ${times(pairedRatio(copy.cpu, floor.cpu))} the floor in CPU, ${times(pairedRatio(copy.wall, floor.wall))} in wall time (medians of paired ratios), against the direct-map walk's ${times(pairedRatio(leakhound.cpu, floor.cpu))} and ${times(pairedRatio(leakhound.wall, floor.wall))}`);
    }
    const { target } = variant;
    let verdict = cpuRatio <= target && wallRatio <= target ? 'met' : cpuRatio <= target ? 'met in CPU only' : 'NOT met';
    if (variant.mustBeComplete && !frames.whole) verdict = `NOT met: the stacks were not whole, so the figure is not that of a full unwind`;
    verdicts.push(
      `${variant.name}: leakhound ${times(cpuRatio)} the floor in CPU, ${times(wallRatio)} in wall time, medians of the ${reps} paired ratios (each leakhound run over the floor run just before it; ratios per repetition in CPU: ${leakhound.cpu.map((v, i) => times(ratio(v, floor.cpu[i]))).join(', ')}) (target at most ${target.toFixed(2)}x: ${verdict}); frames in leakhound's stack of the loop's allocations: ${frames.text}`,
    );
    lines.push(
      `### ${variant.name} (${path.basename(variant.program)} -d ${variant.depth})`,
      '',
      ...table(['tool', 'wall ns/pair', 'wall vs floor', 'wall vs bare', 'CPU ns/pair', 'CPU vs floor', 'raw wall', 'raw CPU'], rows),
      '',
    );
  }
  // The frame-pointer loops: the no-frame-pointer one is another walk.
  const [shallow, , deep] = leakhoundCpu;
  const withHelper = cell(VARIANTS[1], 'bpftraceMemleak');
  const entryFloor = cell(VARIANTS[1], 'entryFloor');
  const perFrame = (deep.ns - shallow.ns) / (deep.frames - shallow.frames);
  const example = VARIANTS[1];
  lines.push(
    '**Verdicts**',
    '',
    ...verdicts.map((v) => `- ${v}`),
    `- leakhound's CPU above the floor: ${fixed(shallow.ns, 0)} ns per pair with ${shallow.frames} frames, ${fixed(deep.ns, 0)} ns with ${deep.frames}: about ${fixed(perFrame, 0)} ns per frame walked, ${fixed(shallow.ns - perFrame * shallow.frames, 0)} ns per pair besides the walk.`,
    `- The kernel's stack helper as the alternative (bpftrace's ustack is bpf_get_stackid; bpftrace 0.17 cannot probe at an offset, so only at the entry sites): the memleak-style script costs ${times(ratio(median(withHelper.cpu), median(entryFloor.cpu)))} its own entry-probed floor in CPU (${fixed(median(withHelper.cpu) - median(entryFloor.cpu), 0)} ns per pair for maps and stack), against leakhound's ${times(ratio(median(cell(VARIANTS[1], 'leakhound').cpu), median(cell(VARIANTS[1], 'floor').cpu)))} over its floor (${fixed(median(cell(VARIANTS[1], 'leakhound').cpu) - median(cell(VARIANTS[1], 'floor').cpu), 0)} ns).`,
    `- A bystander: another malloc loop (not traced) run while each tool traces the 23-frame loop costs ${bystanders.map((b) => `${fixed(b.cpu)} CPU ns/pair under ${TOOLS[b.id].label}`).join(', ')} (bare: ${fixed(median(cell(VARIANTS[1], 'bare').cpu))}). bpftrace 0.17 puts its uprobes on every process that maps libc, even with \`-c\`; leakhound's are filtered to the traced process.`,
    '',
    ...failureLines(failures),
    `Commands (${example.name}; \`$OUT\` a scratch prefix; the no-frame-pointer loop likewise with \`${path.basename(mallocLoopNoFp)}\`, built by bench/Makefile with \`-O2 -fomit-frame-pointer -fcf-protection=full\`; each variant's frames are read from \`-l -n 10 -s 777 -d DEPTH\` under leakhound):`,
    '',
    ...codeBlock([...ALL, 'leakhoundCopy' as ToolId].map((id) => shownCommand(TOOLS[id], loopCommand(args(example))))),
    '',
  );
  return { title: 'Malloc loop', lines };
}

/** How many frames leakhound reports for the loop's own allocations at this
 * depth: a leaking run, so the blocks (and their stack) outlive the trace.
 * Whole: the loop's own frames all named (leaks, timed, depth - 1 descend,
 * main), and the stack complete (lib/stack-check.ts). */
async function framesSeen(bench: Bench, variant: Variant): Promise<{ count: number; text: string; whole: boolean }> {
  const { report } = await runLoop(bench, TOOLS.leakhound, ['-l', '-n', '10', '-s', '777', '-d', String(variant.depth)], 120_000, variant.program);
  const stack = report?.stacks.find((s) => s.bytes === 7770);
  if (!stack) return { count: NaN, text: 'not found', whole: false };
  const named = (symbol: string) => stack.frames.filter((frame) => frame.symbol === symbol).length;
  const own = named('leaks') === 1 && named('timed') === 1 && named('descend') === variant.depth - 1 && named('main') === 1;
  const complete = isComplete(stack);
  const checks = [
    stack.truncated ? 'truncated' : '',
    stack.partial ? 'partial' : '',
    `${own ? 'all' : '**not all**'} of the loop's own frames (descend ${named('descend')} of ${variant.depth - 1})`,
    `${complete ? 'complete' : '**not complete**'}, outermost ${frameName(stack.frames.at(-1))}`,
  ];
  return { count: stack.frames.length, text: `${stack.frames.length} (${checks.filter(Boolean).join(', ')})`, whole: own && complete };
}

/** CPU ns per pair of an untraced loop run while `id` traces another one. */
async function bystander(bench: Bench, id: ToolId): Promise<number> {
  const [program, ...args] = TOOLS[id].wrap(loopCommand(['-T', '4000', '-d', '19']), bench.out('bystander'));
  const traced = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const done = finished(traced, 120_000);
  try {
    // Each tool says when its probes are in place: leakhound on stderr, bpftrace on stdout.
    await (id === 'leakhound' ? lineMatching(traced.stderr!, /attached to PID/, 60_000) : lineMatching(traced.stdout!, /^Attaching/, 60_000));
    await sleep(500);
    const other = await run(loopCommand(['-T', '500']), 60_000);
    return threadLines(other.stdout)[0]?.cpu_ns_per_pair ?? NaN;
  } finally {
    await done;
  }
}
