// Probe-site choice over decoded instructions (shaped as Capstone gives them).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { chooseProbeSite, type Instruction, kernelEmulates } from '../../src/target/probe-site.js';

function insn(offset: number, mnemonic: string, operands: string, bytes: number[], extra: Partial<Instruction> = {}): Instruction {
  return { offset, size: bytes.length, mnemonic, operands, bytes: Uint8Array.from(bytes), groups: [], writes: [], target: null, ...extra };
}

const testRdi = insn(0x100, 'test', 'rdi, rdi', [0x48, 0x85, 0xff], { writes: ['rflags'] });
const je = insn(0x103, 'je', '0x1c8', [0x0f, 0x84, 0xbf, 0, 0, 0], { groups: ['jump', 'branch_relative'], target: 0x1c8 });
const pushRbp = insn(0x109, 'push', 'rbp', [0x55], { writes: ['rsp'] });

const endbr64 = (offset: number) => insn(offset, 'endbr64', '', [0xf3, 0x0f, 0x1e, 0xfa]);
const jmp = (offset: number, target: number) => insn(offset, 'jmp', `0x${target.toString(16)}`, [0xe9, 0, 0, 0, 0], { groups: ['branch_relative', 'jump'], target });
const call = (offset: number, target: number) => insn(offset, 'call', `0x${target.toString(16)}`, [0xe8, 0, 0, 0, 0], { groups: ['call', 'branch_relative', 'mode64'], writes: ['rsp'], target });

test("glibc's free: the je after test %rdi,%rdi", () => {
  assert.deepEqual(chooseProbeSite([testRdi, je, pushRbp], ['rdi']), { fileOffset: 0x103, reason: 'je 0x1c8 at entry+3 (after test rdi, rdi)' });
});

test('an emulated first instruction is the entry itself', () => {
  const push = insn(0x200, 'push', 'r12', [0x41, 0x54], { writes: ['rsp'] });
  assert.deepEqual(chooseProbeSite([push, testRdi], ['rdi']), { fileOffset: 0x200, reason: 'push r12 at entry' });
});

test('a CET-built allocator: endbr64 is passed over, the push after it taken (entry and return probes alike)', () => {
  const push = insn(0x204, 'push', 'r12', [0x41, 0x54], { writes: ['rsp'] });
  assert.deepEqual(chooseProbeSite([endbr64(0x200), push], ['rdi']), { fileOffset: 0x204, reason: 'push r12 at entry+4 (after endbr64)' });
});

// libstdc++ 12 (Debian 12), decoded: every operator new begins with endbr64.
test("libstdc++'s operator new: the push of rbx, past writes that leave rdi and rsp alone", () => {
  const znwm = [
    endbr64(0xa9570),
    insn(0xa9574, 'test', 'rdi, rdi', [0x48, 0x85, 0xff], { writes: ['rflags'] }),
    insn(0xa9577, 'mov', 'eax, 1', [0xb8, 1, 0, 0, 0], { writes: ['eax'] }),
    insn(0xa957c, 'push', 'rbx', [0x53], { groups: ['mode64'], writes: ['rsp'] }),
    insn(0xa957d, 'cmovne', 'rax, rdi', [0x48, 0x0f, 0x45, 0xc7], { groups: ['cmov'], writes: ['rax'] }),
    insn(0xa9581, 'mov', 'rbx, rax', [0x48, 0x89, 0xc3], { writes: ['rbx'] }),
    insn(0xa9584, 'mov', 'rdi, rbx', [0x48, 0x89, 0xdf], { writes: ['rdi'] }),
    call(0xa9587, 0x99df0),
    // The new-handler loop comes back after the site: still passed once a call.
    jmp(0xa95a3, 0xa9584),
  ];
  assert.deepEqual(chooseProbeSite(znwm, ['rdi']), { fileOffset: 0xa957c, reason: 'push rbx at entry+12 (after endbr64; test rdi, rdi; mov eax, 1)' });
});

test("libstdc++'s operator new[]: the tail jump to operator new", () => {
  assert.equal(chooseProbeSite([endbr64(0xa95d0), jmp(0xa95d4, 0x998d0)], ['rdi']).fileOffset, 0xa95d4);
});

test('nothrow operator new moves the stack pointer first: single-stepped at the entry, and says why', () => {
  const nothrow = [endbr64(0xa95b0), insn(0xa95b4, 'sub', 'rsp, 8', [0x48, 0x83, 0xec, 0x08], { writes: ['rflags', 'rsp'] }), call(0xa95b8, 0x998d0)];
  assert.deepEqual(chooseProbeSite(nothrow, ['rdi']), { fileOffset: 0xa95b0, reason: 'entry (endbr64 is single-stepped: sub rsp, 8 at entry+4 changes rsp)' });
});

// test/fixtures/libcetmalloc.c, gcc 12 -O2 -fcf-protection=full.
test('reallocarray: which registers the entry program reads decides', () => {
  const reallocarray = [
    endbr64(0x11c0),
    insn(0x11c4, 'mov', 'rax, rsi', [0x48, 0x89, 0xf0], { writes: ['rax'] }),
    insn(0x11c7, 'mul', 'rdx', [0x48, 0xf7, 0xe2], { writes: ['rax', 'rdx', 'rflags'] }),
    insn(0x11ca, 'jo', '0x11d4', [0x70, 0x08], { groups: ['branch_relative', 'jump'], target: 0x11d4 }),
  ];
  assert.deepEqual(chooseProbeSite(reallocarray, ['rdi', 'rsi', 'rdx']), { fileOffset: 0x11c0, reason: 'entry (endbr64 is single-stepped: mul rdx at entry+7 changes rdx)' });
  assert.equal(chooseProbeSite(reallocarray, ['rdi', 'rsi']).fileOffset, 0x11ca, 'were rdx not read, the jo would do');
});

test('never after an instruction that changes what the probe reads', () => {
  const movRdi = insn(0x100, 'mov', 'rdi, rax', [0x48, 0x89, 0xc7], { writes: ['rdi'] });
  assert.equal(chooseProbeSite([movRdi, je], ['rdi']).fileOffset, 0x100);
  const movEsi = insn(0x100, 'mov', 'esi, 1', [0xbe, 1, 0, 0, 0], { writes: ['esi'] });
  assert.equal(chooseProbeSite([movEsi, je], ['rdi', 'rsi']).fileOffset, 0x100, 'a register written through its 32-bit name');
  assert.equal(chooseProbeSite([movEsi, { ...je, offset: 0x105 }], ['rdi']).fileOffset, 0x105, 'a register the program does not read');
  const subRsp = insn(0x100, 'sub', 'rsp, 8', [0x48, 0x83, 0xec, 0x08], { writes: ['rsp', 'rflags'] });
  assert.equal(chooseProbeSite([subRsp, je], ['rdi']).fileOffset, 0x100);
});

test('never past an indirect branch', () => {
  const jmpRax = insn(0x100, 'jmp', 'rax', [0xff, 0xe0], { groups: ['jump'] });
  assert.deepEqual(chooseProbeSite([jmpRax, je], ['rdi']), { fileOffset: 0x100, reason: 'entry (jmp rax is single-stepped: jmp rax at entry may leave the function)' });
});

test('never where a branch in the function lands before the site', () => {
  const loopBack = insn(0x150, 'jmp', '0x103', [0xeb, 0xb1], { groups: ['jump', 'branch_relative'], target: 0x103 });
  const site = chooseProbeSite([testRdi, je, pushRbp, loopBack], ['rdi']);
  assert.deepEqual(site, { fileOffset: 0x100, reason: 'entry (test rdi, rdi is single-stepped: a branch in the function lands at entry+3 or before)' });
});

test('never on a five-byte nop; other nops and direct branches are emulated', () => {
  const nop5 = insn(0x100, 'nop', 'dword ptr [rax + rax]', [0x0f, 0x1f, 0x44, 0x00, 0x00]);
  assert.equal(kernelEmulates(nop5), false);
  assert.equal(kernelEmulates(insn(0, 'nop', '', [0x90])), true);
  assert.equal(kernelEmulates(je), true);
  assert.equal(kernelEmulates(endbr64(0)), false);
  assert.equal(kernelEmulates(insn(0, 'jmp', 'rax', [0xff, 0xe0], { groups: ['jump'] })), false, 'indirect');
  assert.equal(kernelEmulates(insn(0, 'ret', '', [0xc3], { groups: ['ret'] })), false);
  assert.equal(kernelEmulates(insn(0, 'push', 'qword ptr [rip + 8]', [0xff, 0x35, 8, 0, 0, 0])), false, 'push from memory');
  const testAfterNop = { ...testRdi, offset: 0x105 };
  assert.equal(chooseProbeSite([nop5, testAfterNop], ['rdi']).fileOffset, 0x105, 'falls back past the nop');
});

test('no instructions: no site', () => {
  assert.ok(Number.isNaN(chooseProbeSite([], ['rdi']).fileOffset));
});
