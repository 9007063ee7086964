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

test("glibc's free: the je after test %rdi,%rdi", () => {
  assert.deepEqual(chooseProbeSite([testRdi, je, pushRbp], ['rdi']), { fileOffset: 0x103, reason: 'je 0x1c8 at entry+3' });
});

test('an emulated first instruction is the entry itself', () => {
  const push = insn(0x200, 'push', 'r12', [0x41, 0x54], { writes: ['rsp'] });
  assert.equal(chooseProbeSite([push, testRdi], ['rdi']).fileOffset, 0x200);
});

test('never after an instruction that changes what the probe reads', () => {
  const movRdi = insn(0x100, 'mov', 'rdi, rax', [0x48, 0x89, 0xc7], { writes: ['rdi'] });
  assert.equal(chooseProbeSite([movRdi, je], ['rdi']).fileOffset, 0x100);
  const subRsp = insn(0x100, 'sub', 'rsp, 8', [0x48, 0x83, 0xec, 0x08], { writes: ['rsp', 'rflags'] });
  assert.equal(chooseProbeSite([subRsp, je], ['rdi']).fileOffset, 0x100);
});

test('never where a branch in the function lands before the site', () => {
  const loopBack = insn(0x150, 'jmp', '0x103', [0xeb, 0xb1], { groups: ['jump', 'branch_relative'], target: 0x103 });
  assert.equal(chooseProbeSite([testRdi, je, pushRbp, loopBack], ['rdi']).fileOffset, 0x100);
});

test('never on a five-byte nop; other nops and direct branches are emulated', () => {
  const nop5 = insn(0x100, 'nop', 'dword ptr [rax + rax]', [0x0f, 0x1f, 0x44, 0x00, 0x00]);
  assert.equal(kernelEmulates(nop5), false);
  assert.equal(kernelEmulates(insn(0, 'nop', '', [0x90])), true);
  assert.equal(kernelEmulates(je), true);
  assert.equal(kernelEmulates(insn(0, 'jmp', 'rax', [0xff, 0xe0], { groups: ['jump'] })), false, 'indirect');
  assert.equal(kernelEmulates(insn(0, 'ret', '', [0xc3], { groups: ['ret'] })), false);
  assert.equal(kernelEmulates(insn(0, 'push', 'qword ptr [rip + 8]', [0xff, 0x35, 8, 0, 0, 0])), false, 'push from memory');
  const testAfterNop = { ...testRdi, offset: 0x105 };
  assert.equal(chooseProbeSite([nop5, testAfterNop], ['rdi']).fileOffset, 0x105, 'falls back past the nop');
});

test('no instructions: no site', () => {
  assert.ok(Number.isNaN(chooseProbeSite([], ['rdi']).fileOffset));
});
