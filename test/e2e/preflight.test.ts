// What is refused before anything is loaded or attached: one line on stderr,
// a non-zero exit, and the target untouched.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { runCli } from '../helpers/cli.js';
import { cliPath } from '../helpers/paths.js';

function oneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.split('\n').filter((line) => line !== '');
  assert.equal(lines.length, 1, `one line on stderr: ${JSON.stringify(stderr)}`);
  assert.match(lines[0]!, pattern);
}

test('preflight: without root or CAP_BPF/CAP_PERFMON it says to use sudo', { timeout: 20_000 }, (t) => {
  if (!requireBpf(t)) return; // dropping privileges needs them first
  const run = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', process.execPath, cliPath, 'trace', '--', '/bin/true'], { encoding: 'utf8' });
  assert.equal(run.status, 1);
  oneLine(run.stderr, /^leakhound: leakhound needs root, or CAP_BPF and CAP_PERFMON.*: run it with sudo$/);
});

test('preflight: a kernel thread has no allocator to trace', { timeout: 20_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const run = await runCli(['trace', '--pid', '2', '--duration', '1']);
  assert.equal(run.code, 1);
  oneLine(run.stderr, /^leakhound: process 2 is a kernel thread, with no user memory: use leakhound kernel --pid/);
});

test('preflight: --allocator naming a mapped object without malloc', { timeout: 20_000 }, async (t) => {
  if (!requireBpf(t)) return;
  // The program itself: mapped, but its malloc is libc's.
  const run = await runCli(['trace', '--allocator', '/usr/bin/true', '--', '/usr/bin/true']);
  assert.equal(run.code, 1);
  oneLine(run.stderr, /^leakhound: \/usr\/bin\/true does not define malloc/);
});

test('preflight: --pid and a command together are a usage error', { timeout: 20_000 }, async () => {
  const run = await runCli(['trace', '--pid', String(process.pid), '--', '/bin/true']);
  assert.equal(run.code, 2);
  oneLine(run.stderr, /^leakhound: give one of --pid PID, --cgroup DIR or a command after --/);
});

test('preflight: an unknown option is a usage error', { timeout: 20_000 }, async () => {
  const run = await runCli(['trace', '--no-such-option', '--', '/bin/true']);
  assert.equal(run.code, 2);
  oneLine(run.stderr, /^leakhound: Unknown argument/);
});
