// --interval S prints a summary line on stderr every S seconds while tracing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { traceCommand } from '../helpers/trace.js';

test('interval: a summary line every interval, on stderr', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const { run, report } = await traceCommand(t, ['/bin/sleep', '1.5'], ['--interval', '0.3']);
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stderr.split('\n').filter((line) => /^leakhound: \d+\.\ds: \d+ bytes outstanding in \d+ allocations \(\d+ allocations, \d+ frees, \d+ events lost\)$/.test(line));
  assert.ok(lines.length >= 3 && lines.length <= 6, `summary lines: ${JSON.stringify(run.stderr)}`);
  assert.equal(run.stdout, '', 'stdout is the command\'s, and sleep writes nothing');
  assert.equal(report.schema, 'leakhound.report/v1');
});
