// Telling code with frame pointers from code without, and what that makes of a stack.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';

import { addon, type DecodeFailure, type FileExtent } from '../../src/native/binding.js';
import { isPartialStack, userStack } from '../../src/report/partial.js';
import type { Frame } from '../../src/report/types.js';
import { FramePointerCensus, keepsFramePointers, setsUpFramePointer, type FramePointerEnvironment } from '../../src/target/frame-pointers.js';
import type { Instruction } from '../../src/target/probe-site.js';

const insn = (mnemonic: string, operands = '', writes: string[] = [], groups: string[] = []): Instruction => ({
  offset: 0,
  size: 1,
  mnemonic,
  operands,
  bytes: new Uint8Array(1),
  groups,
  writes,
  target: null,
});
const withFp = [insn('push', 'rbp'), insn('mov', 'rbp, rsp'), insn('sub', 'rsp, 0x10')];
const cetWithFp = [insn('endbr64'), ...withFp];
const withoutFp = [insn('push', 'rbx'), insn('mov', 'rbx, rdi'), insn('call', '0x1000')];

test('a frame pointer is set up by push rbp; mov rbp, rsp, after an optional endbr64', () => {
  assert.equal(setsUpFramePointer(withFp), true);
  assert.equal(setsUpFramePointer(cetWithFp), true);
  assert.equal(setsUpFramePointer(withoutFp), false);
  assert.equal(setsUpFramePointer([insn('push', 'rbp'), insn('mov', 'rbx, rsp')]), false);
  assert.equal(setsUpFramePointer([]), false);
});

test('instructions that leave rbp, rsp and the straight line alone may come between push rbp and mov rbp, rsp', () => {
  const setUp = insn('mov', 'rbp, rsp', ['rbp']);
  const arg = insn('mov', 'edi, 0xd0', ['edi']);
  assert.equal(setsUpFramePointer([insn('push', 'rbp', ['rsp']), arg, setUp]), true);
  assert.equal(setsUpFramePointer([insn('endbr64'), insn('push', 'rbp', ['rsp']), arg, insn('xor', 'eax, eax', ['rflags', 'eax']), arg, setUp]), true);
  // A fourth is past the prologue.
  assert.equal(setsUpFramePointer([insn('push', 'rbp', ['rsp']), arg, arg, arg, arg, setUp]), false);
  // Another push moves rsp: rbp would not point at the saved rbp.
  assert.equal(setsUpFramePointer([insn('push', 'rbp', ['rsp']), insn('push', 'rbx', ['rsp']), setUp]), false);
  assert.equal(setsUpFramePointer([insn('push', 'rbp', ['rsp']), insn('mov', 'ebp, edi', ['ebp']), setUp]), false);
  assert.equal(setsUpFramePointer([insn('push', 'rbp', ['rsp']), insn('lea', 'rsp, [rsp - 8]', ['rsp']), setUp]), false);
  // The mov on another path is not the entry's.
  assert.equal(setsUpFramePointer([insn('push', 'rbp', ['rsp']), insn('je', '0x40', [], ['jump', 'branch_relative']), setUp]), false);
  assert.equal(setsUpFramePointer([insn('push', 'rbp', ['rsp']), insn('call', '0x1080', ['rsp'], ['call']), setUp]), false);
  assert.equal(setsUpFramePointer([insn('push', 'rbp', ['rsp']), arg]), false);
});

// Functions whose argument set-up GCC 12 at -O2 schedules between push rbp
// and mov rbp, rsp (f1: `push rbp; mov edi, 0xd0; mov rbp, rsp`), and one it does not.
const C_SOURCE = `#include <stdlib.h>
extern void consume(void *);
void *f1(void) { void *p = malloc(208); consume(p); return p; }
void f2(void) { consume(malloc(208)); }
void *f3(size_t n) { void *p = calloc(n, 16); if (!p) abort(); return p; }
int f4(int x) { consume(0); return x + 1; }
`;
const FUNCTIONS = ['f1', 'f2', 'f3', 'f4'];

/** The source built as a shared object with `flags`, in a directory removed after the test. */
function build(t: TestContext, flags: string[]): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leakhound-fp-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'f.c'), C_SOURCE);
  const object = path.join(dir, 'f.so');
  execFileSync('gcc', [...flags, '-shared', '-fPIC', path.join(dir, 'f.c'), '-o', object]);
  return object;
}

const realObject: FramePointerEnvironment = {
  sample: (file, max) => addon().elfFunctionSample(file, max),
  decode: (file, extents) => addon().decodeFunctions(file, extents),
};

function prologues(object: string): Map<string, Instruction[]> {
  const symbols = addon().elfSymbols(object, FUNCTIONS);
  assert.equal(symbols.length, FUNCTIONS.length);
  return new Map(symbols.map((symbol) => [symbol.name, addon().decodeFunction(object, symbol.fileOffset, Math.min(symbol.size, 32))]));
}

for (const cet of [false, true]) {
  test(`gcc -O2 -fno-omit-frame-pointer${cet ? ' -fcf-protection=full' : ''}: every function sets up a frame pointer, the object keeps them`, (t) => {
    const object = build(t, ['-O2', '-fno-omit-frame-pointer', ...(cet ? ['-fcf-protection=full'] : [])]);
    const decoded = prologues(object);
    const f1 = decoded.get('f1')!.map((i) => `${i.mnemonic} ${i.operands}`.trim());
    const push = f1.indexOf('push rbp');
    assert.ok(push >= 0 && f1.indexOf('mov rbp, rsp') > push + 1, `gcc scheduled an instruction between the two: ${f1.join('; ')}`);
    for (const [name, instructions] of decoded) assert.equal(setsUpFramePointer(instructions), true, name);
    assert.equal(keepsFramePointers(object, realObject), true);
  });
}

test('gcc -O2 -fomit-frame-pointer: no function sets up a frame pointer', (t) => {
  const object = build(t, ['-O2', '-fomit-frame-pointer', '-fcf-protection=full']);
  for (const [name, instructions] of prologues(object)) assert.equal(setsUpFramePointer(instructions), false, name);
  assert.equal(keepsFramePointers(object, realObject), false);
});

interface FakeFunction {
  size: number;
  prologue: Instruction[];
  /** Its symbol points past the end of the file. */
  outside?: boolean;
}

/** An object of `functions`, each at 0x100 * its index; `decodes` records each decode call's extents. */
function objectOf(functions: FakeFunction[], decodes: FileExtent[][] = []): FramePointerEnvironment {
  return {
    sample: (_path, max) => functions.slice(0, max).map((f, i) => ({ fileOffset: i * 0x100, size: f.size })),
    decode: (_path, extents) => {
      decodes.push(extents);
      return extents.map(({ fileOffset }): Instruction[] | DecodeFailure => {
        const fn = functions[fileOffset / 0x100]!;
        return fn.outside ? { code: 'OUTSIDE_FILE' } : fn.prologue;
      });
    },
  };
}

test('an object keeps frame pointers when the functions that set one up hold most of its code', () => {
  // A program built with frame pointers still links small start-up stubs without them.
  const program = objectOf([
    { size: 34, prologue: withoutFp },
    { size: 41, prologue: withoutFp },
    { size: 57, prologue: withoutFp },
    { size: 300, prologue: cetWithFp },
  ]);
  assert.equal(keepsFramePointers('/bin/p', program), true);
  const library = objectOf([
    { size: 500, prologue: withoutFp },
    { size: 90, prologue: withFp }, // alloca or a VLA: a frame pointer even at -O2
    { size: 700, prologue: withoutFp },
  ]);
  assert.equal(keepsFramePointers('/lib/l.so', library), false);
});

test('one decode per object, of at most the first 32 bytes of each of at most 64 sampled functions', () => {
  const decodes: FileExtent[][] = [];
  const functions = Array.from({ length: 100 }, (_, i) => ({ size: i % 2 ? 8 : 400, prologue: withFp }));
  const census = new FramePointerCensus(objectOf(functions, decodes));
  assert.equal(census.keeps('/lib/l.so'), true);
  assert.equal(census.keeps('/lib/l.so'), true);
  assert.equal(decodes.length, 1);
  assert.equal(decodes[0].length, 64);
  assert.deepEqual(decodes[0].slice(0, 3), [
    { fileOffset: 0, size: 32 },
    { fileOffset: 0x100, size: 8 },
    { fileOffset: 0x200, size: 32 },
  ]);
});

test('a function whose bytes are outside the file is left out; the rest still decide', () => {
  // Without the broken symbol's weight, the code that sets up a frame pointer is most of it.
  const program = objectOf([
    { size: 5000, prologue: withoutFp, outside: true },
    { size: 100, prologue: withoutFp },
    { size: 300, prologue: withFp },
  ]);
  assert.equal(keepsFramePointers('/bin/p', program), true);
  assert.equal(keepsFramePointers('/bin/p', objectOf([{ size: 100, prologue: withFp, outside: true }])), null);
});

test('an object that cannot be read or has no sized functions is unknown', () => {
  const decodes: FileExtent[][] = [];
  assert.equal(keepsFramePointers('/x', objectOf([], decodes)), null);
  assert.equal(decodes.length, 0, 'nothing to decode: the file is not opened again');
  const unreadable: FramePointerEnvironment = {
    sample: () => {
      throw new Error('ELF_INVALID');
    },
    decode: () => [],
  };
  assert.equal(keepsFramePointers('/x', unreadable), null);
  // Gone between the sample and the decode.
  const vanished: FramePointerEnvironment = {
    sample: objectOf([{ size: 100, prologue: withFp }]).sample,
    decode: () => {
      throw new Error('ELF_INVALID');
    },
  };
  assert.equal(keepsFramePointers('/x', vanished), null);
});

const frame = (symbol: string | null, module: string): Frame => ({ address: '0x1', symbol, module, file: null, line: null, offset: 0 });
const keeps = (module: string) => (module === '/app' ? true : module === '/unknown' ? null : false);

test('a stack is partial past code without frame pointers, but not at the start of a process or thread', () => {
  const main = [frame('site', '/app'), frame('main', '/app'), frame('__libc_start_call_main', '/libc')];
  assert.equal(isPartialStack(main, keeps), false);
  assert.equal(isPartialStack([frame('site', '/app'), frame('start_thread', '/libc'), frame(null, '/libc')], keeps), false);
  // strdup keeps no frame pointer: its caller is missing from what follows.
  assert.equal(isPartialStack([frame('strdup', '/libc'), frame('main', '/app'), frame('__libc_start_call_main', '/libc')], keeps), true);
  // The walk stopped in such code at a function that starts nothing.
  assert.equal(isPartialStack([frame('site', '/nofp')], keeps), true);
  // Unnamed, it cannot be judged; unknown objects are not held against a stack.
  assert.equal(isPartialStack([frame('site', '/app'), frame(null, '/libc')], keeps), false);
  assert.equal(isPartialStack([frame('f', '/unknown'), frame('g', '/unknown')], keeps), false);
});

test('a walk that stopped short of the outermost frame makes its stack partial, unless it reached a start', () => {
  const cutShort = [frame('site', '/app'), frame('handler', '/app')];
  assert.equal(isPartialStack(cutShort, keeps, true), true);
  assert.equal(isPartialStack(cutShort, keeps, false), false);
  // Past the start of the program, a stale frame pointer is nothing missing.
  assert.equal(isPartialStack([frame('site', '/app'), frame('main', '/app'), frame('__libc_start_call_main', '/libc')], keeps, true), false);
  // Unnamed last frame: the cut decides what the names cannot.
  assert.equal(isPartialStack([frame('site', '/app'), frame(null, '/libc')], keeps, true), true);
});

test('a lone unnamed frame in code without frame pointers is partial: nothing was walked from it', () => {
  // A stripped program's function called the allocator with its frame-pointer register at 0.
  assert.equal(isPartialStack([frame(null, '/nofp')], keeps), true);
  assert.equal(isPartialStack([frame(null, '/app')], keeps), false);
  assert.equal(isPartialStack([frame(null, '/unknown')], keeps), false);
});

test('an inlined frame shares its return address with the next: it is judged as that one', () => {
  const inlined = (symbol: string, module: string): Frame => ({ ...frame(symbol, module), inlined: true });
  // An unnamed last frame with a function inlined at it is still the last one walked.
  assert.equal(isPartialStack([frame('site', '/app'), inlined('helper', '/nofp'), frame(null, '/nofp')], keeps), false);
  assert.equal(isPartialStack([inlined('helper', '/nofp'), frame(null, '/nofp')], keeps), true);
  assert.equal(isPartialStack([inlined('helper', '/app'), frame('site', '/app'), frame('main', '/app'), frame('__libc_start_call_main', '/libc')], keeps), false);
});

test('a user stack ends before the first value that is no user address, and says it was cut', () => {
  const site = 0x5555_5555_1000;
  const caller = 0x7f12_3456_7000;
  assert.deepEqual(userStack([site, caller]), { ips: [site, caller], cut: false });
  assert.deepEqual(userStack([]), { ips: [], cut: false });
  // Non-canonical (the bytes of a string), the kernel's half, 5-level paging's top, and 0.
  for (const bad of [Number(0x316b61656c2f6600n), Number(0xffffffff81000000n), 2 ** 56 - 4096, 0]) {
    assert.deepEqual(userStack([site, bad, caller]), { ips: [site], cut: true }, bad.toString(16));
  }
  // Below 5-level paging's top: the BPF walk applies this machine's own bound.
  assert.deepEqual(userStack([site, 2 ** 56 - 8192]), { ips: [site, 2 ** 56 - 8192], cut: false });
});
