// Issue 10, "Memory": what one outstanding allocation costs, in BPF maps and
// in the Node process, with a million of them outstanding.
import { readFileSync } from 'node:fs';

import type { Bench } from '../lib/bench.js';
import { mapsOf, type MapInfo } from '../lib/bpf-objects.js';
import { fixed, grouped } from '../lib/format.js';
import { launchTraced } from '../lib/live.js';
import { loopCommand } from '../lib/loop.js';
import { codeBlock, table, type Section } from '../lib/markdown.js';
import { lineMatching, runOk, sleep } from '../lib/proc.js';
import { replayCommand } from './ingest.js';

interface Held {
  maps: MapInfo[];
  rssBytes: number;
  outstanding: number;
}

const MILLION = 1_000_000;
const BPF_F_NO_PREALLOC = 1;

function rssOf(pid: number): number {
  const kb = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return kb ? Number(kb[1]) * 1024 : NaN;
}

/** leakhound on a loop that leaks `count` blocks and then holds still. */
async function holding(bench: Bench, count: number): Promise<Held> {
  const traced = await launchTraced(loopCommand(['-l', '-h', '-n', String(count), '-d', '19']), `${bench.out('memory')}.json`);
  await lineMatching(traced.stdout, /^holding/, 600_000);
  // Several drains, so every event is in the Ledger before RSS is read.
  await sleep(500);
  const held = { maps: await mapsOf(traced.leakhound.pid as number), rssBytes: rssOf(traced.leakhound.pid as number) };
  process.kill(traced.pid, 'SIGUSR1');
  const { report } = await traced.done;
  return { ...held, outstanding: report?.totals.outstandingAllocations ?? NaN };
}

export async function memorySection(bench: Bench): Promise<Section> {
  const count = bench.quick ? 200_000 : MILLION;
  bench.progress('memory: leakhound holding 1,000 outstanding allocations');
  const small = await holding(bench, 1000);
  bench.progress(`memory: leakhound holding ${grouped(count)} outstanding allocations`);
  const large = await holding(bench, count);
  bench.progress('memory: Ledger replay of 1M outstanding allocations');
  const replay = JSON.parse(
    (await runOk(replayCommand(['--alloc-only', '--events', String(MILLION), '--stacks', '5000'], ['--expose-gc']), 600_000)).stdout,
  ) as { outstanding: number; heapBytes: number; externalBytes: number; rssBytes: number };

  const grown = large.outstanding - small.outstanding;
  const mapRows = large.maps.map((map) => {
    const before = small.maps.find((m) => m.name === map.name);
    return [
      map.name,
      map.type,
      grouped(map.max_entries),
      grouped(map.bytes_memlock),
      before ? grouped(before.bytes_memlock) : 'n/a',
      // Only a preallocated table costs the same per entry, used or not.
      map.type === 'hash' && !(map.flags & BPF_F_NO_PREALLOC) ? fixed(map.bytes_memlock / map.max_entries, 1) : '',
    ];
  });
  const memlock = (held: Held) => held.maps.reduce((sum, map) => sum + map.bytes_memlock, 0);
  return {
    title: 'Memory',
    lines: [
      `### BPF maps (leakhound holding ${grouped(large.outstanding)} outstanding allocations)`,
      '',
      'Read from bpftool for the map ids in /proc/PID/fdinfo of the leakhound process, while the target holds its blocks.',
      '',
      ...table(['map', 'type', 'max entries', 'memlock bytes', `memlock with ${grouped(small.outstanding)} outstanding`, 'bytes per entry (preallocated)'], mapRows),
      '',
      `All maps: ${grouped(memlock(large))} bytes with ${grouped(large.outstanding)} outstanding, ${grouped(memlock(small))} with ${grouped(small.outstanding)}: ${fixed((memlock(large) - memlock(small)) / grown, 1)} bytes per added outstanding allocation, ${fixed(memlock(large) / large.outstanding, 1)} per outstanding allocation with the fixed part (ring buffer, tables sized at load) spread over them. memlock does not count task storage, allocated per traced thread on its first allocator call.`,
      '',
      '### Node process',
      '',
      ...table(
        ['measure', `${grouped(small.outstanding)} outstanding`, `${grouped(large.outstanding)} outstanding`, 'bytes per added allocation'],
        [['leakhound process RSS (live trace)', grouped(small.rssBytes), grouped(large.rssBytes), fixed((large.rssBytes - small.rssBytes) / grown, 1)]],
      ),
      '',
      `Ledger alone (replay of ${grouped(replay.outstanding)} allocations, no frees, 5,000 stacks, after gc): JS heap ${fixed(replay.heapBytes / replay.outstanding, 1)} bytes, typed arrays ${fixed(replay.externalBytes / replay.outstanding, 1)} bytes, RSS ${fixed(replay.rssBytes / replay.outstanding, 1)} bytes per outstanding allocation.`,
      '',
      ...codeBlock([
        `node dist/src/cli/main.js trace --json $OUT -- .output/bench/malloc-loop -l -h -n ${count} -d 19   # then bpftool map show -j, /proc/PID/status`,
        'taskset -c 1 node --expose-gc dist/bench/ingest/replay.js --alloc-only --events 1000000 --stacks 5000',
      ]),
      '',
    ],
  };
}
