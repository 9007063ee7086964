// --interval S prints a summary line on stderr every S seconds while tracing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { runCli } from '../helpers/cli.js';

test('interval: a summary line every interval, on stderr', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const run = await runCli(['trace', '--interval', '0.3', '--json', '-', '--', '/bin/sleep', '1.5']);
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stderr.split('\n').filter((line) => /^leakhound: \d+\.\ds: \d+ bytes outstanding in \d+ allocations \(\d+ allocations, \d+ frees, \d+ events lost\)$/.test(line));
  assert.ok(lines.length >= 3 && lines.length <= 6, `summary lines: ${JSON.stringify(run.stderr)}`);
  assert.equal(JSON.parse(run.stdout).schema, 'leakhound.report/v1', 'stdout holds only the JSON report');
});
