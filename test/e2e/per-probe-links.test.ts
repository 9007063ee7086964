// Kernels before 6.6 have no uprobe_multi links: leakhound then attaches one
// link per probe. LEAKHOUND_UPROBE_MULTI=0 takes that path here, and the
// figures must be just as exact.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { assertReportMatches } from '../helpers/check-report.js';
import { fixtureBinary, loadExpectation } from '../helpers/expectations.js';
import { traceCommand } from '../helpers/trace.js';

// node --test runs each file in its own process: this reaches only the CLIs it starts.
process.env.LEAKHOUND_UPROBE_MULTI = '0';

for (const name of ['allocators', 'widgets']) {
  test(`per-probe links: ${name} leaks exactly what its expectation says`, { timeout: 30_000 }, async (t) => {
    if (!requireBpf(t)) return;
    const e = loadExpectation(name);
    const { run, report } = await traceCommand(t, [fixtureBinary(e), ...e.args]);
    assert.equal(run.code, e.exitCode, `stderr: ${run.stderr}`);
    assertReportMatches(report, e);
  });
}
