// --min-size/--max-size keep only blocks within the bounds (the bounds are
// chosen between the fixture's sizes, so inclusive and exclusive readings
// agree); --older-than keeps blocks old enough; --top N lists the N largest
// stacks in the text report.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { assertStacksSane } from '../helpers/check-report.js';
import { runCli } from '../helpers/cli.js';
import { fixtureBinary, loadExpectation, siteBytes } from '../helpers/expectations.js';
import { siteFigures } from '../helpers/report.js';
import { fixtureBinaries } from '../helpers/paths.js';
import { traceCommand } from '../helpers/trace.js';

const e = loadExpectation('allocators');

test('filters: --min-size and --max-size bound the block size', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const [min, max] = [150, 4000];
  assert.ok(e.sites.every((s) => s.size !== min && s.size !== max));
  const { report } = await traceCommand(t, [fixtureBinary(e)], ['--min-size', String(min), '--max-size', String(max)]);
  const kept = e.sites.filter((s) => s.size >= min && s.size <= max);
  assert.ok(kept.length >= 2 && kept.length < e.sites.length, 'the bounds keep some sites and drop others');
  for (const site of e.sites) {
    const expected = kept.includes(site) ? { bytes: siteBytes(site), allocations: site.blocks } : { bytes: 0, allocations: 0 };
    assert.deepEqual(siteFigures(report, site.symbol), expected, `figures at ${site.symbol}`);
  }
  assertStacksSane(report);
});

test('filters: --older-than keeps the blocks made long enough before the report', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  // The fixture leaks at site_early, sleeps 1.5 s, leaks at site_late and exits.
  const { report } = await traceCommand(t, [path.join(fixtureBinaries, 'aging')], ['--older-than', '1000']);
  assert.deepEqual(siteFigures(report, 'site_early'), { bytes: 1000, allocations: 10 });
  assert.deepEqual(siteFigures(report, 'site_late'), { bytes: 0, allocations: 0 });
  const { report: all } = await traceCommand(t, [path.join(fixtureBinaries, 'aging')]);
  assert.deepEqual(siteFigures(all, 'site_late'), { bytes: 1000, allocations: 20 });
});

test('filters: --top N lists the N largest stacks in the text report', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const top = 3;
  // Every site is reached from one call line, so each is one stack.
  const bySize = [...e.sites].sort((a, b) => siteBytes(b) - siteBytes(a));
  assert.ok(siteBytes(bySize[top - 1]!) > siteBytes(bySize[top]!), 'no tie at the cut');
  // The fixture writes nothing on stdout: all there is the report.
  const run = await runCli(['trace', '--top', String(top), '--', fixtureBinary(e)]);
  assert.equal(run.code, 0, `stderr: ${run.stderr}`);
  // The heap's section: the descriptors' and mappings' sections after it name sites of their own.
  const heap = run.stdout.slice(0, run.stdout.search(/^descriptors: /m));
  const at = bySize.map((site) => heap.search(new RegExp(`\\b${site.symbol}\\b`)));
  const shown = at.slice(0, top);
  assert.ok(
    shown.every((position, i) => position >= 0 && (i === 0 || position > shown[i - 1]!)),
    `the ${top} largest sites, largest first:\n${run.stdout}`,
  );
  assert.deepEqual(at.slice(top), Array(bySize.length - top).fill(-1), `no other site:\n${run.stdout}`);
});
