// Issue 19, "stacks that reach the start": real Debian programs, built
// without frame pointers, traced by leakhound; per program, the share of the
// outstanding bytes at exit whose stack is complete (not partial, outermost
// frame where the process or a thread begins: lib/stack-check.ts), how deep
// the stacks are and how many frames have no name. Target: at least 95% of
// the bytes, for every program.
import path from 'node:path';

import type { Report } from '../../src/report/types.js';
import type { Bench } from '../lib/bench.js';
import { driverCompile } from '../lib/cxx-workload.js';
import { fixed, grouped } from '../lib/format.js';
import { readReport } from '../lib/loop.js';
import { codeBlock, table, type Section } from '../lib/markdown.js';
import { failureLines, lastLine, run } from '../lib/proc.js';
import { completeness, STACK_STARTS, type Completeness } from '../lib/stack-check.js';
import { median } from '../lib/stats.js';
import { shownArgv, TOOLS, type ToolId } from '../lib/tools.js';
import { prepareWorkloads, prepareXz, type Workload } from '../lib/workloads.js';
import { FIXED_LAYOUT, SEEDED_ENV } from './real-programs.js';

const TARGET = 0.95;

interface Program {
  workload: Workload;
  /** leakhound, or leakhound following children for a program that forks its work out. */
  tool: ToolId;
}

/** One row of the table: a program, or one process of a program that forked. */
interface Row {
  label: string;
  /** A whole program, which the target is about; a process of one is shown beside it. */
  judged: boolean;
  runs: Completeness[];
}

const share = (c: Completeness) => (c.outstandingBytes > 0 ? c.completeBytes / c.outstandingBytes : NaN);
const percent = (value: number) => (Number.isFinite(value) ? `${(value * 100).toFixed(1)}%` : 'n/a');

/** The whole report, then each process of it when it traced several. */
function measuredParts(name: string, report: Report): { label: string; judged: boolean; figures: Completeness }[] {
  const parts = [{ label: name, judged: true, figures: completeness(report.stacks, report.totals.outstandingBytes) }];
  const processes = report.processes ?? [];
  if (processes.length < 2) return parts;
  for (const p of processes) {
    const stacks = report.stacks.filter((stack) => stack.pids?.includes(p.pid));
    parts.push({ label: `${name}: ${p.command ? path.basename(p.command[0]) : `pid ${p.pid}`}`, judged: false, figures: completeness(stacks, p.outstandingBytes) });
  }
  return parts;
}

export async function stackCompletenessSection(bench: Bench): Promise<Section> {
  // The figures hardly move from run to run; a few runs show whether they do.
  const reps = bench.quick ? 1 : 3;
  const real = await prepareWorkloads(bench);
  const byName = (name: string) => real.find((w) => w.name === name) as Workload;
  const programs: Program[] = [
    { workload: byName('python3'), tool: 'leakhound' },
    { workload: byName('sqlite3'), tool: 'leakhound' },
    { workload: prepareXz(bench), tool: 'leakhound' },
    { workload: driverCompile(bench), tool: 'leakhoundFollow' },
  ];
  const rows = new Map<string, Row>();
  const failures: string[] = [];
  let walk = 'unknown';
  for (let rep = 1; rep <= reps; rep++) {
    for (const { workload, tool } of programs) {
      bench.progress(`stack completeness: rep ${rep}/${reps}, ${workload.name} under ${TOOLS[tool].label}`);
      const out = bench.out(`complete-${tool}`);
      const result = await run([...FIXED_LAYOUT, ...TOOLS[tool].wrap(workload.command, out)], 900_000, { env: SEEDED_ENV });
      const report = readReport(`${out}.json`);
      if (result.code !== 0 || !report) {
        failures.push(`rep ${rep}, ${workload.name}: exit ${result.code ?? result.signal}${report ? '' : ', no report'}: ${lastLine(result.stderr)}`);
        continue;
      }
      walk = report.capabilities?.stackWalk?.chosen ?? walk;
      for (const part of measuredParts(workload.name, report)) {
        const row = rows.get(part.label) ?? { label: part.label, judged: part.judged, runs: [] };
        row.runs.push(part.figures);
        rows.set(part.label, row);
      }
    }
  }

  const lowest = (row: Row) => row.runs.reduce((low, c) => (share(c) < share(low) ? c : low));
  const tableRows = [...rows.values()].map((row) => {
    const worst = lowest(row);
    const ends = worst.incompleteEnds.slice(0, 3).map(([frame, bytes]) => `${frame} ${percent(bytes / worst.outstandingBytes)}`);
    return [
      row.judged ? `**${row.label}**` : row.label,
      grouped(median(row.runs.map((c) => c.outstandingBytes))),
      grouped(median(row.runs.map((c) => c.stacks))),
      `**${percent(share(worst))}**`,
      row.runs.map((c) => percent(share(c))).join(', '),
      fixed(median(row.runs.map((c) => c.medianFrames)), 0),
      percent(median(row.runs.map((c) => c.unnamedFrames / c.frames))),
      grouped(median(row.runs.map((c) => c.partialStacks))),
      ends.join('; ') || '-',
    ];
  });
  const verdicts = [...rows.values()]
    .filter((row) => row.judged)
    .map((row) => {
      const value = share(lowest(row));
      return `- ${row.label}: ${percent(value)} of the outstanding bytes have complete stacks (lowest of ${row.runs.length} run${row.runs.length === 1 ? "" : "s"}), target at least ${percent(TARGET)}: ${value >= TARGET ? 'met' : '**NOT met**'}`;
    });
  const scratchShown = (argv: string[]) => argv.map((arg) => arg.replaceAll(bench.scratch, '$SCRATCH'));
  const envShown = Object.entries(SEEDED_ENV)
    .filter(([key, value]) => process.env[key] !== value)
    .map(([key, value]) => `${key}=${value}`);

  const lines = [
    `Each program traced by leakhound ${reps === 1 ? 'once' : `${reps} times`} (stack walk: ${walk}), as Debian ships it: built without frame pointers. From the JSON report at exit, per program: the bytes outstanding, and the share of them whose stack is **complete**: not marked partial, and its outermost frame one of ${STACK_STARTS.map((name) => `\`${name}\``).join(', ')} (where a process or a thread begins). Bytes whose stack could not be captured count as incomplete. Frames per stack: the median over the report's stacks; unnamed: the share of all their frames that have no symbol. g++ forks cc1plus and then as: it is traced with its children followed, and each process is shown apart below the whole (a stack counts for each process whose pids it lists).`,
    '',
    ...table(
      ['program', 'outstanding bytes', 'stacks', 'complete (share of bytes, lowest run)', 'each run', 'frames per stack (median)', 'unnamed frames', 'partial stacks', 'where the other stacks end (lowest run, share of bytes)'],
      tableRows,
    ),
    '',
    '**Verdicts** (issue 19: at least 95% of the outstanding bytes with stacks that reach the start, on every program)',
    '',
    ...verdicts,
    '',
    ...failureLines(failures),
    `Commands (\`$OUT\` a scratch prefix, \`$SCRATCH\` the scratch directory, where the bench writes xz's input: 6 MiB of words; every command run as \`setarch -R\` + the command, with ${envShown.join(' ')} in the environment):`,
    '',
    ...codeBlock(programs.map(({ workload, tool }) => shownArgv(scratchShown([...FIXED_LAYOUT, ...TOOLS[tool].wrap(workload.command, '$OUT')])))),
    '',
  ];
  return { title: 'Stacks that reach the start (issue 19)', lines };
}
