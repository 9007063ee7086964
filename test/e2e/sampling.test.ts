// --sample-every N keeps each allocation with probability 1/N and scales the
// figures by N. The fixture alternates two sites, which would alias with a
// keep-every-N-th-call sampler.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { fixtureBinaries } from '../helpers/paths.js';
import { siteFigures } from '../helpers/report.js';
import { traceCommand } from '../helpers/trace.js';

const LEAKED = 2005; // test/fixtures/sampled.c
const EVERY = 10;

test('sampling: figures are scaled samples, within five standard deviations of the truth', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const { report } = await traceCommand(t, [path.join(fixtureBinaries, 'sampled')], ['--sample-every', String(EVERY), '--top', '1000']);
  const site = siteFigures(report, 'site_many');
  assert.equal(site.allocations % EVERY, 0, `scaled by ${EVERY}: ${site.allocations}`);
  // Kept samples are binomial(LEAKED, 1/EVERY); scaled, one standard
  // deviation is EVERY * sqrt(LEAKED * p * (1 - p)) ~ 134 blocks.
  const sd = EVERY * Math.sqrt(LEAKED * (1 / EVERY) * (1 - 1 / EVERY));
  assert.ok(Math.abs(site.allocations - LEAKED) <= 5 * sd, `${site.allocations} blocks, expected ${LEAKED} ± ${Math.round(5 * sd)}`);
  assert.equal(site.bytes, site.allocations * 64);
  assert.equal((report.totals as Record<string, unknown>).sampleEvery, EVERY);
  assert.equal(siteFigures(report, 'site_churn').allocations, 0, 'freed blocks stay freed');
});

test('sampling: without it the same run is exact', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const { report } = await traceCommand(t, [path.join(fixtureBinaries, 'sampled')]);
  assert.deepEqual(siteFigures(report, 'site_many'), { bytes: LEAKED * 64, allocations: LEAKED });
  assert.equal((report.totals as Record<string, unknown>).sampleEvery, undefined);
});
