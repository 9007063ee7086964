// Issue 10, "Real programs": wall time of Debian programs bare and under each
// tool, each tool's fixed start-up (measured on /bin/true) shown apart and
// taken off; leakhound's added time against the floor's; leakhound's
// in-use-at-exit totals against valgrind's.
import type { Report } from '../../src/report/types.js';
import type { Bench } from '../lib/bench.js';
import { fixed, grouped, ms, raw, times } from '../lib/format.js';
import { readReport } from '../lib/loop.js';
import { codeBlock, table, type Section } from '../lib/markdown.js';
import { failureLines, lastLine, run } from '../lib/proc.js';
import { median, ratio } from '../lib/stats.js';
import { shownCommand, TOOLS, type ToolId } from '../lib/tools.js';
import { readHeapSummary, type HeapSummary } from '../lib/valgrind-log.js';
import { prepareWorkloads, type Workload } from '../lib/workloads.js';

const TOOL_IDS: ToolId[] = ['bare', 'floor', 'leakhound', 'heaptrack', 'valgrind'];
const STARTUP: Workload = { name: '/bin/true', kind: 'start-up', command: ['/bin/true'] };
// Python's string hashing is seeded at random: fix it, so every run of the
// interpreter does the same allocations.
const ENV = { ...process.env, PYTHONHASHSEED: '0' };

interface Runs {
  wallMs: number[];
  reports: Report[];
  heaps: HeapSummary[];
}

export async function realProgramsSection(bench: Bench): Promise<Section> {
  const reps = bench.quick ? 1 : 3;
  const workloads = await prepareWorkloads(bench);
  const runs = new Map<string, Runs>();
  const failures: string[] = [];
  const at = (w: Workload, id: ToolId) => {
    const k = `${w.name}/${id}`;
    if (!runs.has(k)) runs.set(k, { wallMs: [], reports: [], heaps: [] });
    return runs.get(k) as Runs;
  };

  for (let rep = 1; rep <= reps; rep++) {
    for (const workload of [STARTUP, ...workloads]) {
      for (const id of TOOL_IDS) {
        bench.progress(`real programs: rep ${rep}/${reps}, ${workload.name} under ${TOOLS[id].label}`);
        const out = bench.out(`real-${id}`);
        const result = await run(TOOLS[id].wrap(workload.command, out), 600_000, { env: ENV });
        if (result.code !== 0) {
          // One failed run leaves a gap, not a lost section.
          failures.push(`rep ${rep}, ${workload.name} under ${TOOLS[id].label}: exit ${result.code ?? result.signal}: ${lastLine(result.stderr)}`);
          continue;
        }
        const cell = at(workload, id);
        cell.wallMs.push(result.wallMs);
        const report = id === 'leakhound' ? readReport(`${out}.json`) : null;
        if (report) cell.reports.push(report);
        const heap = id === 'valgrind' ? readHeapSummary(`${out}.valgrind`) : null;
        if (heap) cell.heaps.push(heap);
      }
    }
  }

  const startup = (id: ToolId) => median(at(STARTUP, id).wallMs);
  const lines = [
    `Wall time of the whole tool command (spawn to exit), median of ${reps} alternating repetitions. "Net" takes off the same tool's median on /bin/true (its fixed start-up: loading, attaching, writing the report).`,
    '',
    '### Fixed start-up (/bin/true)',
    '',
    ...table(
      ['tool', 'median', 'raw (ms)'],
      TOOL_IDS.map((id) => [TOOLS[id].label, ms(startup(id)), raw(at(STARTUP, id).wallMs, 0)]),
    ),
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
        ['tool', 'median wall', 'net of start-up', 'net vs bare', 'raw wall (ms)'],
        TOOL_IDS.map((id) => [TOOLS[id].label, ms(median(at(workload, id).wallMs)), ms(net(id)), times(ratio(net(id), bareNet)), raw(at(workload, id).wallMs, 0)]),
      ),
      '',
    );
    const floorAdded = net('floor') - bareNet;
    const leakhoundAdded = net('leakhound') - bareNet;
    const calls = at(workload, 'leakhound').reports[0]?.totals;
    summary.push([
      workload.name,
      ms(bareNet),
      ms(floorAdded),
      ms(leakhoundAdded),
      times(ratio(leakhoundAdded, floorAdded)),
      calls ? grouped(calls.allocations + calls.frees) : 'n/a',
      calls ? fixed((leakhoundAdded * 1e6) / (calls.allocations + calls.frees), 0) : 'n/a',
    ]);
    exactness.push(compareWithValgrind(workload, at(workload, 'leakhound'), at(workload, 'valgrind')));
  }
  lines.push(
    '### leakhound\'s added time against the floor\'s',
    '',
    'Added = net time under the tool minus net bare time. Target: leakhound\'s added time at most 1.3x the floor\'s.',
    '',
    ...table(['program', 'bare (net)', 'floor added', 'leakhound added', 'leakhound / floor', 'allocator events (leakhound)', 'leakhound ns per event'], summary),
    '',
    '### In use at exit: leakhound against valgrind (`--run-libc-freeres=no`)',
    '',
    'leakhound: the report\'s outstanding totals when the command exited; valgrind: "in use at exit". Every repetition is listed when they differ.',
    '',
    ...table(['program', 'leakhound bytes in blocks', 'valgrind bytes in blocks', 'equal', 'leakhound allocations / frees', 'valgrind allocs / frees'], exactness),
    '',
    ...failureLines(failures),
    'Commands (`$OUT` a scratch prefix; PYTHONHASHSEED=0 in the environment of every run):',
    '',
    ...codeBlock(TOOL_IDS.map((id) => shownCommand(TOOLS[id], ['COMMAND...']))),
    '',
  );
  return { title: 'Real programs', lines };
}

function distinct(values: string[]): string {
  return [...new Set(values)].join('; ') || 'n/a';
}

function compareWithValgrind(workload: Workload, leakhound: Runs, valgrind: Runs): string[] {
  const ours = leakhound.reports.map((r) => `${grouped(r.totals.outstandingBytes)} in ${grouped(r.totals.outstandingAllocations)}`);
  const theirs = valgrind.heaps.map((h) => `${grouped(h.inUseBytes)} in ${grouped(h.inUseBlocks)}`);
  const equal = ours.length > 0 && theirs.length > 0 && distinct(ours) === distinct(theirs);
  return [
    workload.name,
    distinct(ours),
    distinct(theirs),
    equal ? 'yes' : '**no**',
    distinct(leakhound.reports.map((r) => `${grouped(r.totals.allocations)} / ${grouped(r.totals.frees)}`)),
    distinct(valgrind.heaps.map((h) => `${grouped(h.allocs)} / ${grouped(h.frees)}`)),
  ];
}
