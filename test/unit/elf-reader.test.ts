// The addon's ELF/DWARF reader against small programs compiled here, checked
// against binutils (nm, readelf, addr2line) reading the same files.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { addon } from '../../src/native/binding.js';
import type { ElfSymbol, SourceLocation } from '../../src/native/elf-types.js';

const C_SOURCE = `#include <stdlib.h>

void *leak_one(size_t n) { return malloc(n); }

__attribute__((weak)) int weak_hook(int x) { return x + 1; }

static inline __attribute__((always_inline)) void *innermost(size_t n) {
  return malloc(n * 3); /* innermost-call */
}

static inline __attribute__((always_inline)) void *inner(size_t n) {
  return innermost(n + 1); /* inner-call */
}

__attribute__((noinline)) void *outer(size_t n) {
  void *p = inner(n); /* outer-call */
  return p;
}

int main(int argc, char **argv) {
  (void)argv;
  return leak_one(argc) && outer(argc) && weak_hook(argc) ? 0 : 1;
}
`;

const CXX_SOURCE = `namespace app {
struct Widget {
  static Widget *make();
  int value = 0;
};
Widget *Widget::make() { return new Widget(); }
}  // namespace app

template <typename T> T *build() { return new T(); }

int main() { return app::Widget::make() && build<app::Widget>() ? 0 : 1; }
`;

// Two versions of one name; the default (@@) must win whichever comes first.
const VERSIONED_SOURCE = `int api_v1(void) { return 1; }
int api_v2(void) { return 2; }
__asm__(".symver api_v1, api@VER_1");
__asm__(".symver api_v2, api@@VER_2");
`;
const VERSION_SCRIPT = 'VER_1 { global: api; local: *; };\nVER_2 { global: api; } VER_1;\n';

let dir = '';
let program = '';
let cxxProgram = '';
let versioned = '';
let source = '';

function run(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8' });
}

function lineOf(text: string, marker: string): number {
  return text.split('\n').findIndex((line) => line.includes(marker)) + 1;
}

/** nm's address and size of a defined symbol. */
function nmSymbol(file: string, name: string): { address: number; size: number } {
  const line = run('nm', ['-S', '--defined-only', file])
    .split('\n')
    .find((entry) => entry.split(' ').at(-1) === name);
  assert.ok(line, `nm lists ${name}`);
  const [address, size] = line.split(' ');
  return { address: parseInt(address, 16), size: parseInt(size, 16) };
}

/** The file offset of a virtual address, from readelf's PT_LOAD lines. */
function readelfFileOffset(file: string, address: number): number {
  for (const line of run('readelf', ['-lW', file]).split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[0] !== 'LOAD') continue;
    const [offset, vaddr, , fileSize] = fields.slice(1, 5).map((hex) => parseInt(hex, 16));
    if (address >= vaddr && address < vaddr + fileSize) return address - vaddr + offset;
  }
  assert.fail(`no PT_LOAD holds 0x${address.toString(16)}`);
}

/** Where a section lies in the file, from readelf. */
function readelfSection(file: string, name: string): { offset: number; size: number } {
  const line = run('readelf', ['-SW', file])
    .split('\n')
    .find((entry) => entry.includes(` ${name} `));
  assert.ok(line, `readelf lists ${name}`);
  const fields = line.replace(/^.*\]/, '').trim().split(/\s+/);
  return { offset: parseInt(fields[3]!, 16), size: parseInt(fields[4]!, 16) };
}

/** readelf's FDE start addresses (pc=START..END), ascending and distinct. */
function fdeStarts(file: string): number[] {
  const starts = run('readelf', ['--debug-dump=frames', file])
    .split('\n')
    .flatMap((line) => line.match(/ FDE .* pc=([0-9a-f]+)\.\./)?.[1] ?? [])
    .map((hex) => parseInt(hex, 16));
  return [...new Set(starts)].sort((a, b) => a - b);
}

function symbol(file: string, name: string): ElfSymbol {
  const [found] = addon().elfSymbols(file, [name]);
  assert.ok(found, `${name} found in ${file}`);
  return found;
}

function symbolize(file: string, fileOffsets: number[]): SourceLocation[] {
  const symbolizer = new (addon().Symbolizer)();
  try {
    return symbolizer.symbolize(file, fileOffsets);
  } finally {
    symbolizer.close();
  }
}

function assertElfInvalid(action: () => unknown, file: string): void {
  assert.throws(action, (error: NodeJS.ErrnoException) => error.code === 'ELF_INVALID' && error.message.includes(file));
}

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'leakhound-elf-'));
  source = path.join(dir, 'leaky.c');
  program = path.join(dir, 'leaky');
  cxxProgram = path.join(dir, 'widget');
  versioned = path.join(dir, 'libversioned.so');
  writeFileSync(source, C_SOURCE);
  writeFileSync(path.join(dir, 'widget.cpp'), CXX_SOURCE);
  writeFileSync(path.join(dir, 'versioned.c'), VERSIONED_SOURCE);
  writeFileSync(path.join(dir, 'versioned.map'), VERSION_SCRIPT);
  const flags = ['-g', '-O0', '-fno-omit-frame-pointer'];
  run('cc', [...flags, source, '-o', program]);
  run('c++', [...flags, path.join(dir, 'widget.cpp'), '-o', cxxProgram]);
  run('cc', ['-shared', '-fPIC', `-Wl,--version-script=${path.join(dir, 'versioned.map')}`, path.join(dir, 'versioned.c'), '-o', versioned]);
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('elfSymbols gives nm addresses and sizes and readelf file offsets', () => {
  for (const name of ['leak_one', 'outer', 'main', 'weak_hook']) {
    const expected = nmSymbol(program, name);
    assert.deepEqual(symbol(program, name), { name, address: expected.address, fileOffset: readelfFileOffset(program, expected.address), size: expected.size });
  }
});

test('elfSymbols leaves out undefined, local and unknown names, in the order asked', () => {
  const found = addon().elfSymbols(program, ['main', 'malloc', 'inner', 'no_such_function', 'leak_one', 'main']);
  assert.deepEqual(found.map((entry) => entry.name), ['main', 'leak_one']);
});

test('elfSymbols takes the default version of a versioned name', () => {
  const expected = nmSymbol(versioned, 'api_v2').address;
  assert.equal(symbol(versioned, 'api').address, expected);
  assert.equal(symbol(versioned, 'api').fileOffset, readelfFileOffset(versioned, expected));
});

test('elfInfo agrees with readelf, before and after strip', () => {
  const buildId = /Build ID: ([0-9a-f]+)/.exec(run('readelf', ['-n', program]))?.[1];
  const interpreter = /Requesting program interpreter: ([^\]]+)\]/.exec(run('readelf', ['-lW', program]))?.[1];
  assert.deepEqual(addon().elfInfo(program), { type: 'dyn', interpreter, hasSymtab: true, hasDebugInfo: true, buildId });
  const stripped = path.join(dir, 'leaky-stripped');
  run('strip', ['-o', stripped, program]);
  assert.deepEqual(addon().elfInfo(stripped), { type: 'dyn', interpreter, hasSymtab: false, hasDebugInfo: false, buildId });
  assert.equal(addon().elfInfo(versioned).interpreter, null);
});

/** The C program without .symtab: its .dynsym defines no function. */
function strippedProgram(name: string): string {
  const stripped = path.join(dir, name);
  run('strip', ['-o', stripped, program]);
  return stripped;
}

test('elfFunctionSample of a stripped program runs each function in .eh_frame_hdr to the next start', () => {
  const stripped = strippedProgram('leaky-unwound');
  const starts = fdeStarts(stripped);
  // The last start has no next one: it is left out.
  const expected = starts.slice(0, -1).map((address, i) => ({ name: '', address, fileOffset: readelfFileOffset(stripped, address), size: Math.min(starts[i + 1]! - address, 65536) }));
  assert.ok(expected.length >= 5, `readelf lists ${starts.length} FDEs`);
  assert.deepEqual(addon().elfFunctionSample(stripped, 64), expected);
  // Spread over the table when it lists more than asked for.
  assert.deepEqual(addon().elfFunctionSample(stripped, 2), [expected[0], expected[Math.floor(expected.length / 2)]]);
  // The functions nm named before the strip are among them (main is last).
  for (const name of ['leak_one', 'weak_hook', 'outer']) {
    assert.ok(expected.some((fn) => fn.address === nmSymbol(program, name).address), name);
  }
});

test('a malformed .eh_frame_hdr gives no functions, or only functions within the file, never a crash', () => {
  const stripped = strippedProgram('leaky-unwound-damaged');
  const bytes = readFileSync(stripped);
  const hdr = readelfSection(stripped, '.eh_frame_hdr');
  // Version 1; .eh_frame pointer pc-relative sdata4, count udata4, table data-relative sdata4.
  assert.deepEqual([...bytes.subarray(hdr.offset, hdr.offset + 4)], [1, 0x1b, 0x03, 0x3b]);
  const good = addon().elfFunctionSample(stripped, 64);
  const damaged = path.join(dir, 'damaged-hdr');
  const sample = (patch: (copy: Buffer) => void) => {
    const copy = Buffer.from(bytes);
    patch(copy);
    writeFileSync(damaged, copy);
    return addon().elfFunctionSample(damaged, 64);
  };
  assert.deepEqual(sample((copy) => copy.writeUInt8(2, hdr.offset)), [], 'an unknown version');
  assert.deepEqual(sample((copy) => copy.writeUInt8(0xff, hdr.offset + 3)), [], 'no table');
  assert.deepEqual(sample((copy) => copy.writeUInt8(0x31, hdr.offset + 3)), [], 'LEB128 entries');
  assert.deepEqual(sample((copy) => copy.writeUInt8(0xbb, hdr.offset + 3)), [], 'indirect entries');
  assert.deepEqual(sample((copy) => copy.writeUInt32LE(0xffffffff, hdr.offset + 8)), [], 'more entries than bytes');
  assert.deepEqual(sample((copy) => copy.writeUInt32LE(3, hdr.offset + 8)), good.slice(0, 2), 'fewer entries: only those');
  // Out of order (the first two swapped): sorted again.
  const swapped = sample((copy) => bytes.copy(copy, hdr.offset + 12, hdr.offset + 20, hdr.offset + 28) && bytes.copy(copy, hdr.offset + 20, hdr.offset + 12, hdr.offset + 20));
  assert.deepEqual(swapped, good);
  // Flips in the header and table (xorshift, so that a failure reproduces).
  let seed = 0x1b873593;
  const next = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  for (let i = 0; i < 200; i++) {
    const functions = sample((copy) => {
      for (let flips = 0; flips < 4; flips++) copy[hdr.offset + (next() % hdr.size)] = next() & 0xff;
    });
    for (const [j, fn] of functions.entries()) {
      assert.ok(fn.size > 0 && fn.size <= 65536 && fn.fileOffset + fn.size <= bytes.length, JSON.stringify(fn));
      if (j > 0) assert.ok(fn.address > functions[j - 1]!.address, 'ascending');
    }
  }
});

test('symbolize names the function, the offset into it and the source line', () => {
  const leakOne = symbol(program, 'leak_one');
  const main = symbol(program, 'main');
  assert.deepEqual(symbolize(program, [leakOne.fileOffset + 4, main.fileOffset]), [
    { symbol: 'leak_one', symbolOffset: 4, file: source, line: lineOf(C_SOURCE, 'void *leak_one'), inlined: [] },
    { symbol: 'main', symbolOffset: 0, file: source, line: lineOf(C_SOURCE, 'int main'), inlined: [] },
  ]);
});

test('inside inlined code the line is the call site in the function named', () => {
  const outer = symbol(program, 'outer');
  const offsets = Array.from({ length: outer.size }, (_, i) => outer.fileOffset + i);
  const inlinedLines = [lineOf(C_SOURCE, 'innermost-call'), lineOf(C_SOURCE, 'inner-call')];
  // addr2line without -i reports the innermost line: it proves that some of
  // these addresses are code inlined two levels deep.
  const innermost = run('addr2line', ['-e', program, ...offsets.map((offset) => `0x${(offset - outer.fileOffset + outer.address).toString(16)}`)]);
  assert.ok(innermost.includes(`:${inlinedLines[0]}`));
  const located = symbolize(program, offsets);
  assert.ok(located.every((where) => where.symbol === 'outer' && !inlinedLines.includes(where.line ?? 0)));
  assert.ok(located.some((where) => where.line === lineOf(C_SOURCE, 'outer-call')));
});

test('inlined calls are listed innermost first, each with its own line, as addr2line -i reads them', () => {
  const outer = symbol(program, 'outer');
  const offsets = Array.from({ length: outer.size }, (_, i) => outer.fileOffset + i);
  const located = symbolize(program, offsets);
  const depth = located.map((where) => where.inlined.length);
  assert.ok(depth.includes(0) && depth.includes(1) && depth.includes(2), `depths ${[...new Set(depth)]}`);
  const line = (marker: string) => lineOf(C_SOURCE, marker);
  for (const [i, where] of located.entries()) {
    const frames = [...where.inlined, where].map((frame) => `${frame.symbol} ${frame.file}:${frame.line}`);
    // addr2line -i: the innermost function's line, then each caller's call site.
    const address = `0x${(offsets[i]! - outer.fileOffset + outer.address).toString(16)}`;
    const lines = run('addr2line', ['-i', '-f', '-e', program, address]).trim().split('\n');
    const expected = [];
    for (let j = 0; j < lines.length; j += 2) expected.push(`${lines[j]} ${lines[j + 1]!.replace(/ \(discriminator \d+\)$/, '')}`);
    assert.deepEqual(frames, expected, `at outer+${i}`);
    if (where.inlined.length === 2) {
      assert.deepEqual(
        frames,
        [`innermost ${source}:${line('innermost-call')}`, `inner ${source}:${line('inner-call')}`, `outer ${source}:${line('outer-call')}`],
      );
    }
  }
});

test('C++ names are demangled to the qualified function name', () => {
  const mangled = (plain: string) =>
    run('nm', ['--defined-only', cxxProgram])
      .split('\n')
      .map((line) => line.split(' ').at(-1) ?? '')
      .find((name) => run('c++filt', [name]).trim().startsWith(plain)) ?? '';
  const make = symbol(cxxProgram, mangled('app::Widget::make()'));
  const build = symbol(cxxProgram, mangled('app::Widget* build<app::Widget>()'));
  const [makeAt, buildAt] = symbolize(cxxProgram, [make.fileOffset + 1, build.fileOffset + 1]);
  assert.equal(makeAt.symbol, 'app::Widget::make');
  assert.equal(buildAt.symbol, 'build<app::Widget>');
  assert.equal(makeAt.line, lineOf(CXX_SOURCE, 'Widget::make() {'));
});

test('unknown offsets and unreadable files give empty locations', () => {
  const empty = { symbol: null, symbolOffset: 0, file: null, line: null, inlined: [] };
  assert.deepEqual(symbolize(program, [10_000_000]), [empty]);
  assert.deepEqual(symbolize(path.join(dir, 'missing'), [0, 1]), [empty, empty]);
  assert.deepEqual(symbolize(source, [0]), [empty]);
  assert.deepEqual(symbolize(dir, [0]), [empty]);
});

test('a file that is missing or not ELF is ELF_INVALID, naming it', () => {
  for (const file of [path.join(dir, 'missing'), source, dir]) {
    assertElfInvalid(() => addon().elfSymbols(file, ['main']), file);
    assertElfInvalid(() => addon().elfInfo(file), file);
  }
});

test('bad arguments are type errors', () => {
  const elf = addon() as unknown as { elfSymbols: (...args: unknown[]) => unknown; Symbolizer: new () => { symbolize: (...args: unknown[]) => unknown } };
  assert.throws(() => elf.elfSymbols(42, []), TypeError);
  assert.throws(() => elf.elfSymbols(program, [1]), TypeError);
  assert.throws(() => new elf.Symbolizer().symbolize(program, [-1]), RangeError);
  assert.throws(() => new elf.Symbolizer().symbolize(program, [1.5]), RangeError);
});

test('a file replaced under the same path is read again', () => {
  const target = path.join(dir, 'replaced');
  copyFileSync(program, target);
  const symbolizer = new (addon().Symbolizer)();
  try {
    const offset = symbol(program, 'leak_one').fileOffset;
    assert.equal(symbolizer.symbolize(target, [offset])[0].symbol, 'leak_one');
    rmSync(target);
    copyFileSync(cxxProgram, target);
    assert.notEqual(symbolizer.symbolize(target, [offset])[0].symbol, 'leak_one');
  } finally {
    symbolizer.close();
  }
});

test('truncated and corrupted copies give ELF_INVALID or empty results, never a crash', () => {
  const bytes = readFileSync(program);
  const damaged = path.join(dir, 'damaged');
  const offsets = [symbol(program, 'leak_one').fileOffset, symbol(program, 'main').fileOffset];
  // A fixed sequence of byte flips (xorshift), so that a failure reproduces.
  let seed = 0x2545f491;
  const next = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  const copies = [0, 4, 63, 64, 200, 4096, bytes.length >> 1, bytes.length - 1].map((length) => bytes.subarray(0, length));
  for (let i = 0; i < 40; i++) {
    const copy = Buffer.from(bytes);
    for (let flips = 0; flips < 16; flips++) copy[next() % copy.length] = next() & 0xff;
    copies.push(copy);
  }
  for (const copy of copies) {
    writeFileSync(damaged, copy);
    for (const read of [() => addon().elfSymbols(damaged, ['main', 'leak_one']), () => addon().elfInfo(damaged)]) {
      try {
        read();
      } catch (error) {
        assert.equal((error as NodeJS.ErrnoException).code, 'ELF_INVALID');
      }
    }
    assert.equal(symbolize(damaged, offsets).length, offsets.length);
  }
  for (const length of [0, 64, 200]) {
    writeFileSync(damaged, bytes.subarray(0, length));
    assertElfInvalid(() => addon().elfSymbols(damaged, ['main']), damaged);
  }
});
