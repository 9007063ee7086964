// The adversarial cases, in one file so the next ones join them: bad input,
// hostile output destinations, binaries replaced under a running process,
// broken pipes and signals, frames that are not addresses. Bad input ends
// leakhound with a non-zero exit, exactly one line on stderr starting
// "leakhound:", and no report; bad option values are refused before the
// command runs (the command here would leave a marker file).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { exited } from '../helpers/process.js';
import { fixtureSources } from '../helpers/paths.js';
import { scratchDir } from '../helpers/tmp.js';

async function assertRefused(t: TestContext, args: (json: string) => string[]): Promise<string> {
  const json = path.join(scratchDir(t), 'report.json');
  const run = await runCli(['trace', ...args(json)]);
  assert.notEqual(run.code, 0, 'non-zero exit');
  assert.equal(run.signal, null);
  const lines = run.stderr.split('\n').filter((line) => line !== '');
  assert.equal(lines.length, 1, `one line on stderr: ${JSON.stringify(run.stderr)}`);
  assert.match(lines[0]!, /^leakhound: /);
  assert.equal(existsSync(json), false, 'no report written');
  return json;
}

/** A pid that was just released: the kernel hands out pids in order, so it stays free. */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await exited(child, 5_000);
  return child.pid!;
}

test('bad input: a pid that does not exist', { timeout: 20_000 }, async (t) => {
  const pid = await deadPid();
  await assertRefused(t, (json) => ['--pid', String(pid), '--json', json]);
});

test('bad input: a command that does not exist', { timeout: 20_000 }, async (t) => {
  await assertRefused(t, (json) => ['--json', json, '--', '/nonexistent/leakhound-e2e-command']);
});

test('bad input: a command that is not executable', { timeout: 20_000 }, async (t) => {
  await assertRefused(t, (json) => ['--json', json, '--', path.join(fixtureSources, 'allocators.c')]);
});

for (const option of [
  ['--top', '-1'],
  ['--duration', 'abc'],
  ['--min-size', 'many'],
]) {
  test(`bad input: ${option.join(' ')}`, { timeout: 20_000 }, async (t) => {
    const marker = path.join(scratchDir(t), 'ran');
    await assertRefused(t, (json) => ['--json', json, ...option, '--', 'touch', marker]);
    assert.equal(existsSync(marker), false, 'the command did not run');
  });
}

// ---- outputs: devices, FIFOs, unwritable destinations, broken stdout/stderr ----

// ---- upgrades: binaries and libraries replaced while the target runs ----

// ---- frames: values that are not addresses, code without frame pointers ----

// ---- messages, bounds and signals ----
