// Launch mode on every fixture that runs to its end: exact figures per site,
// frees that leave no trace, totals equal to valgrind's "in use at exit"
// (blocks made before main included), and the command's exit code passed on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { assertReportMatches } from '../helpers/check-report.js';
import { fixtureBinary, loadExpectation } from '../helpers/expectations.js';
import { traceCommand } from '../helpers/trace.js';

for (const name of ['allocators', 'pvalloc', 'threads', 'widgets']) {
  test(`launch: ${name} leaks exactly what its expectation says`, { timeout: 30_000 }, async (t) => {
    if (!requireBpf(t)) return;
    const e = loadExpectation(name);
    const { run, report } = await traceCommand(t, [fixtureBinary(e), ...e.args]);
    assert.equal(run.code, e.exitCode, `leakhound's exit code; stderr: ${run.stderr}`);
    assert.equal(report.target.exitCode, e.exitCode);
    assert.deepEqual(report.target.command, [fixtureBinary(e), ...e.args]);
    assertReportMatches(report, e);
  });
}

test('launch: the report gives the command\'s own CPU time, its waited-for children included', { timeout: 30_000 }, async (t) => {
  if (!requireBpf(t)) return;
  // A shell that counts in a child shell: CPU spent in a process it waited for.
  const started = performance.now();
  const { run, report } = await traceCommand(t, ['/bin/sh', '-c', "sh -c 'i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done'"]);
  const wallMs = performance.now() - started;
  assert.equal(run.code, 0, run.stderr);
  const cpuMs = report.target.cpuMs as number;
  assert.ok(cpuMs >= 30, `a 100,000-step shell loop takes well over 30 ms of CPU; reported ${cpuMs}`);
  // From its fork to its exit: the trace's own duration leaves out the
  // loader's run before attaching, which under emulation takes a while.
  assert.ok(cpuMs <= wallMs, `one thread at a time cannot use more CPU (${cpuMs} ms) than leakhound's whole run took (${Math.round(wallMs)} ms)`);
});
