// Outputs checked before the trace, and a report that cannot reach its
// destination kept in a fallback file, with leakhound's exit code chosen.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, lstatSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { checkOutputs, emitReport, exitCodeAfterTrace } from '../../src/cli/emit.js';
import type { CommonOptions } from '../../src/cli/options.js';
import { LeakhoundError } from '../../src/errors.js';
import { STDOUT } from '../../src/output/destination.js';
import { renderJson } from '../../src/render/json.js';
import { userReport } from '../fixtures/render-reports.js';

let scratch: string;
const savedTmpdir = process.env.TMPDIR;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'leakhound-emit-'));
  process.env.TMPDIR = join(scratch, 'fallback');
  await mkdir(process.env.TMPDIR);
});
after(async () => {
  process.env.TMPDIR = savedTmpdir;
  await rm(scratch, { recursive: true, force: true });
});

function options(overrides: Partial<CommonOptions>): CommonOptions {
  return { durationMs: null, intervalMs: null, top: 10, json: null, out: null, minSize: 0, maxSize: Number.MAX_SAFE_INTEGER, olderThanMs: 0, churnStacks: 100, maxStacks: 1 << 15, verbose: false, ...overrides };
}

const usage = (message: RegExp) => (error: unknown) => error instanceof LeakhoundError && error.code === 'USAGE' && message.test(error.message);

test('--json - is stdout when attaching, and refused when launching', async () => {
  assert.equal((await checkOutputs(options({ json: '-' }), { launch: false })).json, STDOUT);
  await assert.rejects(checkOutputs(options({ json: '-' }), { launch: true }), usage(/^--json - would mix the JSON report with the command's own stdout$/));
  await assert.rejects(checkOutputs(options({ json: '/dev/stdout' }), { launch: true }), usage(/^--json \/dev\/stdout would mix/));
});

test('--json is checked before --out creates anything', async () => {
  const out = join(scratch, 'never-made');
  await assert.rejects(checkOutputs(options({ json: join(scratch, 'no', 'r.json'), out }), { launch: true }), usage(/does not exist$/));
  assert.throws(() => lstatSync(out), { code: 'ENOENT' });
});

test('a destination that breaks after the trace hands the report to a fallback file', async () => {
  const fifo = join(scratch, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const outputs = await checkOutputs(options({ json: fifo }), { launch: false });
  // The reader goes away during the trace: the write meets EPIPE.
  closeSync(reader);
  const emitted = await emitReport(userReport, outputs);
  assert.deepEqual(emitted, { failed: 1 });
  const saved = await readdir(process.env.TMPDIR!);
  assert.equal(saved.length, 1);
  assert.match(saved[0]!, /^leakhound-report-\d+-\d{8}T\d{6}Z\.json$/);
  const path = join(process.env.TMPDIR!, saved[0]!);
  assert.equal(readFileSync(path, 'utf8'), renderJson(userReport));
  assert.equal(lstatSync(path).mode & 0o777, 0o600);
  assert.ok(lstatSync(fifo).isFIFO(), 'the FIFO is still a FIFO');
});

test('the exit code: a launched command\'s own, else 1 when a destination failed', () => {
  assert.equal(exitCodeAfterTrace({ failed: 0 }, 3), 3);
  assert.equal(exitCodeAfterTrace({ failed: 2 }, 3), 3);
  assert.equal(exitCodeAfterTrace({ failed: 1 }, 0), 0);
  assert.equal(exitCodeAfterTrace({ failed: 0 }, null), 0);
  assert.equal(exitCodeAfterTrace({ failed: 1 }, null), 1);
});
