// Issue 10, "Real programs": wall time of Debian programs bare and under each
// tool, each tool's fixed start-up (measured on /bin/true) shown apart and
// taken off; leakhound's added time against the floor's, in the programs' own
// CPU time; leakhound's in-use-at-exit totals against valgrind's.
import { readFileSync } from 'node:fs';

import type { Report } from '../../src/report/types.js';
import type { Bench } from '../lib/bench.js';
import { grouped, ms, raw, times } from '../lib/format.js';
import { readReport } from '../lib/loop.js';
import { codeBlock, table, type Section } from '../lib/markdown.js';
import { failureLines, lastLine, run } from '../lib/proc.js';
import { median, pairedRatio, ratio } from '../lib/stats.js';
import { shownCommand, TOOLS, type ToolId } from '../lib/tools.js';
import { readHeapSummary, type HeapSummary } from '../lib/valgrind-log.js';
import { prepareWorkloads, type Workload } from '../lib/workloads.js';

const TOOL_IDS: ToolId[] = ['bare', 'floor', 'leakhound', 'heaptrack', 'valgrind'];
export const STARTUP: Workload = { name: '/bin/true', kind: 'start-up', command: ['/bin/true'] };
// Python's and Perl's hashing are seeded at random: fix them, so every run of
// an interpreter does the same allocations.
export const SEEDED_ENV = { ...process.env, PYTHONHASHSEED: '0', PERL_HASH_SEED: '0', PERL_PERTURB_KEYS: '0' };
// Address randomization off for the tool and all it starts: GCC's allocations
// depend on where mmap puts its GC pages (one 32 KiB block more or less from
// one run to the next), so only a fixed layout makes runs repeat exactly.
export const FIXED_LAYOUT = ['setarch', '-R'];

/** The bare command under bash, which writes the CPU time of the children it
 * waited for (`times`, to the millisecond) to `file`. leakhound and the floor
 * report the same figure for the command they launch (wait4's rusage). */
export const withCpuTime = (command: string[], file: string) => ['bash', '-c', 'out=$1; shift; "$@"; s=$?; times > "$out"; exit $s', 'bash', file, ...command];

/** bash's `times`: its own user and system time, then its children's (`0m1.234s 0m0.056s`). */
export function childCpuMs(file: string): number {
  const line = readFileSync(file, 'utf8').trim().split('\n')[1] ?? '';
  const parts = [...line.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60_000 + Number(m[2]) * 1000);
  return parts.length === 2 ? parts[0] + parts[1] : NaN;
}

interface Runs {
  wallMs: number[];
  /** leakhound's and the floor's own measure: release of the command to its exit seen. */
  tracedMs: number[];
  /** The command's own CPU time (bare, floor, leakhound), one per repetition, NaN where a run failed. */
  cpuMs: number[];
  reports: Report[];
  heaps: HeapSummary[];
}

/** The verdict's tools run often: one run's added CPU swings by 10-25% here.
 * heaptrack and valgrind, slow and only shown beside them, run less. */
const VERDICT_TOOLS: ToolId[] = ['bare', 'floor', 'leakhound'];
const SLOW_TOOL_REPS = 3;

export async function realProgramsSection(bench: Bench): Promise<Section> {
  const reps = bench.quick ? 1 : 10;
  const workloads = await prepareWorkloads(bench);
  const runs = new Map<string, Runs>();
  const failures: string[] = [];
  const at = (w: Workload, id: ToolId) => {
    const k = `${w.name}/${id}`;
    if (!runs.has(k)) runs.set(k, { wallMs: [], tracedMs: [], cpuMs: [], reports: [], heaps: [] });
    return runs.get(k) as Runs;
  };

  for (let rep = 1; rep <= reps; rep++) {
    for (const workload of [STARTUP, ...workloads]) {
      // Every other repetition runs the tools in reverse (bare, floor,
      // leakhound, then leakhound, floor, bare): over a pair of repetitions
      // a steady drift of the machine's speed weighs on each tool alike.
      const order = rep % 2 ? TOOL_IDS : [...TOOL_IDS].reverse();
      for (const id of order.filter((tool) => VERDICT_TOOLS.includes(tool) || rep <= SLOW_TOOL_REPS)) {
        bench.progress(`real programs: rep ${rep}/${reps}, ${workload.name} under ${TOOLS[id].label}`);
        const out = bench.out(`real-${id}`);
        const wrapped = TOOLS[id].wrap(workload.command, out);
        const result = await run([...FIXED_LAYOUT, ...(id === 'bare' ? withCpuTime(wrapped, `${out}.times`) : wrapped)], 600_000, { env: SEEDED_ENV });
        const cell = at(workload, id);
        if (result.code !== 0) {
          // One failed run leaves a gap, not a lost section.
          failures.push(`rep ${rep}, ${workload.name} under ${TOOLS[id].label}: exit ${result.code ?? result.signal}: ${lastLine(result.stderr)}`);
          cell.cpuMs.push(NaN);
          continue;
        }
        cell.wallMs.push(result.wallMs);
        const report = readReport(`${out}.json`);
        if (report) cell.tracedMs.push(report.durationMs);
        cell.cpuMs.push(id === 'bare' ? childCpuMs(`${out}.times`) : (report?.target.cpuMs ?? NaN));
        if (report && id === 'leakhound') cell.reports.push(report);
        const heap = id === 'valgrind' ? readHeapSummary(`${out}.valgrind`) : null;
        if (heap) cell.heaps.push(heap);
      }
    }
  }

  const startup = (id: ToolId) => median(at(STARTUP, id).wallMs);
  const lines = [
    `Wall time of the whole tool command (spawn to exit), median of ${reps} alternating repetitions (heaptrack and valgrind: the first ${Math.min(reps, SLOW_TOOL_REPS)}). "Net" takes off the same tool's median on /bin/true: its fixed start-up (for leakhound: loading and attaching the BPF programs, detaching them, writing the report). Every command runs under \`setarch -R\` (see "In use at exit").`,
    '',
    'leakhound and the floor also time the traced command themselves (the report\'s durationMs: from releasing the command to seeing it exit, checked every 50 ms, so up to 50 ms late); their added time below uses that, as the start-up they subtract from wall time is large and noisy here.',
    '',
    '### Fixed start-up (/bin/true)',
    '',
    ...table(['tool', 'median', 'raw (ms)'], TOOL_IDS.map((id) => [TOOLS[id].label, ms(startup(id)), raw(at(STARTUP, id).wallMs, 0)])),
    '',
  ];
  const summary: string[][] = [];
  const exactness: string[][] = [];
  for (const workload of workloads) {
    const net = (id: ToolId) => median(at(workload, id).wallMs) - startup(id);
    const bareNet = net('bare');
    lines.push(
      `### ${workload.name} (${workload.kind})`,
      '',
      ...codeBlock([shownCommand(TOOLS.bare, workload.command)]),
      '',
      ...table(
        ['tool', 'median wall', 'net of start-up', 'net vs bare', 'traced duration (own measure)', 'command\'s CPU', 'raw wall (ms)', 'raw traced (ms)', 'raw CPU (ms)'],
        TOOL_IDS.map((id) => {
          const cell = at(workload, id);
          return [TOOLS[id].label, ms(median(cell.wallMs)), ms(net(id)), times(ratio(net(id), bareNet)), ms(median(cell.tracedMs)), ms(median(cell.cpuMs)), raw(cell.wallMs, 0), raw(cell.tracedMs, 0), raw(cell.cpuMs, 0)];
        }),
      ),
      '',
    );
    const floorAdded = median(at(workload, 'floor').tracedMs) - bareNet;
    const leakhoundAdded = median(at(workload, 'leakhound').tracedMs) - bareNet;
    const cpuAdded = (id: ToolId) => at(workload, id).cpuMs.map((cpu, i) => cpu - at(workload, 'bare').cpuMs[i]);
    const calls = at(workload, 'leakhound').reports[0]?.totals;
    const events = calls ? calls.allocations + calls.frees : NaN;
    summary.push([
      workload.name,
      ms(median(at(workload, 'bare').cpuMs)),
      ms(median(cpuAdded('floor'))),
      ms(median(cpuAdded('leakhound'))),
      `**${times(pairedRatio(pairSums(cpuAdded('leakhound')), pairSums(cpuAdded('floor'))))}**`,
      times(ratio(leakhoundAdded, floorAdded)),
      ms(net('heaptrack') - bareNet),
      ms(net('valgrind') - bareNet),
      grouped(events),
      grouped((median(cpuAdded('leakhound')) * 1e6) / events),
    ]);
    exactness.push(compareWithValgrind(workload, at(workload, 'leakhound'), at(workload, 'valgrind')));
  }
  lines.push(
    '### Added time',
    '',
    'Target: leakhound\'s added time at most 1.3x the floor\'s. The verdict is in the command\'s own CPU time (user + system, the threads and the children it waited for; the uprobe traps and BPF programs run on the command\'s threads): bare from bash\'s `times`, under the floor and leakhound from the `target.cpuMs` of their reports (wait4). Added CPU = the tool\'s minus bare\'s in the same repetition; repetitions go in pairs, the second running the tools in reverse order, and the ratio is the median over pairs of leakhound\'s added CPU over the floor\'s, each summed over its pair. Beside it, the older measure in wall time: the traced duration (checked every 50 ms) minus the bare net wall time, medians. heaptrack and valgrind: net wall time minus bare\'s.',
    '',
    ...table(['program', 'bare CPU', 'floor added CPU', 'leakhound added CPU', 'leakhound / floor (CPU)', 'leakhound / floor (wall)', 'heaptrack added', 'valgrind added', 'allocator calls seen by leakhound', 'leakhound ns per call'], summary),
    '',
    '### In use at exit: leakhound against valgrind',
    '',
    'leakhound: the report\'s outstanding totals when the command exited; valgrind (`--run-libc-freeres=no --run-cxx-freeres=no`): "in use at exit". Distinct values over the repetitions, separated by `;`.',
    '',
    ...table(['program', 'leakhound: bytes in blocks', 'valgrind: bytes in blocks', 'equal', 'difference (first runs, when not equal)', 'leakhound: allocations / frees', 'valgrind: allocs / frees'], exactness),
    '',
    ...failureLines(failures),
    'Commands (`$OUT` a scratch prefix; each run as `setarch -R` + the command, PYTHONHASHSEED=0 PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0 in the environment; bare inside `bash -c \'out=$1; shift; "$@"; s=$?; times > "$out"; exit $s\' bash $OUT.times COMMAND...` for its CPU time):',
    '',
    ...codeBlock(TOOL_IDS.map((id) => shownCommand(TOOLS[id], ['COMMAND...']))),
    '',
  );
  return { title: 'Real programs', lines };
}

/** Sums of repetitions 1+2, 3+4, ...: each pair ran the tools forwards, then backwards. */
export function pairSums(values: number[]): number[] {
  const sums: number[] = [];
  for (let i = 0; i < values.length; i += 2) sums.push(values[i] + (values[i + 1] ?? 0));
  return sums;
}

function distinct(values: string[]): string {
  return [...new Set(values)].join('; ') || 'n/a';
}

/**
 * Every leakhound run against valgrind's values. A program whose allocations
 * vary from run to run (thread timing) varies under valgrind too: a leakhound
 * value valgrind also produced counts as equal.
 */
function compareWithValgrind(workload: Workload, leakhound: Runs, valgrind: Runs): string[] {
  const key = (bytes: number, blocks: number) => `${grouped(bytes)} in ${grouped(blocks)}`;
  const ours = leakhound.reports.map((r) => key(r.totals.outstandingBytes, r.totals.outstandingAllocations));
  const theirs = new Set(valgrind.heaps.map((h) => key(h.inUseBytes, h.inUseBlocks)));
  const matching = ours.filter((value) => theirs.has(value)).length;
  const varies = new Set(ours).size > 1 ? '; leakhound\'s own runs differ, so the program varies run to run' : '';
  let equal = `**no** (${matching} of ${ours.length} leakhound runs equal a valgrind run${varies})`;
  if (ours.length > 0 && matching === ours.length) equal = theirs.size === 1 ? 'yes' : 'yes (the program varies run to run, under valgrind too; every leakhound value is one valgrind gave)';
  const first = leakhound.reports[0]?.totals;
  const reference = valgrind.heaps[0];
  const difference =
    matching === ours.length || !first || !reference
      ? ''
      : `${grouped(first.outstandingBytes - reference.inUseBytes)} bytes, ${grouped(first.outstandingAllocations - reference.inUseBlocks)} blocks`;
  return [
    workload.name,
    distinct(ours),
    distinct([...theirs]),
    equal,
    difference,
    distinct(leakhound.reports.map((r) => `${grouped(r.totals.allocations)} / ${grouped(r.totals.frees)}`)),
    distinct(valgrind.heaps.map((h) => `${grouped(h.allocs)} / ${grouped(h.frees)}`)),
  ];
}
