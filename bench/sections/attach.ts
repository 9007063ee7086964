// Issue 10, "Attach": leakhound attached with --pid to a process already
// running costs what it costs when it launched the process. Two targets: the
// malloc loop in its endless form and python3's http.server under requests.
import { writeFileSync, mkdirSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';

import type { Bench } from '../lib/bench.js';
import { fixed, grouped, raw, times } from '../lib/format.js';
import { attachTraced, launchTraced, startBare, Windows, type Traced } from '../lib/live.js';
import { loopCommand } from '../lib/loop.js';
import { codeBlock, table, type Section } from '../lib/markdown.js';
import { lineMatching, sleep } from '../lib/proc.js';
import { median, ratio } from '../lib/stats.js';

/** Windows (>= 100 ms each) dropped after the probes go on, then measured. */
const SETTLE_WINDOWS = 2;

export async function attachSection(bench: Bench): Promise<Section> {
  const reps = bench.quick ? 1 : 3;
  return {
    title: 'Attach',
    lines: [...(await loopAttach(bench, reps)), ...(await serverAttach(bench, reps))],
  };
}

/** Ends the target; leakhound sees it go, reports and exits. */
async function stop(traced: Traced): Promise<void> {
  process.kill(traced.pid, 'SIGTERM');
  await traced.done;
}

async function loopAttach(bench: Bench, reps: number): Promise<string[]> {
  const windows = bench.quick ? 4 : 10;
  const command = loopCommand(['-W', '-d', '18']);
  const launch: number[] = [];
  const attach: number[] = [];
  const bare: number[] = [];
  for (let rep = 1; rep <= reps; rep++) {
    bench.progress(`attach: malloc loop, rep ${rep}/${reps}, launch mode`);
    const launched = await launchTraced(command, `${bench.out('attach-launch')}.json`);
    launch.push(median(await new Windows(launched.stdout).after(SETTLE_WINDOWS, windows)));
    await stop(launched);

    bench.progress(`attach: malloc loop, rep ${rep}/${reps}, attach mode`);
    const target = startBare(command);
    const seen = new Windows(target.stdout!);
    bare.push(median(await seen.after(1, windows / 2)));
    const attached = await attachTraced(target, `${bench.out('attach-pid')}.json`);
    attach.push(median(await seen.after(seen.seen + SETTLE_WINDOWS, windows)));
    await stop(attached);
  }
  const launchNs = median(launch);
  const attachNs = median(attach);
  const bareNs = median(bare);
  return [
    '### Malloc loop (23 frames), endless form',
    '',
    `Each repetition: ns/pair as the median of ${windows} windows of at least 100 ms, after ${SETTLE_WINDOWS} windows are dropped once the probes are on. "bare" is the same process before leakhound attaches. Median over ${reps} repetitions, launch and attach alternating.`,
    '',
    ...table(
      ['mode', 'ns/pair', 'added over bare', 'raw ns/pair'],
      [
        ['bare (before attaching)', fixed(bareNs), '', raw(bare)],
        ['leakhound, launch mode', fixed(launchNs), fixed(launchNs - bareNs), raw(launch)],
        ['leakhound, attach mode (--pid)', fixed(attachNs), fixed(attachNs - bareNs), raw(attach)],
      ],
    ),
    '',
    `Attach / launch: ${times(ratio(attachNs, launchNs))} per pair, ${times(ratio(attachNs - bareNs, launchNs - bareNs))} on the added cost (target: within 5%, i.e. 0.95x-1.05x).`,
    '',
    ...codeBlock([
      `node dist/src/cli/main.js trace --json $OUT -- .output/bench/malloc-loop -W -d 18`,
      `.output/bench/malloc-loop -W -d 18 & node dist/src/cli/main.js trace --json $OUT --pid $!`,
    ]),
    '',
  ];
}

/** Sequential GETs of `/` (a directory listing), each on a new connection. */
async function requests(port: number, count: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
  }
  return (performance.now() - started) / count;
}

async function serverAttach(bench: Bench, reps: number): Promise<string[]> {
  const count = bench.quick ? 50 : 300;
  // A listing of 300 names: each request builds and encodes a page of about
  // 30 KB, enough for the interpreter to go to malloc many times.
  const root = path.join(bench.scratch, 'www');
  mkdirSync(root, { recursive: true });
  for (let i = 0; i < 300; i++) writeFileSync(path.join(root, `file-${String(i).padStart(4, '0')}-${'x'.repeat(i % 40)}.txt`), `${i}\n`);
  const command = ['/usr/bin/python3', '-u', '-m', 'http.server', '0', '--bind', '127.0.0.1', '--directory', root];
  const serving = /port (\d+)/;

  const modes = { bare: [] as number[], launch: [] as number[], attach: [] as number[] };
  const allocationsPerRequest: number[] = [];
  for (let rep = 1; rep <= reps; rep++) {
    bench.progress(`attach: http.server, rep ${rep}/${reps}, bare`);
    const plain = startBare(command);
    const port = Number((await lineMatching(plain.stdout!, serving, 30_000))[1]);
    await requests(port, 20);
    modes.bare.push(await requests(port, count));
    plain.kill('SIGTERM');

    bench.progress(`attach: http.server, rep ${rep}/${reps}, launch mode`);
    const launched = await launchTraced(command, `${bench.out('server-launch')}.json`);
    const launchPort = Number((await lineMatching(launched.stdout, serving, 30_000))[1]);
    await requests(launchPort, 20);
    modes.launch.push(await requests(launchPort, count));
    process.kill(launched.pid, 'SIGTERM');
    const { report } = await launched.done;
    if (report) allocationsPerRequest.push(report.totals.allocations / (count + 20));

    bench.progress(`attach: http.server, rep ${rep}/${reps}, attach mode`);
    const target = startBare(command);
    const attachPort = Number((await lineMatching(target.stdout!, serving, 30_000))[1]);
    await requests(attachPort, 20);
    const attached = await attachTraced(target, `${bench.out('server-pid')}.json`);
    // Let the first uretprobe hits and task-storage creation pass.
    await sleep(200);
    await requests(attachPort, 20);
    modes.attach.push(await requests(attachPort, count));
    await stop(attached);
  }
  const bareMs = median(modes.bare);
  const launchMs = median(modes.launch);
  const attachMs = median(modes.attach);
  return [
    '### python3 -m http.server',
    '',
    `Each repetition: ${count} sequential GETs of a 300-entry directory listing (new connection each), after 20 warm-up requests; ms per request. About ${grouped(median(allocationsPerRequest))} allocations per request (leakhound's count in launch mode, start-up included). Median over ${reps} repetitions; bare, launch and attach alternate.`,
    '',
    ...table(
      ['mode', 'ms/request', 'added over bare', 'raw ms/request'],
      [
        ['bare', fixed(bareMs, 3), '', raw(modes.bare, 3)],
        ['leakhound, launch mode', fixed(launchMs, 3), fixed(launchMs - bareMs, 3), raw(modes.launch, 3)],
        ['leakhound, attach mode (--pid)', fixed(attachMs, 3), fixed(attachMs - bareMs, 3), raw(modes.attach, 3)],
      ],
    ),
    '',
    `Attach / launch: ${times(ratio(attachMs, launchMs))} per request, ${times(ratio(attachMs - bareMs, launchMs - bareMs))} on the added cost.`,
    '',
    ...codeBlock([
      `python3 -u -m http.server 0 --bind 127.0.0.1 --directory $WWW   # bare, and under:`,
      `node dist/src/cli/main.js trace --json $OUT -- /usr/bin/python3 -u -m http.server 0 --bind 127.0.0.1 --directory $WWW`,
      `node dist/src/cli/main.js trace --json $OUT --pid $SERVER_PID`,
    ]),
    '',
  ];
}
