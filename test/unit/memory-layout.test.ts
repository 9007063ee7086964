// The end of RAM and the paging depth the stack walk is given.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { memoryBlocksEnd, pagingLevels, ramEnd, readMemoryLayout } from '../../src/trace/memory-layout.js';

const IOMEM = `00000000-00000fff : Reserved
00001000-0009fbff : System RAM
00100000-bfffffff : System RAM
  01000000-01ffffff : Kernel code
c0001000-eebfffff : PCI Bus 0000:00
100000000-63fffffff : System RAM
4000000000-7fffffffff : PCI Bus 0000:00
`;

test('RAM ends after the highest top-level System RAM range, whatever lies above it', () => {
  assert.equal(ramEnd(IOMEM), 0x640000000);
});

test('without root, /proc/iomem shows zeros: the end is 0, and the walk will say it has no direct map', () => {
  assert.equal(ramEnd('00000000-00000000 : System RAM\n00000000-00000000 : System RAM\n'), 0);
  assert.equal(ramEnd(''), 0);
});

test('memory blocks: the highest index ends RAM, whatever the gaps below it', () => {
  assert.equal(memoryBlocksEnd(['auto_online_blocks', 'block_size_bytes', 'memory0', 'memory199', 'memory7', 'power', 'uevent'], '8000000\n'), 200 * 0x8000000);
  assert.equal(memoryBlocksEnd(['block_size_bytes'], '8000000\n'), 0);
  assert.equal(memoryBlocksEnd(['memory3'], 'garbage'), 0);
});

test('5-level paging only where the kernel left the la57 flag set', () => {
  assert.equal(pagingLevels('processor\t: 0\nflags\t\t: fpu vme la57 pcid\n'), 5);
  assert.equal(pagingLevels('processor\t: 0\nflags\t\t: fpu vme pcid\nbugs\t\t: la57_fake\n'), 4);
});

test('this machine: RAM is found, and the depth agrees with /proc/cpuinfo', () => {
  const layout = readMemoryLayout();
  assert.ok(layout.physEnd > 0, 'neither /proc/iomem nor /sys/devices/system/memory gave the end of RAM');
  assert.equal(layout.pagingLevels, /\bla57\b/.test(readFileSync('/proc/cpuinfo', 'utf8')) ? 5 : 4);
});
