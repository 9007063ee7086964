// Sites carry their source file and line: the fixtures are built with -g, and
// each one-line site function's allocator call sits on its definition line.
import assert from 'node:assert/strict';
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { fixtureBinary, loadExpectation } from '../helpers/expectations.js';
import { fixtureSources } from '../helpers/paths.js';
import { siteFrame, stacksAt } from '../helpers/report.js';
import { traceCommand } from '../helpers/trace.js';

/** Line numbers (1-based) of the sites written as `NOINLINE void *name(...) { return ...; }`. */
function oneLineSites(source: string): Map<string, number> {
  const lines = new Map<string, number>();
  source.split('\n').forEach((text, i) => {
    const m = text.match(/^NOINLINE void \*(\w+)\([^)]*\) \{ return .*; \}/);
    if (m) lines.set(m[1]!, i + 1);
  });
  return lines;
}

test('launch: allocation sites name their file and line', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const e = loadExpectation('allocators');
  const lines = oneLineSites(readFileSync(path.join(fixtureSources, 'allocators.c'), 'utf8'));
  const { report } = await traceCommand(t, [fixtureBinary(e)]);
  for (const site of e.sites) {
    for (const stack of stacksAt(report, site.symbol)) {
      const frame = siteFrame(stack)!;
      assert.equal(path.basename(frame.file ?? ''), 'allocators.c', `file of ${site.symbol}`);
      assert.equal(frame.module, realpathSync(fixtureBinary(e)), `module of ${site.symbol}`);
      const expected = lines.get(site.symbol);
      if (expected !== undefined) assert.equal(frame.line, expected, `line of ${site.symbol}`);
      else assert.ok(Number.isInteger(frame.line) && frame.line! > 0, `line of ${site.symbol}`);
    }
  }
});
