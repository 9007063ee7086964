// --out DIR writes report.json, leaks.folded and flamegraph.svg; the folded
// lines add up to the report's outstanding bytes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { runCli } from '../helpers/cli.js';
import { fixtureBinary, loadExpectation, siteBytes } from '../helpers/expectations.js';
import { readReport } from '../helpers/report.js';
import { isSymbol } from '../helpers/symbols.js';
import { scratchDir } from '../helpers/tmp.js';

/** `a;b;c 123` lines as [frames, count]. */
function parseFolded(text: string): Array<[string[], number]> {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const m = line.match(/^(.+) (\d+)$/);
      assert.ok(m, `folded line: ${JSON.stringify(line)}`);
      return [m[1]!.split(';'), Number(m[2])];
    });
}

test('out: --out DIR writes the report, folded stacks and a flame graph', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const e = loadExpectation('allocators');
  const out = path.join(scratchDir(t), 'out');
  const run = await runCli(['trace', '--out', out, '--', fixtureBinary(e)]);
  assert.equal(run.code, 0, `stderr: ${run.stderr}`);

  const report = readReport(path.join(out, 'report.json'));
  assert.equal(report.totals.outstandingBytes, e.inUseAtExit.bytes);

  const folded = parseFolded(readFileSync(path.join(out, 'leaks.folded'), 'utf8'));
  assert.equal(
    folded.reduce((sum, [, n]) => sum + n, 0),
    report.totals.outstandingBytes,
    'folded counts add up to the outstanding bytes',
  );
  const large = e.sites.find((s) => s.symbol === 'site_malloc_large')!;
  const largeLines = folded.filter(([frames]) => frames.some((f) => isSymbol(f, 'site_malloc_large')));
  assert.deepEqual(
    largeLines.map(([, n]) => n),
    [siteBytes(large)],
    'one folded line through site_malloc_large, with its bytes',
  );

  const svg = readFileSync(path.join(out, 'flamegraph.svg'), 'utf8');
  assert.match(svg, /<svg[\s>]/);
  assert.match(svg, /site_malloc_large/);
});
