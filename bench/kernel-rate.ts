// `leakhound kernel` under a kernel-allocation-heavy load: K processes open
// and close eventfds, pipes, sockets and epoll instances as fast as they can
// while the whole system is traced. K doubles until the ring buffer drops
// events (or K passes --max-churners); then the reader is stopped for a
// while under load, to show how lost events reach the report. Prints
// markdown tables. Root, after `make build`:
//
//   node dist/bench/kernel-rate.js [--seconds 5] [--max-churners 32] [--stall 4]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import type { Report } from '../src/report/types.js';
import { table } from './lib/markdown.js';
import { cliPath, repoRoot } from './lib/paths.js';
import { collect, finished, lineMatching, sleep } from './lib/proc.js';

const CHURN = path.join(repoRoot, '.output/fixtures/kernel-objects');

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    'max-churners': { type: 'string', default: '32' },
    stall: { type: 'string', default: '4' },
  },
});
const seconds = Number(values.seconds);
const maxChurners = Number(values['max-churners']);
const stallSeconds = Number(values.stall);

/** Starts K churners; stopping them yields their summed iterations. */
function churn(k: number): () => Promise<number> {
  const children = Array.from({ length: k }, () => spawn(CHURN, ['churn'], { stdio: ['ignore', 'pipe', 'inherit'] }));
  const outputs = children.map((child) => finished(child, (seconds + stallSeconds + 120) * 1000));
  return async () => {
    children.forEach((child) => child.kill('SIGTERM'));
    const done = await Promise.all(outputs);
    return done.reduce((sum, run) => sum + Number(/iterations (\d+)/.exec(run.stdout)?.[1] ?? NaN), 0);
  };
}

async function untraced(k: number): Promise<number> {
  const stop = churn(k);
  await sleep(seconds * 1000);
  return (await stop()) / seconds;
}

interface Traced {
  iterationsPerSecond: number;
  report: Report;
  /** The text report's counter line. */
  counters: string;
}

/** K churners for `seconds` under a whole-system trace; the reader is
 * stopped (SIGSTOP) for `stallMs` in the middle. */
async function traced(k: number, stallMs = 0): Promise<Traced> {
  const scratch = mkdtempSync(path.join(tmpdir(), 'leakhound-kernel-bench-'));
  try {
    // --out keeps the text report on stdout, next to report.json.
    const out = path.join(scratch, 'out');
    const cli: ChildProcess = spawn(process.execPath, [cliPath, 'kernel', '--out', out, '--top', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout = collect(cli.stdout);
    const stderr = collect(cli.stderr);
    // 'close', not 'exit': the report on stdout must have arrived.
    const exit = new Promise<number | null>((resolve) => cli.once('close', (code) => resolve(code)));
    await lineMatching(cli.stderr!, /^leakhound: attached/, 30_000);
    const stop = churn(k);
    const started = performance.now();
    if (stallMs > 0) {
      await sleep((seconds * 1000 - stallMs) / 2);
      cli.kill('SIGSTOP');
      await sleep(stallMs);
      cli.kill('SIGCONT');
    }
    await sleep(seconds * 1000 - (performance.now() - started));
    const iterations = await stop();
    cli.kill('SIGINT');
    const code = await exit;
    if (code !== 0) throw new Error(`leakhound kernel exited ${code}: ${stderr()}`);
    const counters = stdout().split('\n').find((line) => /lost events/.test(line)) ?? '';
    return { iterationsPerSecond: iterations / seconds, report: JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as Report, counters };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Ring-buffer records taken in, per second of trace: every recorded
 * allocation and free, and every record dropped. */
function eventsPerSecond(report: Report): number {
  const { allocations, frees, lostEvents } = report.totals;
  return (allocations + frees + lostEvents) / (report.durationMs / 1000);
}

const round = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const rows: string[][] = [];
  for (let k = 1; k <= maxChurners; k *= 2) {
    const base = await untraced(k);
    const run = await traced(k);
    const { lostEvents } = run.report.totals;
    rows.push([String(k), round(base), round(run.iterationsPerSecond), `${(base / run.iterationsPerSecond).toFixed(2)}x`, round(eventsPerSecond(run.report)), round(lostEvents)]);
    process.stderr.write(`churners ${k}: ${rows.at(-1)!.join(' | ')}\n`);
    if (lostEvents > 0) break;
  }
  console.log(`### Kernel tracer throughput (${seconds} s per row, whole system traced)\n`);
  console.log(table(['churners', 'churn iterations/s untraced', 'traced', 'slowdown', 'events/s taken in', 'lost events'], rows).join('\n'));

  const churners = 2;
  const stalled = await traced(churners, stallSeconds * 1000);
  console.log(`\n### Reader stopped for ${stallSeconds} s under ${churners} churners\n`);
  console.log(table(['events/s taken in', 'lost events', 'allocations', 'frees'], [[round(eventsPerSecond(stalled.report)), round(stalled.report.totals.lostEvents), round(stalled.report.totals.allocations), round(stalled.report.totals.frees)]]).join('\n'));
  console.log(`\nThe text report's counter line:\n\n    ${stalled.counters}`);
}

await main();
