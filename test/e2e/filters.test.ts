// --min-size/--max-size keep only blocks within the bounds (the bounds are
// chosen between the fixture's sizes, so inclusive and exclusive readings
// agree); --top N keeps the N largest stacks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { assertStacksSane } from '../helpers/check-report.js';
import { fixtureBinary, loadExpectation, siteBytes } from '../helpers/expectations.js';
import { siteFigures, stacksAt } from '../helpers/report.js';
import { isSymbol } from '../helpers/symbols.js';
import { ALL_STACKS, traceCommand } from '../helpers/trace.js';

const e = loadExpectation('allocators');

test('filters: --min-size and --max-size bound the block size', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const [min, max] = [150, 4000];
  assert.ok(e.sites.every((s) => s.size !== min && s.size !== max));
  const { report } = await traceCommand(t, [fixtureBinary(e)], [
    ...ALL_STACKS,
    '--min-size',
    String(min),
    '--max-size',
    String(max),
  ]);
  const kept = e.sites.filter((s) => s.size >= min && s.size <= max);
  assert.ok(kept.length >= 2 && kept.length < e.sites.length, 'the bounds keep some sites and drop others');
  for (const site of e.sites) {
    const expected = kept.includes(site) ? { bytes: siteBytes(site), allocations: site.blocks } : { bytes: 0, allocations: 0 };
    assert.deepEqual(siteFigures(report, site.symbol), expected, `figures at ${site.symbol}`);
  }
  assertStacksSane(report);
});

test('filters: --top N keeps the N largest stacks', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const top = 3;
  // Every site is reached from one call line, so each is one stack.
  const bySize = [...e.sites].sort((a, b) => siteBytes(b) - siteBytes(a));
  assert.ok(siteBytes(bySize[top - 1]!) > siteBytes(bySize[top]!), 'no tie at the cut');
  const { report } = await traceCommand(t, [fixtureBinary(e)], ['--top', String(top)]);
  assert.equal(report.stacks.length, top);
  bySize.slice(0, top).forEach((site, i) => {
    assert.ok(isSymbol(report.stacks[i]!.frames[0]!.symbol, site.symbol), `stack ${i} is ${site.symbol}`);
    assert.equal(stacksAt(report, site.symbol)[0]!.bytes, siteBytes(site));
  });
  assert.deepEqual(
    { bytes: report.totals.outstandingBytes, blocks: report.totals.outstandingAllocations },
    e.inUseAtExit,
    'totals count every stack, shown or not',
  );
});
