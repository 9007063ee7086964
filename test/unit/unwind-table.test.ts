// The addon's unwind tables against binutils reading the same CFI: every row
// readelf interprets for a small program built without frame pointers, and
// the rows glibc's own special frames (_start, __restore_rt, the PLT) need;
// and every such row of libc, libstdc++ and python3.11.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { addon, type UnwindTable } from '../../src/native/binding.js';
import { defines, enums } from '../../src/native/contract.generated.js';

const Rule = enums.lh_cfa_rule;
const RBP_LOST = -128; // LH_RBP_LOST, which the contract does not carry
const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';

// One function with a frame pointer among functions without: both kinds of
// CFA, and rbp saved. Lazy binding keeps the PLT's CFA expression.
const C_SOURCE = `#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) long leaf(long x) { return x * 3 + 1; }

__attribute__((noinline, optimize("no-omit-frame-pointer"))) long framed(long n) {
  char *buffer = malloc(n + 1);
  memset(buffer, 1, n);
  long sum = 0;
  for (long i = 0; i < n; ++i) sum += buffer[i] * leaf(i);
  free(buffer);
  return sum;
}

int main(int argc, char **argv) { return (int)framed(argc + strlen(argv[0])); }
`;

interface Row {
  start: number;
  cfaOffset: number;
  cfaRule: number;
  rbpOffset: number;
}

interface Segment {
  offset: number;
  vaddr: number;
  filesz: number;
}

function rows(table: UnwindTable): Row[] {
  const out: Row[] = [];
  for (let at = 0; at + 8 <= table.rows.length; at += 8) {
    out.push({
      start: table.rows.readUInt32LE(at),
      cfaOffset: table.rows.readInt16LE(at + 4),
      cfaRule: table.rows.readUInt8(at + 6),
      rbpOffset: table.rows.readInt8(at + 7),
    });
  }
  return out;
}

// The rule at a file offset, found the way BPF finds it: the page, then a
// binary search of its rows.
function ruleAt(table: UnwindTable, all: Row[], offset: number): Row | undefined {
  const page = Math.floor(offset / 4096);
  if ((page + 1) * 8 > table.pages.length) return undefined;
  const first = table.pages.readUInt32LE(page * 8);
  const count = table.pages.readUInt32LE(page * 8 + 4);
  let found: Row | undefined;
  for (let lo = first, hi = first + count; lo < hi; ) {
    const mid = (lo + hi) >> 1;
    if (all[mid]!.start <= offset) {
      found = all[mid];
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return found;
}

function loadSegments(file: string): Segment[] {
  const text = execFileSync('readelf', ['-lW', file], { encoding: 'utf8' });
  return [...text.matchAll(/^\s*LOAD\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)/gm)].map((m) => ({
    offset: Number(m[1]),
    vaddr: Number(m[2]),
    filesz: Number(m[3]),
  }));
}

function toOffset(segments: Segment[], vaddr: number): number {
  const segment = segments.find((s) => vaddr >= s.vaddr && vaddr < s.vaddr + s.filesz);
  assert.ok(segment, `0x${vaddr.toString(16)} is in no PT_LOAD`);
  return segment.offset + (vaddr - segment.vaddr);
}

interface ReadelfRow {
  loc: number;
  cfa: string;
  rbp: string;
  ra: string;
}

interface ReadelfFde {
  start: number;
  end: number;
  augmentation: string;
  rows: ReadelfRow[];
}

// readelf's interpretation: each FDE's rows, or its CIE's initial row when
// the FDE adds none.
function readelfFdes(file: string): ReadelfFde[] {
  // readelf exits 1 on libc, silently, having printed every entry.
  const text = spawnSync('readelf', ['--debug-dump=frames-interp', file], { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout;
  const cies = new Map<string, { augmentation: string; rows: ReadelfRow[] }>();
  const fdes: ReadelfFde[] = [];
  let columns: string[] = [];
  let current: ReadelfRow[] = [];
  for (const line of text.split('\n')) {
    const cie = /^([0-9a-f]+) [0-9a-f]+ [0-9a-f]+ CIE "([^"]*)"/.exec(line);
    const fde = /^[0-9a-f]+ [0-9a-f]+ [0-9a-f]+ FDE cie=([0-9a-f]+) pc=([0-9a-f]+)\.\.([0-9a-f]+)/.exec(line);
    if (cie) {
      current = [];
      cies.set(cie[1]!, { augmentation: cie[2]!, rows: current });
    } else if (fde) {
      const parent = cies.get(fde[1]!) ?? { augmentation: '', rows: [] };
      current = [];
      const start = parseInt(fde[2]!, 16);
      fdes.push({ start, end: parseInt(fde[3]!, 16), augmentation: parent.augmentation, rows: current });
      if (parent.rows.length > 0) current.push({ ...parent.rows[0]!, loc: start, fromCie: true } as ReadelfRow);
    } else if (/^\s+LOC\s+CFA/.test(line)) {
      columns = line.trim().split(/\s+/);
    } else if (/^[0-9a-f]{8,} /.test(line)) {
      const cells = line.trim().split(/\s+/);
      const cell = (name: string) => cells[columns.indexOf(name)] ?? 'u';
      const row = { loc: parseInt(cells[0]!, 16), cfa: cell('CFA'), rbp: cell('rbp'), ra: cell('ra') };
      // The FDE's own first row replaces the CIE's copy at the same place.
      if (current.length > 0 && (current[current.length - 1] as { fromCie?: boolean }).fromCie && current[0]!.loc === row.loc)
        current.pop();
      current.push(row);
    }
  }
  return fdes;
}

let dir = '';
let program = '';

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'leakhound-unwind-'));
  writeFileSync(path.join(dir, 'program.c'), C_SOURCE);
  program = path.join(dir, 'program');
  execFileSync('gcc', ['-O2', '-fomit-frame-pointer', '-fasynchronous-unwind-tables', '-pie', '-fPIE',
    '-Wl,-z,lazy', '-o', program, path.join(dir, 'program.c')]);
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Compares every row readelf interprets as rsp/rbp plus an offset (one the
 * table can hold) with the table's rule there; the number compared. */
function compareWithReadelf(file: string): number {
  const table = addon().unwindTable(file);
  const all = rows(table);
  const segments = loadSegments(file);
  let checked = 0;
  for (const fde of readelfFdes(file)) {
    for (const row of fde.rows) {
      const cfa = /^(rsp|rbp)\+(\d+)$/.exec(row.cfa);
      if (!cfa || row.ra !== 'c-8' || Number(cfa[2]) % 8 !== 0 || Number(cfa[2]) / 8 > 32767) continue;
      const got = ruleAt(table, all, toOffset(segments, row.loc));
      const rbp = /^c-(\d+)$/.exec(row.rbp);
      const saved = rbp && Number(rbp[1]) % 8 === 0 && Number(rbp[1]) / 8 < 128 ? -Number(rbp[1]) / 8 : null;
      assert.deepEqual(got && { rule: got.cfaRule, cfa: got.cfaOffset, rbp: got.rbpOffset }, {
        rule: cfa[1] === 'rsp' ? Rule.LH_CFA_RSP : Rule.LH_CFA_RBP,
        cfa: Number(cfa[2]) / 8,
        rbp: saved ?? (row.rbp === 'u' ? defines.LH_RBP_UNCHANGED : RBP_LOST),
      }, `${file}: row at 0x${row.loc.toString(16)}`);
      checked++;
    }
  }
  return checked;
}

test('every row readelf interprets for the program has the same rule', () => {
  const checked = compareWithReadelf(program);
  assert.ok(checked >= 8, `only ${checked} rows compared`);
});

test('a function entry, a push of rbp, the frame pointer, _start, the PLT and a gap', () => {
  const table = addon().unwindTable(program);
  const all = rows(table);
  const segments = loadSegments(program);
  const symbols = execFileSync('nm', [program], { encoding: 'utf8' });
  const address = (name: string) => parseInt(new RegExp(`^([0-9a-f]+) [Tt] ${name}$`, 'm').exec(symbols)![1]!, 16);
  const at = (vaddr: number) => ruleAt(table, all, toOffset(segments, vaddr));

  assert.deepEqual(at(address('leaf')), { ...at(address('leaf'))!, cfaRule: Rule.LH_CFA_RSP, cfaOffset: 1, rbpOffset: 0 });
  const framed = readelfFdes(program).find((fde) => fde.start === address('framed'))!;
  const push = framed.rows.find((row) => row.cfa === 'rsp+16')!;
  assert.ok(push, 'framed pushes rbp');
  assert.deepEqual(at(push.loc), { ...at(push.loc)!, cfaRule: Rule.LH_CFA_RSP, cfaOffset: 2, rbpOffset: -2 });
  const frame = framed.rows.find((row) => row.cfa === 'rbp+16')!;
  assert.deepEqual(at(frame.loc), { ...at(frame.loc)!, cfaRule: Rule.LH_CFA_RBP, cfaOffset: 2, rbpOffset: -2 });

  assert.equal(at(address('_start'))?.cfaRule, Rule.LH_CFA_END);

  const plt = /\.plt\s+PROGBITS\s+([0-9a-f]+)/.exec(execFileSync('readelf', ['-SW', program], { encoding: 'utf8' }));
  assert.ok(plt, 'the program has a lazy-binding .plt');
  assert.equal(at(parseInt(plt[1]!, 16) + 16)?.cfaRule, Rule.LH_CFA_PLT);

  // Past a function's end, before the next one's start (alignment padding).
  const fdes = readelfFdes(program).sort((a, b) => a.start - b.start);
  const gap = fdes.find((fde, i) => i + 1 < fdes.length && fde.end < fdes[i + 1]!.start);
  assert.ok(gap, 'the program has a gap between FDEs');
  assert.equal(at(gap.end)?.cfaRule, Rule.LH_CFA_UNKNOWN);
});

test("libc's signal trampoline (the FDE marked 'S') is a signal frame", () => {
  const table = addon().unwindTable(LIBC);
  const signal = readelfFdes(LIBC).find((fde) => fde.augmentation.includes('S'));
  assert.ok(signal, 'libc has an FDE with the S augmentation');
  const got = ruleAt(table, rows(table), toOffset(loadSegments(LIBC), signal.start));
  assert.equal(got?.cfaRule, Rule.LH_CFA_SIGNAL);
  assert.ok(table.fdes > 1000);
});

test('rows ascend and each page holds the rows a lookup in it needs', () => {
  const table = addon().unwindTable(LIBC);
  const all = rows(table);
  for (let i = 1; i < all.length; i++) assert.ok(all[i - 1]!.start < all[i]!.start, `row ${i} out of order`);
  for (let page = 0; page * 8 < table.pages.length; page++) {
    const from = page * 4096;
    let holding = -1;
    while (holding + 1 < all.length && all[holding + 1]!.start <= from) holding++;
    const inside = all.filter((row) => row.start > from && row.start < from + 4096).length;
    const count = table.pages.readUInt32LE(page * 8 + 4);
    assert.equal(count, (holding >= 0 ? 1 : 0) + inside, `page ${page}`);
    if (holding >= 0) assert.equal(table.pages.readUInt32LE(page * 8), holding, `page ${page}`);
  }
});

test('a file that is not ELF is ELF_INVALID', () => {
  assert.throws(() => addon().unwindTable('/etc/hostname-does-not-exist'), { code: 'ELF_INVALID' });
  assert.throws(() => addon().unwindTable('/etc/passwd'), { code: 'ELF_INVALID' });
});

// Objects of every size this machine has: glibc's hand-written CFI, C++ with
// LSDAs, and a large program: every row binutils reads the same way.
const WHOLE = [LIBC, '/usr/lib/x86_64-linux-gnu/libstdc++.so.6', '/usr/bin/python3.11'].filter((file) => existsSync(file));

test('whole objects: every row readelf interprets has the same rule', { timeout: 180_000 }, () => {
  for (const file of WHOLE) assert.ok(compareWithReadelf(file) > 10_000, file);
});
