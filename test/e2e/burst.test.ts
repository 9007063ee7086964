// A drain that finds many batches waiting takes them all: libbpf consumes a
// record before handing it over, so a batch that is full must keep the
// record that filled it (a lost record here was neither reported nor counted).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { attachTo } from '../helpers/attach.js';
import { requireBpf } from '../helpers/bpf.js';
import { fixtureBinaries } from '../helpers/paths.js';
import { exited, lineMatching } from '../helpers/process.js';
import { readReport, siteFigures } from '../helpers/report.js';

const BLOCKS = 300_000; // test/fixtures/burst.c

test('burst: 300,000 allocations made while leakhound is stopped are all reported', { timeout: 60_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const target = spawn(path.join(fixtureBinaries, 'burst'), [], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => target.exitCode === null && target.kill('SIGKILL'));
  await lineMatching(target.stdout!, /^ready \d+$/, 5_000);
  const tracer = await attachTo(t, target.pid!);
  tracer.cli.kill('SIGSTOP');
  target.kill('SIGUSR1');
  await lineMatching(target.stdout!, /^done$/, 30_000);
  tracer.cli.kill('SIGCONT');
  assert.deepEqual(await exited(target, 10_000), { code: 0, signal: null });
  assert.deepEqual(await exited(tracer.cli, 30_000), { code: 0, signal: null }, tracer.stderr());
  const report = readReport(tracer.json);
  assert.equal(report.totals.lostEvents, 0);
  assert.deepEqual(siteFigures(report, 'site_burst'), { bytes: BLOCKS * 16, allocations: BLOCKS });
});
