// Issue 10, "Loss": no event lost at the highest rate one traced thread
// produces; with two threads, and with a ring buffer made too small, lost
// events counted and shown in the report; and what happens when the reader
// falls behind by more than one batch.
import { spawn } from 'node:child_process';

import type { Report } from '../../src/report/types.js';
import type { Bench } from '../lib/bench.js';
import { grouped } from '../lib/format.js';
import { attachTraced } from '../lib/live.js';
import { loopCommand, runLoop } from '../lib/loop.js';
import { codeBlock, table, type Section } from '../lib/markdown.js';
import { mallocLoop, runnerPath } from '../lib/paths.js';
import { lineMatching } from '../lib/proc.js';
import { shownCommand, TOOLS, type Tool } from '../lib/tools.js';

/** The trace runner with a small ring buffer. */
function smallRing(bytes: number): Tool {
  return {
    id: 'leakhound',
    label: `leakhound, ${bytes / 1024} KiB ring buffer`,
    wrap: (command, out) => [process.execPath, runnerPath, '--ring-bytes', String(bytes), '--json', `${out}.json`, '--', ...command],
  };
}

interface Case {
  name: string;
  tool: Tool;
  args: string[];
  /** The loop's own allocations and frees; the program adds a few of its own. */
  allocations: number;
  frees: number;
}

export async function lossSection(bench: Bench): Promise<Section> {
  const n = bench.quick ? 200_000 : 1_000_000;
  const cases: Case[] = [
    { name: 'one thread, malloc only (every call an event)', tool: TOOLS.leakhound, args: ['-l', '-n', String(n), '-d', '19'], allocations: n, frees: 0 },
    { name: 'two threads, malloc+free pairs', tool: TOOLS.leakhound, args: ['-t', '2', '-n', String(n / 2), '-d', '19'], allocations: n, frees: n },
    { name: 'two threads, malloc+free pairs, 64 KiB ring', tool: smallRing(64 * 1024), args: ['-t', '2', '-n', String(n / 2), '-d', '19'], allocations: n, frees: n },
  ];
  const rows: string[][] = [];
  const commands: string[] = [];
  let warningShown = '';
  for (const c of cases) {
    bench.progress(`loss: ${c.name}`);
    const result = await runLoop(bench, c.tool, c.args, 600_000);
    const rate = result.nsPerPair.reduce((sum, ns) => sum + ((c.frees ? 2 : 1) * 1e9) / ns, 0);
    rows.push(lossRow(c.name, result.report, c.allocations, c.frees, rate));
    commands.push(shownCommand(c.tool, loopCommand(c.args)));
    if (c.tool !== TOOLS.leakhound) {
      warningShown = result.finished.stdout.split('\n').find((line) => line.includes('lost events')) ?? '(no line with "lost events")';
    }
  }
  bench.progress('loss: reader stalled while the target allocates');
  const stalled = await stalledReader(bench, bench.quick ? 200_000 : 400_000);
  rows.push(lossRow(stalled.name, stalled.report, stalled.expected, 0, NaN));
  return {
    title: 'Loss',
    lines: [
      '"expected" counts the loop\'s own calls; the program makes a few more (its first pair per thread, the stdout buffer), so "seen" may exceed it by a handful. "Silent shortfall": allocations missing from the report beyond those counted as lost or refused by a full table.',
      '',
      ...table(['case', 'events/s the target produced', 'allocations seen / expected', 'frees seen / expected', 'lostEvents in report', 'table full', 'silent shortfall'], rows),
      '',
      `Text report of the small-ring case: \`${warningShown}\``,
      '',
      `The stalled case: \`${stalled.how}\``,
      '',
      ...codeBlock(commands),
      '',
    ],
  };
}

function lossRow(name: string, report: Report | null, allocations: number, frees: number, rate: number): string[] {
  if (!report) return [name, '', 'no report', '', '', '', ''];
  const t = report.totals;
  // Frees of blocks whose allocation event was lost are missed too, so only
  // allocations tell silent loss apart from counted loss.
  const shortfall = allocations - t.allocations - t.lostEvents - t.tableFull;
  return [
    name,
    Number.isFinite(rate) ? grouped(rate) : 'n/a',
    `${grouped(t.allocations)} / ${grouped(allocations)}`,
    `${grouped(t.frees)} / ${grouped(frees)}`,
    grouped(t.lostEvents),
    grouped(t.tableFull),
    shortfall > 0 ? `**${grouped(shortfall)}**` : '0',
  ];
}

/**
 * leakhound is stopped (SIGSTOP) while the target makes `count` allocations,
 * then resumed: the ring buffer (32 MiB) holds them all, so whatever the
 * report misses was lost on the reading side.
 */
async function stalledReader(bench: Bench, count: number): Promise<{ name: string; report: Report | null; expected: number; how: string }> {
  const target = spawn(mallocLoop, ['-w', '-l', '-n', String(count), '-d', '19'], { stdio: ['ignore', 'pipe', 'ignore'] });
  await lineMatching(target.stdout!, /^ready/, 10_000);
  const traced = await attachTraced(target, `${bench.out('stalled')}.json`);
  const leakhoundPid = traced.leakhound.pid as number;
  process.kill(leakhoundPid, 'SIGSTOP');
  try {
    const finishedLoop = lineMatching(target.stdout!, /^\{"thread"/, 300_000);
    target.kill('SIGUSR1');
    await finishedLoop;
  } finally {
    process.kill(leakhoundPid, 'SIGCONT');
  }
  const { report } = await traced.done;
  return {
    name: `reader stopped while one thread mallocs ${grouped(count)} times`,
    report,
    expected: count,
    how: `malloc-loop -w -l -n ${count} -d 19; leakhound trace --pid; kill -STOP leakhound; kill -USR1 loop; (loop done) kill -CONT leakhound`,
  };
}
