// Ending an attached trace while the target is busy: whatever happens between
// the stop and the last probe coming off must not show up as leaks. sqlite3
// answers queries throughout; the trace is stopped (SIGINT) either while it
// is busy or a second after it went idle. The two reports should agree.
import type { Bench } from '../lib/bench.js';
import { grouped, ms, raw } from '../lib/format.js';
import { attachTraced, startBare } from '../lib/live.js';
import { codeBlock, table, type Section } from '../lib/markdown.js';
import { sleep } from '../lib/proc.js';
import { keepBusy, requests, SQLITE_SERVER } from '../lib/sqlite-server.js';
import { median } from '../lib/stats.js';

interface Ending {
  outstanding: number;
  bytes: number;
  unmatched: number;
  stopMs: number;
}

async function traceAndStop(bench: Bench, busyAtStop: boolean): Promise<Ending> {
  const target = startBare(SQLITE_SERVER);
  const server = { stdin: target.stdin!, stdout: target.stdout! };
  await requests(server, 0, 5);
  const traced = await attachTraced(target, `${bench.out('trace-end')}.json`);
  const stopBusy = keepBusy(server, 5);
  await sleep(2000);
  if (!busyAtStop) {
    await stopBusy();
    await sleep(1000);
  }
  const started = performance.now();
  traced.leakhound.kill('SIGINT');
  const { report } = await traced.done;
  const stopMs = performance.now() - started;
  if (busyAtStop) await stopBusy();
  target.stdin!.end();
  const t = report?.totals;
  return {
    outstanding: t?.outstandingAllocations ?? NaN,
    bytes: t?.outstandingBytes ?? NaN,
    unmatched: t ? t.allocations - t.frees : NaN,
    stopMs,
  };
}

export async function traceEndSection(bench: Bench): Promise<Section> {
  const reps = bench.quick ? 1 : 3;
  const endings = { idle: [] as Ending[], busy: [] as Ending[] };
  for (let rep = 1; rep <= reps; rep++) {
    for (const mode of ['idle', 'busy'] as const) {
      bench.progress(`trace end: rep ${rep}/${reps}, stopped while ${mode}`);
      endings[mode].push(await traceAndStop(bench, mode === 'busy'));
    }
  }
  const row = (mode: 'idle' | 'busy') => {
    const runs = endings[mode];
    const pick = (f: (e: Ending) => number) => runs.map(f);
    return [
      mode === 'idle' ? 'idle for 1 s before the stop' : 'busy at the stop',
      grouped(median(pick((e) => e.outstanding))),
      grouped(median(pick((e) => e.bytes))),
      grouped(median(pick((e) => e.unmatched))),
      ms(median(pick((e) => e.stopMs))),
      raw(pick((e) => e.outstanding), 0),
      raw(pick((e) => e.unmatched), 0),
    ];
  };
  return {
    title: 'Ending a trace on a busy process',
    lines: [
      `\`leakhound trace --pid\` on a long-running \`sqlite3 -interactive\` answering queries one after another; SIGINT after 2 s of traffic, either while the traffic goes on or 1 s after it stopped. Median over ${reps} repetitions, alternating. "allocations − frees" above "outstanding" are allocations whose address came back from malloc again before the trace saw its free (the report keeps only the last).`,
      '',
      ...table(['stopped', 'outstanding allocations', 'outstanding bytes', 'allocations − frees', 'SIGINT to exit', 'raw outstanding', 'raw allocations − frees'], [row('idle'), row('busy')]),
      '',
      'The same server, the same traffic: outstanding figures that grow when the stop falls in busy traffic are allocations whose frees the trace did not see.',
      '',
      ...codeBlock(['sqlite3 -interactive :memory:   # fed queries on stdin', 'node dist/src/cli/main.js trace --json $OUT --pid $SQLITE_PID   # SIGINT after 2 s']),
      '',
    ],
  };
}
