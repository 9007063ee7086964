// buildReport's descriptors, mappings and invalid frees sections, from the
// accounts through stacks resolved as the heap's are.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Ledger } from '../../src/aggregate/ledger.js';
import { ResourceLedger } from '../../src/aggregate/resource-ledger.js';
import type { FdDetails } from '../../src/ingest/resource-sink.js';
import type { NativeTracer } from '../../src/native/binding.js';
import { COUNTERS, EventFlag } from '../../src/native/layout.js';
import { buildReport, type ReportInput } from '../../src/report/build.js';
import type { Frame } from '../../src/report/types.js';

const tracer = { counters: () => COUNTERS.map(() => 0), missedRuns: () => 0 } as unknown as NativeTracer;
const PAGE = 4096;
const MAP = 0x7f00_0000_0000;
const LIBC = '/usr/lib/x86_64-linux-gnu/libc.so.6';
const LOADER = '/usr/lib64/ld-linux-x86-64.so.2';

/** Stack id N walks N*0x100, N*0x100+1, N*0x100+2: each address names itself. */
const readStack = (id: number) => [id * 0x100, id * 0x100 + 1, id * 0x100 + 2];

/** Stacks 50-59 are the loader's, 60-69 the C library's; the rest the program's. */
function frame(ip: number): Frame {
  const stack = Math.floor(ip / 0x100);
  const module = stack >= 60 && stack < 70 ? LIBC : stack >= 50 && stack < 60 ? LOADER : '/opt/app';
  return { address: `0x${ip.toString(16)}`, symbol: `f${ip.toString(16)}`, module, file: null, line: null, offset: 0 };
}

function input(ledger: Ledger, resources?: ResourceLedger, extra: Partial<ReportInput> = {}): ReportInput {
  return {
    mode: 'user',
    target: { pid: 1, command: ['./app'], exitCode: 0, cpuMs: 1 },
    durationMs: 1,
    ledger,
    tracer,
    olderThanMs: 0,
    endClock: { ticks: 100, ns: 1 },
    readStack,
    resolveStacks: (stacks) => stacks.map((ips) => ips.map(frame)),
    isPartial: (_frames, walkCut) => walkCut,
    ...(resources ? { resources } : {}),
    ...extra,
  };
}

function details(name: string, mode = 0o100644): FdDetails {
  return { mode, family: 0, sockType: 0, syscall: 257, peerPort: 0, localPort: 0, peer: new Uint8Array(16), name };
}

const symbols = (frames: Frame[]) => frames.map((f) => f.symbol);

test('descriptors by stack, most first, with kinds and distinct examples', () => {
  const resources = new ResourceLedger();
  resources.fdOpen(1, 3, 2, 10, 0, details('/etc/hosts'));
  resources.fdOpen(1, 4, 3, 10, EventFlag.stackCut, details('pipe:', 0o010600));
  resources.fdOpen(1, 5, 3, 10, 0, details('pipe:', 0o010600));
  resources.fdOpen(1, 6, 3, 10, 0, details('[eventfd]', 0o600));
  resources.fdOpen(1, 7, 2, 10, 0, details('/tmp/gone'));
  resources.fdClose(1, 7, 7);
  const report = buildReport(input(new Ledger(), resources));
  assert.deepEqual(report.fds && { ...report.fds, stacks: report.fds.stacks.map(({ frames, ...rest }) => ({ ...rest, frames: symbols(frames) })) }, {
    outstanding: 4,
    opened: 5,
    closed: 1,
    stacks: [
      { count: 3, kinds: { pipe: 2, eventfd: 1 }, examples: ['pipe', 'eventfd'], frames: ['f300', 'f301', 'f302'], truncated: false, partial: true },
      { count: 1, kinds: { file: 1 }, examples: ['/etc/hosts'], frames: ['f200', 'f201', 'f202'], truncated: false, partial: false },
    ],
  });
});

test('mappings by stack and kind, largest first; the loader\'s shown as such; --older-than applies', () => {
  // Ticks as the kernel starts them at HZ=1000 (report/ticks.ts), so the clock below reads as 1000 Hz.
  const T0 = 2 ** 32 - 300 * 1000;
  const resources = new ResourceLedger();
  resources.map(1, MAP, 4 * PAGE, 2, T0 + 10, 0);
  resources.map(1, MAP + 8 * PAGE, PAGE, 2, T0 + 10, 0);
  resources.map(1, MAP + 16 * PAGE, 8 * PAGE, 3, T0 + 10, 2 << 8);
  resources.map(1, MAP + 32 * PAGE, 2 * PAGE, 51, T0 + 10, 1 << 8);
  resources.map(1, MAP + 40 * PAGE, 2 * PAGE, 4, T0 + 10, 3 << 8);
  resources.map(1, MAP + 48 * PAGE, 64 * PAGE, 5, T0 + 99, 0);
  const endClock = { ticks: T0 + 100, ns: 0.1e9 };
  const all = buildReport(input(new Ledger(), resources, { endClock })).mappings!;
  assert.deepEqual(all.stacks.map((s) => [s.kind, s.bytes, s.count, s.frames[0].symbol]), [
    ['anonymous', 64 * PAGE, 1, 'f500'],
    ['allocator', 8 * PAGE, 1, 'f300'],
    ['anonymous', 5 * PAGE, 2, 'f200'],
    ['loader', 2 * PAGE, 1, 'f3300'],
    ['thread-stack', 2 * PAGE, 1, 'f400'],
  ]);
  assert.deepEqual([all.outstandingBytes, all.outstanding], [81 * PAGE, 6]);
  const old = buildReport(input(new Ledger(), resources, { endClock, olderThanMs: 10 })).mappings!;
  assert.ok(!old.stacks.some((s) => s.frames[0].symbol === 'f500'), 'the mapping made 1 ms before the end is too young');
  assert.deepEqual([old.outstandingBytes, old.outstanding], [17 * PAGE, 5]);
});

test('invalid frees: frames from the free\'s caller, the first free\'s stack, the C library\'s own unknown pointers left out', () => {
  const ledger = new Ledger({ unknownPointers: true });
  ledger.alloc(1, 0x1000, 16, 7, 1, 0);
  ledger.free(1, 0x1000, 0, 8);
  ledger.free(1, 0x1000, 0, 9);
  ledger.free(1, 0x2000, 0, 61);
  ledger.free(1, 0x3000, 0, 52);
  ledger.free(1, 0x4000, 0, 0);
  for (let i = 0; i < 12; i++) ledger.free(1, 0x10000 + 16 * i, 0, 62);
  const report = buildReport(input(ledger));
  assert.deepEqual(
    report.invalidFrees?.map((free) => [free.kind, free.address, symbols(free.frames), free.previousFree && symbols(free.previousFree.frames)]),
    [
      ['double-free', '0x1000', ['f901', 'f902'], ['f801', 'f802']],
      ['unknown-pointer', '0x4000', [], null],
    ],
  );
  assert.equal(report.invalidFreesOmitted, 0, 'the repeats of a stack left out are left out too');
});

test('the count of invalid frees not listed is their own and their stacks\' repeats', () => {
  const ledger = new Ledger({ unknownPointers: true });
  for (let i = 0; i < 13; i++) ledger.free(1, 0x10000 + 16 * i, 0, 9);
  assert.equal(buildReport(input(ledger)).invalidFreesOmitted, 3);
});

test('nothing of the kind when not traced (kernel mode)', () => {
  const report = buildReport(input(new Ledger({ perProcess: false })));
  for (const key of ['fds', 'mappings', 'invalidFrees', 'invalidFreesOmitted']) assert.ok(!(key in report), key);
});
