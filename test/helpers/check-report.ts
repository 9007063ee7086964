// The checks every traced fixture must pass, from its expectation file.
import assert from 'node:assert/strict';
import { siteBytes, type Expectation } from './expectations.js';
import { siteFigures, stacksMentioning, type Report } from './report.js';

/** Exact bytes and blocks at every expected site. */
export function assertSites(report: Report, e: Expectation): void {
  for (const site of e.sites) {
    assert.deepEqual(
      siteFigures(report, site.symbol),
      { bytes: siteBytes(site), allocations: site.blocks },
      `figures at ${site.symbol}`,
    );
  }
}

/** Freed (or never seen) blocks leave no trace in any frame of any stack. */
export function assertAbsent(report: Report, e: Expectation): void {
  for (const symbol of e.absent) {
    assert.deepEqual(stacksMentioning(report, symbol), [], `no stack mentions ${symbol}`);
  }
}

/** Stacks sorted by bytes, largest first, none negative or empty. */
export function assertStacksSane(report: Report): void {
  for (const [i, s] of report.stacks.entries()) {
    assert.ok(s.bytes >= 0 && s.allocations >= 1, `stack ${i}: ${s.bytes} bytes in ${s.allocations} blocks`);
    assert.ok(s.frames.length >= 1, `stack ${i} has frames`);
    if (i > 0) assert.ok(report.stacks[i - 1]!.bytes >= s.bytes, `stack ${i} is not larger than stack ${i - 1}`);
  }
}

/** Totals: what was held at exit exactly; call counts at least the fixture's own; nothing lost. */
export function assertTotals(report: Report, e: Expectation): void {
  const t = report.totals;
  assert.deepEqual(
    { bytes: t.outstandingBytes, blocks: t.outstandingAllocations },
    e.inUseAtExit,
    'outstanding totals',
  );
  assert.ok(t.allocations >= e.ownCalls.allocations, `allocations ${t.allocations} >= ${e.ownCalls.allocations}`);
  assert.ok(t.frees >= e.ownCalls.frees, `frees ${t.frees} >= ${e.ownCalls.frees}`);
  assert.equal(t.lostEvents, 0, 'lost events');
}

export function assertReportMatches(report: Report, e: Expectation): void {
  assertSites(report, e);
  assertAbsent(report, e);
  assertStacksSane(report);
  assertTotals(report, e);
}
