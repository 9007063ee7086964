// Replays synthesized ring-buffer batches through the tracer's own ingest
// path (decodeBatch into a Ledger) and prints one JSON line of figures.
// Run it pinned to one core: `taskset -c 1 node dist/bench/ingest/replay.js`.
//
//   --events N --stacks N --live N --unknown-frees F --reps N   throughput
//   --alloc-only --events N --stacks N                            memory (needs node --expose-gc)
import { parseArgs } from 'node:util';

import { Ledger } from '../../src/aggregate/ledger.js';
import { decodeBatch } from '../../src/ingest/decode.js';
import { synthesize } from './synthesize.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '4000000' },
    stacks: { type: 'string', default: '5000' },
    live: { type: 'string', default: '50000' },
    'unknown-frees': { type: 'string', default: '0' },
    'alloc-only': { type: 'boolean', default: false },
    reps: { type: 'string', default: '5' },
  },
});

const batches = synthesize({
  events: Number(values.events),
  stacks: Number(values.stacks),
  liveTarget: Number(values.live),
  unknownFrees: Number(values['unknown-frees']),
  allocOnly: values['alloc-only'],
  batchRecords: 100_000,
});

function replay(ledger: Ledger): number {
  let events = 0;
  for (const batch of batches) events += decodeBatch(batch, ledger);
  return events;
}

if (values['alloc-only']) {
  // What the Ledger itself holds per outstanding allocation: the batches
  // exist before the first reading and after the last, so they cancel out.
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  const before = process.memoryUsage();
  const ledger = new Ledger();
  const events = replay(ledger);
  gc();
  const after = process.memoryUsage();
  process.stdout.write(
    `${JSON.stringify({
      events,
      outstanding: ledger.live.count,
      heapBytes: after.heapUsed - before.heapUsed,
      // `external` already includes `arrayBuffers`: alone, it counts the typed arrays once.
      externalBytes: after.external - before.external,
      rssBytes: after.rss - before.rss,
    })}\n`,
  );
} else {
  // Per wall second and per second of CPU: on a shared machine the core is
  // not always ours, and CPU time says what the code itself costs.
  const eventsPerSecond: number[] = [];
  const eventsPerCpuSecond: number[] = [];
  let outstanding = 0;
  for (let rep = 0; rep < Number(values.reps); rep++) {
    const ledger = new Ledger();
    const cpu = process.cpuUsage();
    const started = performance.now();
    const events = replay(ledger);
    const wallS = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    eventsPerSecond.push(events / wallS);
    eventsPerCpuSecond.push(events / ((used.user + used.system) / 1e6));
    outstanding = ledger.live.count;
  }
  process.stdout.write(`${JSON.stringify({ events: Number(values.events), outstanding, eventsPerSecond, eventsPerCpuSecond })}\n`);
}
