// The process beside the trace: /proc parsing, and the share of its growth explained.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { explainedShare, processSection, type ProcessMemorySample } from '../../src/report/process-growth.js';
import { cgroupPath, heapBytes, parseKbFields, parseLimit, readProcessMemory } from '../../src/target/process-memory.js';

test('smaps_rollup fields in bytes', () => {
  const rollup = '55d0a0000000-7ffd00000000 ---p 00000000 00:00 0  [rollup]\nRss:                1760 kB\nAnonymous:           116 kB\nSwapPss:               0 kB\n';
  const fields = parseKbFields(rollup);
  assert.equal(fields.get('Rss'), 1760 * 1024);
  assert.equal(fields.get('Anonymous'), 116 * 1024);
});

test('the [heap] mapping, the cgroup v2 path and memory.max', () => {
  const maps = '5581a000-5581b000 r-xp 00000000 08:01 12 /bin/x\n5581c000-5583d000 rw-p 00000000 00:00 0                          [heap]\n';
  assert.equal(heapBytes(maps), 0x21000);
  assert.equal(heapBytes('5581a000-5581b000 r-xp 00000000 08:01 12 /bin/x\n'), 0);
  assert.equal(cgroupPath('4:memory:/a\n0::/system.slice/app.service\n'), '/system.slice/app.service');
  assert.equal(cgroupPath('4:memory:/a\n'), null, 'cgroup v1 only');
  assert.equal(parseLimit('max\n'), null);
  assert.equal(parseLimit('104857600\n'), 104857600);
});

test('this process can be read; a process that is gone reads as null', () => {
  const own = readProcessMemory(process.pid);
  assert.ok(own && own.rssBytes > 0 && own.anonBytes > 0, JSON.stringify(own));
  assert.equal(readProcessMemory(2 ** 22 + 1), null, 'above pid_max: no such process');
});

test('explained share: traced growth over the process\'s growth, first sample to last', () => {
  assert.equal(explainedShare([0, 50, 100], [1000, 1100, 1200]), 0.5);
  assert.equal(explainedShare([0, 50], [1000, 900]), null, 'shrank');
  assert.equal(explainedShare([0], [1000]), null, 'one sample');
});

test('the section keeps the points where the process could be read', () => {
  const sample = (anon: number): ProcessMemorySample => ({ rssBytes: 2 * anon, anonBytes: anon, heapBytes: 4096, cgroup: { path: '/t', currentBytes: 3 * anon, maxBytes: null } });
  const points = [
    { atMs: 200.4, outstandingBytes: 10, extra: sample(1000) },
    { atMs: 400, outstandingBytes: 60, extra: sample(1100) },
    { atMs: 600, outstandingBytes: 70, extra: null },
  ];
  assert.deepEqual(processSection(7, points, 2), {
    pid: 7,
    atMs: [200, 400],
    rssBytes: [2000, 2200],
    anonBytes: [1000, 1100],
    heapBytes: [4096, 4096],
    tracedBytes: [20, 120],
    cgroup: { path: '/t', currentBytes: [3000, 3300], maxBytes: null },
    explainedShare: 1,
  });
  assert.equal(processSection(7, [{ atMs: 1, outstandingBytes: 0, extra: null }], 1), undefined);
});
