// Kernels before 6.6 have no uprobe_multi links: leakhound then attaches one
// link per probe. LEAKHOUND_UPROBE_MULTI=0 takes that path here, and the
// figures must be just as exact.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { requireBpf } from '../helpers/bpf.js';
import { assertReportMatches } from '../helpers/check-report.js';
import { startCli } from '../helpers/cli.js';
import { fixtureBinary, loadExpectation } from '../helpers/expectations.js';
import { collect, exited, waitFor } from '../helpers/process.js';
import { readReport, siteFigures } from '../helpers/report.js';
import { invalidFrees } from '../helpers/resources.js';
import { scratchDir } from '../helpers/tmp.js';
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

/** What the growth fixture (test/fixtures/growth.c) holds at one instant. */
interface GrowthState {
  allocations: number;
  frees: number;
  cache: number;
  transient: number;
}

const CACHE_ENTRIES = 16;

/** The fixture's state at each step of its `ticks`-th tick, from the leak on:
 * the trace may end anywhere in it, but must end everywhere at once. */
function growthStates(ticks: number): GrowthState[] {
  const done = ticks - 1;
  const cacheFrees = (n: number) => Math.max(0, n - CACHE_ENTRIES);
  const afterLeak = { allocations: 3 * done + 1, frees: done + cacheFrees(done), cache: Math.min(done, CACHE_ENTRIES), transient: 0 };
  const afterCacheFree = ticks > CACHE_ENTRIES ? [{ ...afterLeak, frees: afterLeak.frees + 1, cache: afterLeak.cache - 1 }] : [];
  const afterCache = { allocations: 3 * done + 2, frees: done + cacheFrees(ticks), cache: Math.min(ticks, CACHE_ENTRIES), transient: 0 };
  const afterTransient = { ...afterCache, allocations: 3 * ticks, transient: 1 };
  const whole = { ...afterTransient, frees: afterTransient.frees + 1, transient: 0 };
  return [afterLeak, ...afterCacheFree, afterCache, afterTransient, whole];
}

// Removing one link per probe takes long enough for ticks to go by: were
// frees still recorded after the allocations stopped, the cache's entries
// would be freed with their replacements unseen, and the transient buffer's
// frees would be of unknown pointers.
test('per-probe links: the trace of the growth fixture ends at one instant', { timeout: 90_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const json = path.join(scratchDir(t), 'report.json');
  // The command outlives the trace, and leakhound waits for it once the
  // report is out: its "ready PID" line says what to kill.
  const cli = startCli(['trace', '--duration', '1', '--json', json, '--', fixtureBinary({ binary: 'growth' })]);
  const stdout = collect(cli.stdout);
  const stderr = collect(cli.stderr);
  let killed = false;
  const killCommand = () => {
    const pid = /^ready (\d+)$/m.exec(stdout())?.[1];
    if (pid && !killed) process.kill(Number(pid), 'SIGKILL');
    killed ||= pid !== undefined;
  };
  t.after(() => {
    cli.kill('SIGKILL');
    killCommand();
  });
  await waitFor(() => existsSync(json) || cli.exitCode !== null, 60_000);
  killCommand();
  await exited(cli, 10_000);
  assert.ok(existsSync(json), `no report; stderr: ${stderr()}`);
  const report = readReport(json);

  assert.deepEqual(invalidFrees(report), [], 'no invalid free');
  const leak = siteFigures(report, 'leak_request_context');
  assert.equal(leak.bytes, 4000 * leak.allocations);
  assert.ok(leak.allocations > CACHE_ENTRIES + 1, `the cache filled and turned over: ${leak.allocations} ticks`);
  const cache = siteFigures(report, 'cache_insert');
  const transient = siteFigures(report, 'transient_buffer');
  assert.equal(cache.bytes, 2000 * cache.allocations);
  assert.equal(transient.bytes, 8192 * transient.allocations);
  const state: GrowthState = { allocations: report.totals.allocations, frees: report.totals.frees, cache: cache.allocations, transient: transient.allocations };
  const states = growthStates(leak.allocations);
  assert.ok(states.some((s) => isDeepStrictEqual(s, state)), `${JSON.stringify(state)} is none of tick ${leak.allocations}'s states: ${JSON.stringify(states)}`);
});
