// A command that execs another program (a shell, or wrappers such as env,
// nice or setarch): the blocks the first program held vanish with its
// address space, so the report's outstanding totals are the last program's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { assertTotals } from '../helpers/check-report.js';
import { fixtureBinary, loadExpectation } from '../helpers/expectations.js';
import { traceCommand } from '../helpers/trace.js';

test('exec: a shell that allocates, then execs a fixture, leaves exactly the fixture\'s blocks outstanding', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const e = loadExpectation('allocators');
  // dash keeps each variable in a block of its own, never freed before the exec.
  const script = `i=0; while [ $i -lt 200 ]; do eval v_$i=$i; i=$((i+1)); done; exec ${fixtureBinary(e)}`;
  const { run, report } = await traceCommand(t, ['/bin/sh', '-c', script]);
  assert.equal(run.code, e.exitCode, run.stderr);
  // Bytes and blocks equal to valgrind's for the fixture run alone.
  assertTotals(report, e);
});
