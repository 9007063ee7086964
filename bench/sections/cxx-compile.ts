// Issue 18, "a heavy real C++ program": Debian's cc1plus compiling a large
// translation unit (millions of allocator calls, its own operator new among
// them) bare, under the floor, under leakhound and under heaptrack, the tools
// alternating within each repetition. Targets: leakhound's added CPU at most
// 1.5x the floor's and at most a quarter of heaptrack's. heaptrack only
// records (--raw): its interpreter fails on this input (lib/tools.ts), so its
// figures are a lower bound of its cost, and the ratio to it a harsh one.
import type { Bench } from '../lib/bench.js';
import { prepareCxxCompile } from '../lib/cxx-workload.js';
import { grouped, ms, raw, times } from '../lib/format.js';
import { readReport } from '../lib/loop.js';
import { codeBlock, table, type Section } from '../lib/markdown.js';
import { failureLines, lastLine, run } from '../lib/proc.js';
import { median, pairedRatio } from '../lib/stats.js';
import { shownArgv, TOOLS, type ToolId } from '../lib/tools.js';
import type { Workload } from '../lib/workloads.js';
import { childCpuMs, FIXED_LAYOUT, pairSums, STARTUP, withCpuTime } from './real-programs.js';

const HEAPTRACK: ToolId = 'heaptrackRaw';
const TOOL_IDS: ToolId[] = ['bare', 'floor', 'leakhound', HEAPTRACK];

/** One figure per repetition, NaN where a run failed: pairs of repetitions must stay aligned. */
interface Runs {
  wallMs: number[];
  /** User + system time of the whole tool command: the command and the tool's own processes (leakhound's node, heaptrack's compressor), from bash's `times`. */
  treeCpuMs: number[];
  /** The command's own CPU time, where the uprobe traps and BPF programs are paid: bare's tree; the floor's and leakhound's reports (wait4). heaptrack's is not told apart from its tree (its process is the command's). */
  ownCpuMs: number[];
  /** leakhound's report: allocations + frees. */
  calls: number[];
}
type Measure = 'wallMs' | 'treeCpuMs' | 'ownCpuMs';

/** The whole tool command, as every run is made and as RESULTS.md shows it. */
const wrapped = (id: ToolId, command: string[], out: string) => [...FIXED_LAYOUT, ...withCpuTime(TOOLS[id].wrap(command, out), `${out}.times`)];

async function measure(bench: Bench, workload: Workload, id: ToolId): Promise<Record<keyof Runs, number>> {
  const out = bench.out(`cxx-${id}`);
  const result = await run(wrapped(id, workload.command, out), 900_000);
  if (result.code !== 0) throw new Error(`exit ${result.code ?? result.signal}: ${lastLine(result.stderr)}`);
  const treeCpuMs = childCpuMs(`${out}.times`);
  const report = readReport(`${out}.json`);
  return {
    wallMs: result.wallMs,
    treeCpuMs,
    ownCpuMs: id === 'bare' ? treeCpuMs : (report?.target.cpuMs ?? NaN),
    calls: id === 'leakhound' && report ? report.totals.allocations + report.totals.frees : NaN,
  };
}

export async function cxxCompileSection(bench: Bench): Promise<Section> {
  // Three pairs of repetitions: the verdicts are medians over pairs.
  const reps = bench.quick ? 1 : 6;
  const { preprocess, workload } = await prepareCxxCompile(bench);
  const runs = new Map<string, Runs>();
  const at = (w: Workload, id: ToolId) => {
    const key = `${w.name}/${id}`;
    if (!runs.has(key)) runs.set(key, { wallMs: [], treeCpuMs: [], ownCpuMs: [], calls: [] });
    return runs.get(key) as Runs;
  };
  const failures: string[] = [];
  for (let rep = 1; rep <= reps; rep++) {
    // Every other repetition in reverse, as in "Real programs".
    const order = rep % 2 ? TOOL_IDS : [...TOOL_IDS].reverse();
    for (const w of [STARTUP, workload]) {
      for (const id of order) {
        bench.progress(`C++ compiler: rep ${rep}/${reps}, ${w.name} under ${TOOLS[id].label}`);
        let figures: Record<keyof Runs, number> = { wallMs: NaN, treeCpuMs: NaN, ownCpuMs: NaN, calls: NaN };
        try {
          figures = await measure(bench, w, id);
        } catch (error) {
          failures.push(`rep ${rep}, ${w.name} under ${TOOLS[id].label}: ${(error as Error).message}`);
        }
        const cell = at(w, id);
        for (const key of Object.keys(figures) as (keyof Runs)[]) cell[key].push(figures[key]);
      }
    }
  }

  const startup = (id: ToolId, m: Measure) => median(at(STARTUP, id)[m]);
  /** Per repetition: the tool's figure less its start-up (median on /bin/true), less bare's likewise in the same repetition. */
  const added = (id: ToolId, m: Measure) => at(workload, id)[m].map((v, i) => v - startup(id, m) - (at(workload, 'bare')[m][i] - startup('bare', m)));
  /** Over pairs of repetitions (forwards, then backwards), each side summed over its pair. */
  const versus = (a: ToolId, b: ToolId, m: Measure) => pairedRatio(pairSums(added(a, m)), pairSums(added(b, m)));
  const calls = median(at(workload, 'leakhound').calls);

  const perTool = TOOL_IDS.map((id) => {
    const cell = at(workload, id);
    return [TOOLS[id].label, ms(median(cell.wallMs)), ms(startup(id, 'wallMs')), ms(median(cell.treeCpuMs)), ms(startup(id, 'treeCpuMs')), ms(median(cell.ownCpuMs)), raw(cell.wallMs, 0), raw(cell.treeCpuMs, 0), raw(cell.ownCpuMs, 0)];
  });
  const addedRows = TOOL_IDS.filter((id) => id !== 'bare').map((id) => {
    const own = median(added(id, 'ownCpuMs'));
    const tree = median(added(id, 'treeCpuMs'));
    return [TOOLS[id].label, ms(own), ms(tree), ms(median(added(id, 'wallMs'))), grouped((own * 1e6) / calls), grouped((tree * 1e6) / calls)];
  });
  const ratioRows: [string, Measure][] = [
    ["command's CPU", 'ownCpuMs'],
    ['process tree CPU, net of start-up', 'treeCpuMs'],
    ['wall, net of start-up', 'wallMs'],
  ];
  const floorCpu = versus('leakhound', 'floor', 'ownCpuMs');
  const heaptrackCpu = versus('leakhound', HEAPTRACK, 'treeCpuMs');
  const verdict = (value: number, target: number) => {
    if (!Number.isFinite(value)) return '**not measured**';
    return value <= target ? 'met' : `**NOT met** (${times(value / target)} the target)`;
  };

  const lines = [
    `\`${workload.command[0]}\` (Debian's C++ compiler proper) on \`bench/programs/heavy-tu.cc\`, preprocessed once; ${grouped(calls)} allocator calls (allocations + frees in leakhound's report, median). ${reps} repetitions, each running every tool on /bin/true and then on the compile, the order reversed every other repetition; every run under \`setarch -R\` and inside bash, whose \`times\` gives the CPU time of the whole process tree.`,
    '',
    ...codeBlock([shownArgv(preprocess), shownArgv(workload.command)]),
    '',
    '### Each tool',
    '',
    'Medians; start-up: the same tool on /bin/true (loading and attaching BPF programs, writing the report). Process tree: user + system of everything the tool command ran (leakhound\'s node included; heaptrack with `--raw` only records, its compressor included, its interpreter, which fails on this input, not run). Command\'s CPU: cc1plus\'s own, where uprobe traps and BPF programs are paid (the floor\'s and leakhound\'s reports, wait4).',
    '',
    ...table(['tool', 'wall', 'start-up wall', 'process tree CPU', 'start-up tree CPU', "command's CPU", 'raw wall (ms)', 'raw tree CPU (ms)', "raw command's CPU (ms)"], perTool),
    '',
    '### Added cost',
    '',
    'Added = the tool\'s figure less its start-up, less bare\'s in the same repetition; medians. Per call: added CPU over leakhound\'s allocator calls.',
    '',
    ...table(['tool', "added command's CPU", 'added tree CPU', 'added wall', "ns per call (command's CPU)", 'ns per call (tree CPU)'], addedRows),
    '',
    'Ratios of added cost, medians over pairs of repetitions (each side summed over its pair):',
    '',
    ...table(
      ['measure', 'leakhound / floor (target 1.5x)', 'leakhound / heaptrack (target 0.25x)', 'floor / heaptrack'],
      ratioRows.map(([label, m]) => [label, times(versus('leakhound', 'floor', m)), m === 'ownCpuMs' ? 'n/a' : times(versus('leakhound', HEAPTRACK, m)), m === 'ownCpuMs' ? 'n/a' : times(versus('floor', HEAPTRACK, m))]),
    ),
    '',
    '**Verdicts**',
    '',
    `- leakhound's added CPU (the command's) ${times(floorCpu)} the floor's, target at most 1.5x: ${verdict(floorCpu, 1.5)}`,
    `- leakhound's added CPU (process trees, net of start-up) ${times(heaptrackCpu)} heaptrack's, target at most 0.25x: ${verdict(heaptrackCpu, 0.25)}`,
    '',
    ...failureLines(failures),
    'Commands (`$OUT` a scratch prefix; COMMAND the cc1plus line above, or /bin/true):',
    '',
    ...codeBlock(TOOL_IDS.map((id) => shownArgv(wrapped(id, ['COMMAND...'], '$OUT')))),
    '',
  ];
  return { title: 'A heavy C++ program: cc1plus (issue 18)', lines };
}
