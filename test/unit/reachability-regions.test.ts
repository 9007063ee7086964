// What the scan reads: the mappings taken as they appear in /proc/PID/maps,
// each thread's stack from its stack pointer, and the stat line's state.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { stateOf } from '../../src/reachability/freeze.js';
import { scanRegions } from '../../src/reachability/regions.js';
import { parseSyscallLine } from '../../src/reachability/threads.js';
import { parseMaps } from '../../src/symbolize/proc-maps.js';

const MAPS = `562458978000-562458979000 rw-p 00003000 fe:00 5311037 /work/app
562468d16000-562468d37000 rw-p 00000000 00:00 0 [heap]
7fc2fc021000-7fc300000000 ---p 00000000 00:00 0
7fc3031e5000-7fc3039e5000 rw-p 00000000 00:00 0
7fc303a0e000-7fc303b64000 r-xp 00026000 fe:00 339380 /usr/lib/x86_64-linux-gnu/libc.so.6
7fc303bbb000-7fc303bbd000 rw-p 001d3000 fe:00 339380 /usr/lib/x86_64-linux-gnu/libc.so.6
7fc303bc0000-7fc303bc2000 rw-s 00000000 00:01 77 /dev/shm/x
7fc303bd6000-7fc303bda000 r--p 00000000 00:00 0 [vvar]
7fff91ff6000-7fff92017000 rw-p 00000000 00:00 0 [stack]
`;

test('syscall lines: in a call, outside one, running', () => {
  assert.deepEqual(parseSyscallLine('0 0x5 0x7fc3039e3ec7 0x1 0x4022 0x0 0x0 0x7fc3039e3e80 0x7fc303ae02ec\n'), { stackPointer: 0x7fc3039e3e80, inSyscall: true });
  assert.deepEqual(parseSyscallLine('-1 0x7fff92015d70 0x7fc303a24c82\n'), { stackPointer: 0x7fff92015d70, inSyscall: false });
  assert.deepEqual(parseSyscallLine('running\n'), { stackPointer: null, inSyscall: false });
});

test('regions: private writable mappings; stacks from their stack pointer (past 32 bits), less the red zone outside a call', () => {
  const threads = [
    { tid: 1, stackPointer: 0x7fff92015d70, inSyscall: false },
    { tid: 2, stackPointer: 0x7fc3039e3e84, inSyscall: true },
  ];
  const regions = scanRegions(parseMaps(MAPS), threads).map(({ start, end, name }) => [start.toString(16), end.toString(16), name]);
  assert.deepEqual(regions, [
    ['562458978000', '562458979000', '/work/app'],
    ['562468d16000', '562468d37000', '[heap]'],
    // Aligned down to a word.
    ['7fc3039e3e80', '7fc3039e5000', '[anon]'],
    ['7fc303bbb000', '7fc303bbd000', '/usr/lib/x86_64-linux-gnu/libc.so.6'],
    ['7fff92015cf0', '7fff92017000', '[stack]'],
  ]);
  // A thread whose stack pointer is unknown (running): its stack is read whole.
  assert.equal(scanRegions(parseMaps(MAPS), [{ tid: 1, stackPointer: null, inSyscall: false }]).find((r) => r.name === '[stack]')?.start, 0x7fff91ff6000);
});

test('stat: the state letter, whatever the command name holds', () => {
  assert.equal(stateOf('4242 (a) b (c)) T 1 4242 4242 0 -1'), 'T');
  assert.equal(stateOf('7 (sleep) S 1 7 7'), 'S');
});
