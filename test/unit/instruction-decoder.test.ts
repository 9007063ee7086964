// The addon's Capstone decoder against a small program compiled here: one
// extent at a time (probe sites) and many from one open (the frame-pointer census).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { addon, type FileExtent } from '../../src/native/binding.js';

const C_SOURCE = `int with_frame(int x) { return x * 3; }
int main(int argc, char **argv) { (void)argv; return with_frame(argc) == 3 ? 0 : 1; }
`;

let dir = '';
let program = '';
let fileSize = 0;

function extentOf(name: string, size?: number): FileExtent {
  const [symbol] = addon().elfSymbols(program, [name]);
  assert.ok(symbol, `${name} found`);
  return { fileOffset: symbol.fileOffset, size: size ?? symbol.size };
}

function assertCode(action: () => unknown, code: string, file: string): void {
  assert.throws(action, (error: NodeJS.ErrnoException) => error.code === code && error.message.includes(file));
}

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'leakhound-decoder-'));
  program = path.join(dir, 'program');
  writeFileSync(path.join(dir, 'program.c'), C_SOURCE);
  execFileSync('cc', ['-O0', '-fno-omit-frame-pointer', path.join(dir, 'program.c'), '-o', program]);
  fileSize = statSync(program).size;
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('decodeFunctions gives each extent what decodeFunction gives it', () => {
  const extents = [extentOf('with_frame', 16), extentOf('main'), extentOf('with_frame')];
  const batch = addon().decodeFunctions(program, extents);
  assert.deepEqual(
    batch,
    extents.map((e) => addon().decodeFunction(program, e.fileOffset, e.size)),
  );
  const [prologue] = batch;
  assert.ok(Array.isArray(prologue) && prologue.length > 0 && prologue[0].offset === extents[0].fileOffset);
  const text = prologue.map((insn) => `${insn.mnemonic} ${insn.operands}`);
  assert.ok(text.includes('push rbp') && text.includes('mov rbp, rsp'), text.join('; '));
});

test('an extent outside the file fails alone', () => {
  const inside = extentOf('with_frame', 16);
  const outside = [
    { fileOffset: fileSize + 1, size: 4 },
    { fileOffset: fileSize - 2, size: 4 }, // runs past the end
    { fileOffset: Number.MAX_SAFE_INTEGER, size: 16 },
  ];
  const batch = addon().decodeFunctions(program, [inside, ...outside, { fileOffset: fileSize, size: 0 }]);
  assert.deepEqual(batch.slice(1), [{ code: 'OUTSIDE_FILE' }, { code: 'OUTSIDE_FILE' }, { code: 'OUTSIDE_FILE' }, []]);
  assert.deepEqual(batch[0], addon().decodeFunction(program, inside.fileOffset, inside.size));
  for (const e of outside) assertCode(() => addon().decodeFunction(program, e.fileOffset, e.size), 'OUTSIDE_FILE', program);
  assert.deepEqual(addon().decodeFunctions(program, []), []);
});

test('a file that is missing, a directory or a FIFO is ELF_INVALID, naming it, and never waited on', () => {
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  for (const file of [path.join(dir, 'missing'), dir, fifo]) {
    assertCode(() => addon().decodeFunctions(file, [{ fileOffset: 0, size: 16 }]), 'ELF_INVALID', file);
    assertCode(() => addon().decodeFunction(file, 0, 16), 'ELF_INVALID', file);
  }
});

test('bad arguments are type or range errors, and a call reads at most 64 KiB of at most 4096 extents', () => {
  const decoder = addon() as unknown as { decodeFunctions: (...args: unknown[]) => unknown; decodeFunction: (...args: unknown[]) => unknown };
  assert.throws(() => decoder.decodeFunctions(42, []), TypeError);
  assert.throws(() => decoder.decodeFunctions(program, {}), TypeError);
  assert.throws(() => decoder.decodeFunctions(program, [7]), TypeError);
  assert.throws(() => decoder.decodeFunctions(program, [{ fileOffset: -1, size: 1 }]), RangeError);
  assert.throws(() => decoder.decodeFunctions(program, [{ fileOffset: 0, size: 1.5 }]), RangeError);
  assert.throws(() => decoder.decodeFunctions(program, [{ fileOffset: 0 }]), RangeError);
  assert.throws(() => decoder.decodeFunction(program, -1, 16), RangeError);
  assert.throws(() => decoder.decodeFunctions(program, Array.from({ length: 4097 }, () => ({ fileOffset: 0, size: 0 }))), RangeError);
  assert.throws(() => decoder.decodeFunctions(program, [{ fileOffset: 0, size: 65536 }, { fileOffset: 0, size: 1 }]), RangeError);
  assert.equal((decoder.decodeFunctions(program, Array.from({ length: 4096 }, () => ({ fileOffset: 0, size: 16 }))) as unknown[]).length, 4096);
});
