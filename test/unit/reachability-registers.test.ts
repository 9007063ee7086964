// Registers as roots: their words reach blocks as a stack's do, whatever
// address the words would have; and the addon's ptrace read, on a real
// stopped process, gives the registers the kernel reports and leaves it stopped.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { BlockSet } from '../../src/reachability/blocks.js';
import { classify, LeakClass, ReferenceGraph } from '../../src/reachability/classify.js';
import { awaitStopped, stateOf } from '../../src/reachability/freeze.js';
import { readRegisterRoots, registerWords } from '../../src/reachability/registers.js';
import { scanRootWords } from '../../src/reachability/scan.js';
import { parseSyscallLine } from '../../src/reachability/threads.js';

const BASE = 0x7f12_3456_0000;
/** struct user_regs_struct, x86-64: 27 u64s; these are indices into it. */
const REGISTERS = 27;
const ORIG_RAX = 15;
const RSP = 19;

function u64s(values: bigint[], offset = 0): Buffer {
  const bytes = Buffer.alloc(offset + values.length * 8);
  values.forEach((value, i) => bytes.writeBigUInt64LE(value, offset + i * 8));
  return bytes.subarray(offset);
}

function wordAt(words: Uint32Array, index: number): number {
  return words[2 * index] + words[2 * index + 1] * 2 ** 32;
}

test('registers: each word pointing at or into a block is a root reference', () => {
  const blocks = new BlockSet([
    { addr: BASE, size: 64, stackId: 1 },
    { addr: BASE + 0x100, size: 32, stackId: 2 },
    { addr: BASE + 0x200, size: 16, stackId: 3 },
  ]);
  // Block 0's own start among the words: for a register, no block holds it.
  const words = registerWords(u64s([0n, BigInt(BASE + 0x100 + 8), 0xffff_ffff_ffff_ff9cn, BigInt(BASE), BigInt(BASE + 64)], 3));
  const graph = new ReferenceGraph(blocks.count);
  scanRootWords(words, blocks, graph);
  assert.deepEqual(graph.roots(), [2 * 1 + 1, 2 * 0]);
  assert.deepEqual([...classify(graph)], [LeakClass.StillReachable, LeakClass.PossiblyLost, LeakClass.DefinitelyLost]);
});

test('registers: read by ptrace from a stopped process, which stays stopped until SIGCONT', { timeout: 10_000 }, async (t) => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  const pid = child.pid as number;
  await new Promise((resolve) => setTimeout(resolve, 100));
  process.kill(pid, 'SIGSTOP');
  awaitStopped(pid);
  const expected = parseSyscallLine(readFileSync(`/proc/${pid}/syscall`, 'utf8'));
  const syscall = Number(readFileSync(`/proc/${pid}/syscall`, 'utf8').split(' ')[0]);
  const roots = readRegisterRoots([pid, 2 ** 22 + 1]);
  assert.equal(roots.unread, 1, 'no such thread: counted, not read');
  assert.equal(roots.words.length, 1);
  const [words] = roots.words;
  assert.equal(words.length, 2 * REGISTERS);
  assert.equal(wordAt(words, RSP), expected.stackPointer);
  assert.equal(wordAt(words, ORIG_RAX), syscall);
  // Detached, the thread goes back to its group stop ('T', not a trace stop 't').
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(stateOf(readFileSync(`/proc/${pid}/stat`, 'utf8')), 'T');
  process.kill(pid, 'SIGCONT');
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(stateOf(readFileSync(`/proc/${pid}/stat`, 'utf8')), 'S');
});
