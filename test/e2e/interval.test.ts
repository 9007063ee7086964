// --interval S prints a summary line on stderr every S seconds while tracing:
// the heap, and the descriptors and mappings held.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { withFds, withMappings } from '../helpers/resources.js';
import { traceCommand } from '../helpers/trace.js';

test('interval: a summary line every interval, on stderr', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const { run, report } = await traceCommand(t, ['/bin/sleep', '1.5'], ['--interval', '0.3']);
  assert.equal(run.code, 0, run.stderr);
  const summary = /^leakhound: \d+\.\ds: \d+ bytes outstanding in \d+ allocations \(\d+ allocations, \d+ frees, \d+ events lost\); (\d+) descriptors open, (\d+) bytes mapped$/;
  const lines = run.stderr.split('\n').filter((line) => summary.test(line));
  assert.ok(lines.length >= 3 && lines.length <= 6, `summary lines: ${JSON.stringify(run.stderr)}`);
  // sleep opens nothing it keeps once running; the loader's mappings were made before the attach.
  const last = summary.exec(lines[lines.length - 1])!;
  assert.equal(Number(last[1]), withFds(report).outstanding, 'the last line\'s open descriptors, as the report has them');
  assert.equal(Number(last[2]), withMappings(report).outstandingBytes, 'the last line\'s mapped bytes, as the report has them');
  assert.equal(run.stdout, '', 'stdout is the command\'s, and sleep writes nothing');
  assert.equal(report.schema, 'leakhound.report/v1');
});
