// Reports read back for diff and convert: anything that is not a v1 report
// is refused in one line that says what is wrong, as a usage error.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { LeakhoundError } from '../../src/errors.js';
import { renderJson } from '../../src/render/json.js';
import { parseReport, readReport } from '../../src/report/read-report.js';
import { kernelReport, userReport } from '../fixtures/render-reports.js';
import { scratchDir } from '../helpers/tmp.js';

function refused(pattern: RegExp) {
  return (error: unknown) => error instanceof LeakhoundError && error.code === 'USAGE' && pattern.test(error.message);
}

test('read-report: what renderJson writes reads back as it was', () => {
  for (const report of [userReport, kernelReport]) assert.equal(renderJson(parseReport(renderJson(report), 'r.json')), renderJson(report));
});

test('read-report: not JSON, another schema, a broken stack or frame: one line naming the file and the fault', () => {
  assert.throws(() => parseReport('{"schema": ', 'a.json'), refused(/^a\.json is not a leakhound report: not JSON/));
  assert.throws(() => parseReport('[]', 'a.json'), refused(/not a JSON object$/));
  assert.throws(() => parseReport('{"schema":"leakhound.diff/v1"}', 'a.json'), refused(/schema "leakhound\.diff\/v1", not leakhound\.report\/v1$/));
  const doc = JSON.parse(renderJson(userReport)) as { stacks: Array<{ bytes: unknown; frames: Array<{ address: unknown }> }>; mode: unknown };
  doc.stacks[1]!.frames[0]!.address = 42;
  assert.throws(() => parseReport(JSON.stringify(doc), 'a.json'), refused(/stacks\[1\]\.frames\[0\] is not a frame$/));
  doc.stacks[1]!.bytes = -1;
  assert.throws(() => parseReport(JSON.stringify(doc), 'a.json'), refused(/stacks\[1\] has no bytes and allocations$/));
  doc.mode = 'both';
  assert.throws(() => parseReport(JSON.stringify(doc), 'a.json'), refused(/mode "both" is neither user nor kernel$/));
});

test('read-report: a file that cannot be read is named with the reason', async (t) => {
  const dir = scratchDir(t);
  await assert.rejects(readReport(join(dir, 'missing.json')), refused(/^cannot read .*missing\.json: ENOENT: no such file or directory$/));
  await assert.rejects(readReport(dir), refused(/: EISDIR: illegal operation on a directory/));
  writeFileSync(join(dir, 'r.json'), renderJson(kernelReport));
  assert.equal((await readReport(join(dir, 'r.json'))).mode, 'kernel');
});

test('read-report: churn stacks and their alloc figures are checked as the stacks are', () => {
  const churn = { ...userReport.stacks[0]!, bytes: 0, allocations: 0, allocated: { bytes: 640, allocations: 20 } };
  const report = { ...userReport, churnStacks: [churn], churnOmitted: { stacks: 2, bytes: 64, allocations: 2 } };
  assert.equal(renderJson(parseReport(renderJson(report), 'r.json')), renderJson(report));
  const doc = JSON.parse(renderJson(report)) as { churnStacks: Array<{ allocated: unknown; frames: unknown }>; churnOmitted: unknown };
  doc.churnStacks[0]!.allocated = { bytes: 640 };
  assert.throws(() => parseReport(JSON.stringify(doc), 'a.json'), refused(/churnStacks\[0\]\.allocated has no bytes and allocations$/));
  doc.churnStacks[0]!.frames = null;
  assert.throws(() => parseReport(JSON.stringify(doc), 'a.json'), refused(/churnStacks\[0\] has no frames$/));
  doc.churnOmitted = { bytes: 1, allocations: 1 };
  assert.throws(() => parseReport(JSON.stringify(doc), 'a.json'), refused(/churnOmitted has no stacks, bytes and allocations$/));
});
