// Issue 10, "Attach": leakhound attached with --pid to a process already
// running costs what it costs when it launched the process. Two targets: the
// malloc loop in its endless form and sqlite3 answering queries as a server.
import type { Bench } from '../lib/bench.js';
import { fixed, grouped, raw, times } from '../lib/format.js';
import { attachTraced, launchTraced, startBare, Windows, type Timing, type Traced } from '../lib/live.js';
import { loopCommand } from '../lib/loop.js';
import { codeBlock, table, type Section } from '../lib/markdown.js';
import { requests, SQLITE_SERVER, timedRequests } from '../lib/sqlite-server.js';
import { median, pairedRatio, ratio } from '../lib/stats.js';

/** Both modes run the target with address randomization off: where its
 * stack lies against page boundaries decides whether the walk's one copy of
 * the stack meets a page the program never touched (then it takes two
 * copies), and the comparison is of the modes, not of two layouts. */
const FIXED_LAYOUT = ['setarch', '-R'];

/** Windows (>= 100 ms each) dropped after the probes go on, then measured. */
const SETTLE_WINDOWS = 2;

export async function attachSection(bench: Bench): Promise<Section> {
  return {
    title: 'Attach',
    lines: [...(await loopAttach(bench)), ...(await serverAttach(bench))],
  };
}

/** Ends the target; leakhound sees it go, reports and exits. */
async function stop(traced: Traced): Promise<void> {
  process.kill(traced.pid, 'SIGTERM');
  await traced.done;
}

/** Medians of a run of figures: wall and CPU time per pair or per request. */
function medians(runs: Timing[]): Timing {
  return { wall: median(runs.map((r) => r.wall)), cpu: median(runs.map((r) => r.cpu)) };
}

/** A mode's row: its medians, what they add over bare's, and every repetition. */
function modeRow(mode: string, runs: Timing[], bare: Timing[] | null, digits: number): string[] {
  const m = medians(runs);
  const b = bare && medians(bare);
  return [
    mode,
    fixed(m.wall, digits),
    b ? fixed(m.wall - b.wall, digits) : '',
    fixed(m.cpu, digits),
    b ? fixed(m.cpu - b.cpu, digits) : '',
    raw(runs.map((r) => r.wall), digits),
    raw(runs.map((r) => r.cpu), digits),
  ];
}

/** The verdict: each repetition's attach / launch ratio, their median; beside
 * it the ratio of medians and the ratio of the costs added over bare. */
function verdict(bare: Timing[], launch: Timing[], attach: Timing[], per: string): string {
  const [b, l, a] = [bare, launch, attach].map(medians);
  const paired = (of: keyof Timing) => times(pairedRatio(attach.map((r) => r[of]), launch.map((r) => r[of])));
  return `Attach / launch, per ${per} in CPU: **${paired('cpu')}** (median of paired ratios; ${times(ratio(a.cpu, l.cpu))} as a ratio of medians, ${times(ratio(a.cpu - b.cpu, l.cpu - b.cpu))} on the added cost); in wall time ${paired('wall')} (${times(ratio(a.wall - b.wall, l.wall - b.wall))} on the added cost). Target: within 5%, i.e. 0.95x-1.05x.`;
}

// Repetitions are cheap here, and single ones swing by 10% on this VM.
async function loopAttach(bench: Bench): Promise<string[]> {
  const reps = bench.quick ? 1 : 15;
  const windows = bench.quick ? 4 : 10;
  // Each loop on a core of its own, the cores swapped every repetition: the
  // two vCPUs of this guest do not always run at the same speed.
  const command = (cpu: number) => ['taskset', '-c', String(cpu), ...FIXED_LAYOUT, ...loopCommand(['-W', '-d', '19'])];
  const launch: Timing[] = [];
  const attach: Timing[] = [];
  const bare: Timing[] = [];
  for (let rep = 1; rep <= reps; rep++) {
    // Both modes run at once, one loop per core, and are measured over the
    // same seconds: on this VM the speed drifts by 10-20% between runs made
    // one after the other, and an attach/launch ratio of two runs mixes two
    // moods.
    bench.progress(`attach: malloc loop, rep ${rep}/${reps}, bare, then launch and attach modes side by side`);
    const attachCpu = rep % 2;
    const target = startBare(command(attachCpu));
    const seen = new Windows(target.stdout!);
    bare.push(medians(await seen.after(1, windows / 2)));
    const launched = await launchTraced(command(1 - attachCpu), `${bench.out('attach-launch')}.json`);
    const launchedSeen = new Windows(launched.stdout);
    const attached = await attachTraced(target, `${bench.out('attach-pid')}.json`);
    const [launchWindows, attachWindows] = await Promise.all([
      launchedSeen.after(launchedSeen.seen + SETTLE_WINDOWS, windows),
      seen.after(seen.seen + SETTLE_WINDOWS, windows),
    ]);
    launch.push(medians(launchWindows));
    attach.push(medians(attachWindows));
    await Promise.all([stop(launched), stop(attached)]);
  }
  return [
    '### Malloc loop (23 frames), endless form',
    '',
    `Each repetition runs the two modes at the same time, one loop pinned to each core (taskset; the cores swap every repetition): a loop launched under one leakhound and a loop another leakhound attached to with --pid, each measured as the median of ${windows} windows of at least 100 ms over the same seconds, after ${SETTLE_WINDOWS} windows are dropped once both are traced; wall time and the loop thread's CPU time. "bare" is the attach-mode process before anything else starts, alone on the machine. The verdict is the median over ${reps} repetitions of each repetition's attach / launch ratio.`,
    '',
    ...table(
      ['mode', 'wall ns/pair', 'wall added', 'CPU ns/pair', 'CPU added', 'raw wall', 'raw CPU'],
      [modeRow('bare (before attaching)', bare, null, 1), modeRow('leakhound, launch mode', launch, bare, 1), modeRow('leakhound, attach mode (--pid)', attach, bare, 1)],
    ),
    '',
    verdict(bare, launch, attach, 'pair'),
    '',
    ...codeBlock([
      `node dist/src/cli/main.js trace --json $OUT -- taskset -c 0 setarch -R .output/bench/malloc-loop -W -d 19   # at the same time as:`,
      `taskset -c 1 setarch -R .output/bench/malloc-loop -W -d 19 & node dist/src/cli/main.js trace --json $OUT --pid $!`,
    ]),
    '',
  ];
}

async function serverAttach(bench: Bench): Promise<string[]> {
  const reps = bench.quick ? 1 : 10;
  const count = bench.quick ? 10 : 40;
  const warmUp = 5;
  const command = [...FIXED_LAYOUT, ...SQLITE_SERVER];
  const modes = { bare: [] as Timing[], launch: [] as Timing[], attach: [] as Timing[] };
  const allocationsPerRequest: number[] = [];
  const launchMode = async (rep: number) => {
    bench.progress(`attach: sqlite3 server, rep ${rep}/${reps}, launch mode`);
    const launched = await launchTraced(command, `${bench.out('server-launch')}.json`);
    await requests(launched, 0, warmUp);
    modes.launch.push(await timedRequests(launched, launched.pid, warmUp, count));
    launched.stdin.end();
    const { report } = await launched.done;
    if (report) allocationsPerRequest.push(report.totals.allocations / (warmUp + count));
  };
  const attachMode = async (rep: number) => {
    bench.progress(`attach: sqlite3 server, rep ${rep}/${reps}, attach mode`);
    const target = startBare(command);
    const server = { stdin: target.stdin!, stdout: target.stdout! };
    await requests(server, 0, warmUp);
    const attached = await attachTraced(target, `${bench.out('server-pid')}.json`);
    await requests(attached, warmUp, warmUp);
    modes.attach.push(await timedRequests(attached, attached.pid, 2 * warmUp, count));
    attached.stdin.end();
    await attached.done;
  };
  for (let rep = 1; rep <= reps; rep++) {
    bench.progress(`attach: sqlite3 server, rep ${rep}/${reps}, bare`);
    const plain = startBare(command);
    const direct = { stdin: plain.stdin!, stdout: plain.stdout! };
    await requests(direct, 0, warmUp);
    modes.bare.push(await timedRequests(direct, plain.pid as number, warmUp, count));
    plain.stdin!.end();
    // The modes run one after the other, so the one that goes first swaps
    // every repetition: the machine's drift does not favour either.
    for (const mode of rep % 2 === 1 ? [launchMode, attachMode] : [attachMode, launchMode]) await mode(rep);
  }
  const { bare, launch, attach } = modes;
  return [
    '### sqlite3 serving queries on its stdin',
    '',
    `A long-running \`sqlite3 -interactive :memory:\` answers queries one at a time (each builds, sorts and sums 500 strings). Each repetition: ${count} requests after ${warmUp} warm-up requests (in attach mode, ${warmUp} more once attached); per request, the wall time and the server's own CPU time (/proc/PID/schedstat: the uprobe traps and BPF programs run on it, leakhound's reader does not). About ${grouped(median(allocationsPerRequest))} allocations per request (leakhound's count in launch mode, start-up included). Median over ${reps} repetitions; each runs bare, then the two modes one after the other, the first of them swapped every repetition. The verdict is the median of each repetition's attach / launch ratio.`,
    '',
    ...table(
      ['mode', 'wall ms/request', 'wall added', 'CPU ms/request', 'CPU added', 'raw wall', 'raw CPU'],
      [modeRow('bare', bare, null, 2), modeRow('leakhound, launch mode', launch, bare, 2), modeRow('leakhound, attach mode (--pid)', attach, bare, 2)],
    ),
    '',
    verdict(bare, launch, attach, 'request'),
    '',
    ...codeBlock([
      'setarch -R sqlite3 -interactive :memory:   # bare, fed queries on stdin; and under:',
      'node dist/src/cli/main.js trace --json $OUT -- setarch -R /usr/bin/sqlite3 -interactive :memory:',
      'node dist/src/cli/main.js trace --json $OUT --pid $SQLITE_PID',
    ]),
    '',
  ];
}
