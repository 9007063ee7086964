// The attach fixture and a leakhound attached to it with --pid.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { startCli } from './cli.js';
import { fixtureBinary, type Expectation } from './expectations.js';
import { collect, lineMatching } from './process.js';
import { scratchDir } from './tmp.js';

function killOnEnd(t: TestContext, child: ChildProcess): void {
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
}

/** Starts the attach fixture and waits until it has made its pre-attach blocks. */
export async function startTarget(t: TestContext, e: Pick<Expectation, 'binary'>, args: string[] = []): Promise<ChildProcess> {
  const target = spawn(fixtureBinary(e), args, { stdio: ['ignore', 'pipe', 'inherit'] });
  killOnEnd(t, target);
  const [, pid] = await lineMatching(target.stdout!, /^ready (\d+)$/, 5_000);
  assert.equal(Number(pid), target.pid);
  return target;
}

export interface Tracer {
  cli: ChildProcess;
  json: string;
  stderr: () => string;
}

/** Starts `leakhound trace --pid` and waits (up to `waitMs`) for its word that the probes are in place.
 * Under the VMs' TCG emulation loading and attaching has taken up to ~38 s;
 * the wait only bounds how long a failed attach takes to show. */
export async function attachTo(t: TestContext, pid: number, options: string[] = [], waitMs = 60_000): Promise<Tracer> {
  const json = path.join(scratchDir(t), 'report.json');
  const cli = startCli(['trace', '--pid', String(pid), '--json', json, ...options]);
  killOnEnd(t, cli);
  const stderr = collect(cli.stderr);
  await lineMatching(cli.stderr!, /^leakhound: attached to PID/, waitMs);
  return { cli, json, stderr };
}

/** Lets the target run its post-attach phase and waits for its "done". */
export async function release(target: ChildProcess): Promise<void> {
  const done = lineMatching(target.stdout!, /^done$/, 5_000);
  target.kill('SIGUSR1');
  await done;
}
