// A launched command keeps its stdin, stdout and stderr, and leakhound exits
// with the command's exit code (the widgets fixture exits with 3).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { fixtureBinary, loadExpectation } from '../helpers/expectations.js';
import { traceCommand } from '../helpers/trace.js';

test('launch: the command keeps its streams and its exit code', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const e = loadExpectation('widgets');
  const { run, report } = await traceCommand(t, [fixtureBinary(e)], undefined, 'gizmo\n');
  assert.equal(run.stdout, 'widgets: gizmo\n');
  assert.match(run.stderr, /^widgets: on stderr$/m);
  assert.equal(run.code, 3);
  assert.equal(report.target.exitCode, 3);
});
