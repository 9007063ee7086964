// A real Prometheus (Debian's) scrapes `leakhound trace --pid P
// --metrics-port PORT` attached to the growth fixture every second; its
// query API must show the outstanding bytes growing, the leaking stack's
// own series, and the stable cache's exact bytes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { stackLabel } from '../../src/metrics/stack-label.js';
import type { Frame } from '../../src/report/types.js';
import { attachTo } from '../helpers/attach.js';
import { runCli } from '../helpers/cli.js';
import { requireBpf } from '../helpers/bpf.js';
import { freePort } from '../helpers/free-port.js';
import { fixtureBinaries } from '../helpers/paths.js';
import { collect, exited, lineMatching } from '../helpers/process.js';
import { PROMETHEUS, requirePrometheusTool } from '../helpers/prometheus.js';
import { readReport, stacksAt } from '../helpers/report.js';
import { scratchDir } from '../helpers/tmp.js';

/** growth.c: 4000 bytes leaked per 20 ms tick; a 16-entry cache of 2000-byte entries. */
const LEAK_BYTES = 4000;
const CACHE_BYTES = 16 * 2000;

interface Prometheus {
  /** Instant query: each series' labels and its samples as [seconds, value]. */
  query(expr: string): Promise<{ metric: Record<string, string>; values: [number, number][] }[]>;
}

/** Prometheus on loopback, scraping `target` every second, its data in a scratch dir. */
async function startPrometheus(t: TestContext, target: string): Promise<Prometheus> {
  const dir = scratchDir(t);
  const port = await freePort();
  const config = path.join(dir, 'prometheus.yml');
  writeFileSync(config, `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: leakhound\n    static_configs:\n      - targets: ['${target}']\n`);
  mkdirSync(path.join(dir, 'data'));
  const server = spawn(PROMETHEUS, [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr = collect(server.stderr);
  t.after(async () => {
    server.kill('SIGTERM');
    await exited(server, 10_000);
  });
  const api = `http://127.0.0.1:${port}`;
  for (let waited = 0; !(await fetch(`${api}/-/ready`).then((r) => r.ok, () => false)); waited += 100) {
    assert.ok(waited < 15_000 && server.exitCode === null, `prometheus did not become ready: ${stderr()}`);
    await sleep(100);
  }
  return {
    async query(expr) {
      const response = await fetch(`${api}/api/v1/query?${new URLSearchParams({ query: expr })}`);
      const body = (await response.json()) as { status: string; data: { resultType: string; result: { metric: Record<string, string>; values?: [number, string][]; value?: [number, string] }[] } };
      assert.equal(body.status, 'success', JSON.stringify(body));
      return body.data.result.map((r) => ({ metric: r.metric, values: (r.values ?? [r.value!]).map(([at, v]): [number, number] => [at, Number(v)]) }));
    },
  };
}

test('Prometheus scrapes the growing outstanding bytes and the leaking stack', { timeout: 90_000 }, async (t) => {
  if (!requireBpf(t) || !requirePrometheusTool(t, PROMETHEUS)) return;
  const target = spawn(path.join(fixtureBinaries, 'growth'), [], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => target.kill('SIGKILL'));
  await lineMatching(target.stdout!, /^ready \d+$/, 5_000);
  const metricsPort = await freePort();
  const tracer = await attachTo(t, target.pid!, ['--metrics-port', String(metricsPort), '--no-fds', '--no-mappings', '--no-free-stacks']);
  const prometheus = await startPrometheus(t, `127.0.0.1:${metricsPort}`);

  // Five scrapes of the whole target (a second apart).
  let totals: [number, number][] = [];
  for (let waited = 0; totals.length < 5; waited += 500) {
    assert.ok(waited < 30_000, `fewer than 5 scrapes in 30 s: ${JSON.stringify(totals)}\n${tracer.stderr()}`);
    await sleep(500);
    totals = (await prometheus.query('leakhound_outstanding_bytes[1m]'))[0]?.values ?? [];
  }
  // 200,000 bytes a second leak; nothing else grows: every scrape holds more.
  for (let i = 1; i < totals.length; i++) {
    const [[before, was], [at, now]] = [totals[i - 1], totals[i]];
    assert.ok(now - was > 0.5 * (LEAK_BYTES / 0.02) * (at - before), `outstanding bytes grew by ${now - was} in ${at - before} s: ${JSON.stringify(totals)}`);
  }

  const leak = await prometheus.query('leakhound_stack_outstanding_bytes{stack=~"leak_request_context [0-9a-f]{8}"}[1m]');
  assert.equal(leak.length, 1, JSON.stringify(leak));
  const leakSamples = leak[0].values.map(([, v]) => v);
  assert.ok(leakSamples.length >= 5, JSON.stringify(leakSamples));
  assert.ok(leakSamples.every((v, i) => v % LEAK_BYTES === 0 && (i === 0 || v > leakSamples[i - 1])), `leak_request_context's series: ${JSON.stringify(leakSamples)}`);
  // Blocks and bytes come from one snapshot: exactly 4000 bytes a block.
  const blocks = await prometheus.query(`leakhound_stack_outstanding_allocations{stack="${leak[0].metric.stack}"}[1m]`);
  assert.deepEqual(blocks[0].values.map(([, v]) => v * LEAK_BYTES), leakSamples);
  // The cache, full since its 16th tick after the attach, holds 32,000 bytes at every scrape.
  const cache = await prometheus.query('leakhound_stack_outstanding_bytes{stack=~"cache_insert [0-9a-f]{8}"}[1m]');
  assert.deepEqual([...new Set(cache[0]?.values.map(([, v]) => v))], [CACHE_BYTES]);
  // The stack series of one scrape add up to its total; nothing was lost.
  const gap = await prometheus.query('leakhound_outstanding_bytes - on() sum(leakhound_stack_outstanding_bytes)');
  assert.deepEqual(gap[0].values.map(([, v]) => v), [0]);
  assert.deepEqual((await prometheus.query('leakhound_lost_events_total'))[0].values.map(([, v]) => v), [0]);

  tracer.cli.kill('SIGINT');
  const end = await exited(tracer.cli, 15_000);
  assert.deepEqual(end, { code: 0, signal: null }, tracer.stderr());
  // The label names the same stack as the report does, and held less than the report's end figure.
  const [reported] = stacksAt(readReport(tracer.json), 'leak_request_context');
  assert.equal(stackLabel(reported.frames as Frame[]), leak[0].metric.stack);
  assert.ok(reported.bytes > leakSamples.at(-1)!);
});

test('a metrics port in use: one line, exit 2, before anything is loaded or attached', { timeout: 30_000 }, async (t) => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.after(() => taken.close());
  const port = (taken.address() as { port: number }).port;
  const target = spawn(path.join(fixtureBinaries, 'growth'), [], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => target.kill('SIGKILL'));
  await lineMatching(target.stdout!, /^ready \d+$/, 5_000);
  const run = await runCli(['trace', '--pid', String(target.pid), '--metrics-port', String(port)]);
  assert.equal(run.code, 2);
  assert.equal(run.stderr, `leakhound: --metrics-port ${port}: 127.0.0.1:${port} is already in use: choose another port, or stop what listens there\n`);
  assert.equal(run.stdout, '');
  assert.equal(target.exitCode, null);
});
