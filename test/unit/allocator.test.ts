// Which object's allocator gets probed, and in what order.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { LeakhoundError } from '../../src/errors.js';
import { AllocFn } from '../../src/native/layout.js';
import { chooseAllocator, type FunctionSymbol, type ProbeEnvironment } from '../../src/target/allocator.js';

/** `table` by the path as opened; `mapped` the names the target maps, by what a user may call them. */
function objects(
  table: Record<string, Record<string, number>>,
  open: (path: string) => string | null = (path) => path,
  mapped: Record<string, string> = {},
): ProbeEnvironment {
  return {
    lookup: (path, names) =>
      names.flatMap((name): FunctionSymbol[] => {
        const offset = table[path]?.[name];
        return offset === undefined ? [] : [{ name, address: offset, fileOffset: offset, size: 16 }];
      }),
    open,
    mapped: (path) => mapped[path] ?? null,
    // Stands in for the instruction decoder: the site is 3 bytes in.
    place: (_path, symbol, reads) => {
      placed.push({ symbol: symbol.name, reads });
      return symbol.fileOffset + 3;
    },
  };
}

/** What each place() call was asked, in order. */
const placed: { symbol: string; reads: string[] }[] = [];

const LIBC = '/usr/lib/x86_64-linux-gnu/libc.so.6';
const glibc = { malloc: 0x100, free: 0x200, calloc: 0x300, realloc: 0x400, memalign: 0x500, aligned_alloc: 0x500 };

test('glibc is probed when nothing else defines malloc; aliases once; free, then returns, then entries', () => {
  const choice = chooseAllocator('/app', [LIBC], objects({ [LIBC]: glibc }), null);
  assert.equal(choice.allocator, LIBC);
  assert.equal(choice.cxxRuntime, null);
  assert.equal(choice.probes[0].program, 'free_enter', 'free comes off last');
  const rest = choice.probes.slice(1);
  const firstEntry = rest.findIndex((p) => !p.isReturn);
  assert.ok(firstEntry > 0 && rest.slice(0, firstEntry).every((p) => p.isReturn));
  assert.ok(rest.slice(firstEntry).every((p) => p.program === 'alloc_enter'));
  assert.equal(choice.probes.filter((p) => p.fileOffset === 0x503).length, 2, 'memalign/aligned_alloc probed once (entry + return)');
  assert.deepEqual(choice.probes.find((p) => p.program === 'free_enter'), { program: 'free_enter', cookie: 0, symbol: 'free', path: LIBC, fileOffset: 0x203, isReturn: false });
});

test('entry and return probes share the placed site; each placement guards the registers its entry program reads', () => {
  placed.length = 0;
  const cxx = '/usr/lib/x86_64-linux-gnu/libstdc++.so.6';
  const libc = { ...glibc, reallocarray: 0x600, posix_memalign: 0x700, valloc: 0x800, pvalloc: 0x900 };
  const runtime = { _Znwm: 0x40, _ZnwmSt11align_val_t: 0x80 };
  const choice = chooseAllocator('/app', [cxx, LIBC], objects({ [LIBC]: libc, [cxx]: runtime }), null);
  const offsets: Record<string, number> = { ...libc, ...runtime };
  for (const probe of choice.probes) assert.equal(probe.fileOffset, offsets[probe.symbol] + 3, `${probe.symbol} ${probe.isReturn ? 'return' : 'entry'}`);
  assert.deepEqual(Object.fromEntries(placed.map((p) => [p.symbol, p.reads])), {
    malloc: ['rdi'],
    calloc: ['rdi', 'rsi'],
    realloc: ['rdi', 'rsi'],
    reallocarray: ['rdi', 'rsi', 'rdx'],
    posix_memalign: ['rdi', 'rdx'],
    aligned_alloc: ['rsi'],
    valloc: ['rdi'],
    pvalloc: ['rdi'],
    _Znwm: ['rdi'],
    _ZnwmSt11align_val_t: ['rdi'],
    free: ['rdi'],
  });
  assert.equal(placed.length, 11, 'one placement per function, the memalign alias not again');
});

test('an executable with its own malloc is its own allocator', () => {
  const choice = chooseAllocator('/static-app', [], objects({ '/static-app': glibc }), null);
  assert.equal(choice.allocator, '/static-app');
});

test('a library interposing malloc wins over glibc', () => {
  const jemalloc = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2';
  const choice = chooseAllocator('/app', [LIBC, jemalloc], objects({ [LIBC]: glibc, [jemalloc]: glibc }), null);
  assert.equal(choice.allocator, jemalloc);
});

test('operator new is probed in the C++ runtime', () => {
  const cxx = '/usr/lib/x86_64-linux-gnu/libstdc++.so.6';
  const choice = chooseAllocator('/app', [cxx, LIBC], objects({ [LIBC]: glibc, [cxx]: { _Znwm: 0x40, _Znam: 0x80 } }), null);
  assert.equal(choice.cxxRuntime, cxx);
  assert.deepEqual(choice.probes.filter((p) => p.program === 'alloc_enter' && p.cookie === AllocFn.operatorNew).map((p) => p.symbol).sort(), ['_Znam', '_Znwm']);
});

test('--allocator without malloc is refused with a clear error', () => {
  const libz = '/usr/lib/libz.so';
  assert.throws(
    () => chooseAllocator('/app', [LIBC, libz], objects({ [LIBC]: glibc }, undefined, { [libz]: libz }), libz),
    (error: unknown) => error instanceof LeakhoundError && error.code === 'NO_MALLOC' && /libz\.so does not define malloc/.test(error.message),
  );
});

test('probes open objects through the given path mapping', () => {
  const choice = chooseAllocator('/app', [LIBC], objects({ [`/proc/7/root${LIBC}`]: glibc }, (path) => `/proc/7/root${path}`), null);
  assert.ok(choice.probes.every((p) => p.path === `/proc/7/root${LIBC}`));
  assert.equal(choice.allocator, LIBC);
});

test('--allocator naming an object the target does not map is refused', () => {
  assert.throws(
    () => chooseAllocator('/app', [LIBC], objects({ [LIBC]: glibc, '/tmp/libc-copy.so': glibc }), '/tmp/libc-copy.so'),
    (error: unknown) => error instanceof LeakhoundError && error.code === 'USAGE' && /target does not map \/tmp\/libc-copy\.so/.test(error.message),
  );
});

test('--allocator probes the mapped copy under its name in the maps', () => {
  const held = '/proc/self/fd/12';
  const choice = chooseAllocator('/app', [LIBC], objects({ [held]: glibc }, (path) => (path === LIBC ? held : null), { '/lib/libc.so.6': LIBC }), '/lib/libc.so.6');
  assert.equal(choice.allocator, LIBC);
  assert.ok(choice.probes.every((p) => p.path === held));
});

test('an object that cannot be read is passed over', () => {
  const jemalloc = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2';
  const choice = chooseAllocator('/app', [LIBC, jemalloc], objects({ [LIBC]: glibc, [jemalloc]: glibc }, (path) => (path === jemalloc ? null : path)), null);
  assert.equal(choice.allocator, LIBC);
});
