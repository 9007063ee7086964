// speedscope's file format: two sampled profiles over shared frames, stacks
// root first, weights adding up to the report's totals.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { renderSpeedscope, SPEEDSCOPE_SCHEMA, type SpeedscopeFile } from '../../src/render/speedscope.js';
import { kernelReport, userReport } from '../fixtures/render-reports.js';

test('speedscope: bytes and allocations profiles add up to the totals, each stack root first with file and line', () => {
  const file = JSON.parse(renderSpeedscope(userReport, 'report.json')) as SpeedscopeFile;
  assert.equal(file.$schema, SPEEDSCOPE_SCHEMA);
  const [bytes, allocations] = file.profiles as [SpeedscopeFile['profiles'][0], SpeedscopeFile['profiles'][0]];
  assert.deepEqual([bytes.type, bytes.unit, bytes.endValue], ['sampled', 'bytes', userReport.totals.outstandingBytes]);
  assert.deepEqual([allocations.unit, allocations.endValue], ['none', userReport.totals.outstandingAllocations]);
  assert.equal(bytes.samples.length, bytes.weights.length);
  const names = (stack: number[]) => stack.map((i) => file.shared.frames[i]!);
  assert.deepEqual(names(bytes.samples[0]!).slice(-2), [
    { name: 'do_work', file: 'leaky.c', line: 30 },
    { name: 'leak_small', file: 'leaky.c', line: 12 },
  ]);
  assert.deepEqual(names(bytes.samples[2]!).map((frame) => frame.name), ['[partial]', 'main', 'libfoo.so.1+0x1a2b']);
  assert.deepEqual(names(bytes.samples[3]!)[0], { name: '[truncated]' });
  assert.deepEqual(names(bytes.samples[5]!), [{ name: '[unknown]' }]);
});

test('speedscope: frames are shared, each distinct one listed once', () => {
  const file = JSON.parse(renderSpeedscope(kernelReport, 'k')) as SpeedscopeFile;
  const keys = file.shared.frames.map((frame) => JSON.stringify(frame));
  assert.equal(new Set(keys).size, keys.length);
  assert.deepEqual(file.profiles[0]!.samples[0]!.map((i) => file.shared.frames[i]!.name), ['entry_SYSCALL_64_after_hwframe', 'do_syscall_64', 'nf_ct_alloc_thing', 'kmalloc_trace']);
});
