// Return addresses -> frames, against a recording stand-in for the addon.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addon } from '../../src/native/binding.js';
import type { NativeSymbolizer, SourceLocation } from '../../src/native/elf-types.js';
import { MappedObjects } from '../../src/symbolize/mapped-objects.js';
import { ModuleMap } from '../../src/symbolize/module-map.js';
import { type Mapping, readMaps } from '../../src/symbolize/proc-maps.js';
import { UserSymbolizer } from '../../src/symbolize/user-symbolizer.js';

function file(start: number, end: number, path: string, offset: number): Mapping {
  return { start, end, offset, perms: 'r-xp', device: 'fe:01', inode: 7, path, deleted: false };
}

class Recorder implements NativeSymbolizer {
  calls: Array<{ path: string; fileOffsets: number[] }> = [];
  closed = false;
  constructor(private readonly answer: (path: string, fileOffset: number) => SourceLocation) {}
  symbolize(path: string, fileOffsets: number[]): SourceLocation[] {
    this.calls.push({ path, fileOffsets });
    return fileOffsets.map((offset) => this.answer(path, offset));
  }
  close(): void {
    this.closed = true;
  }
}

/** Files read by their names (the keeper stands in for MappedObjects). */
function modules(): ModuleMap {
  const map = new ModuleMap((mapping) => mapping.path);
  map.add([file(0x10000, 0x20000, '/bin/app', 0x1000), file(0x50000, 0x60000, '/lib/libc.so.6', 0x28000)]);
  return map;
}

const NAMED = (name: string): SourceLocation => ({ symbol: name, symbolOffset: 0x10, file: '/src/app.c', line: 12, inlined: [] });
const UNNAMED: SourceLocation = { symbol: null, symbolOffset: 0, file: null, line: null, inlined: [] };

test('looks up address - 1 and counts offsets to the address itself', () => {
  const native = new Recorder(() => NAMED('work'));
  const [[frame]] = new UserSymbolizer(modules(), native).resolveStacks([[0x10100]]);
  assert.deepEqual(native.calls, [{ path: '/bin/app', fileOffsets: [0x10ff] }]);
  assert.deepEqual(frame, { address: '0x10100', symbol: 'work', module: '/bin/app', file: '/src/app.c', line: 12, offset: 0x11 });
});

test('one native call per module for all stacks, each address once', () => {
  const native = new Recorder(() => NAMED('f'));
  const stacks = [
    [0x10100, 0x50200],
    [0x10100, 0x10300, 0x50200],
  ];
  const frames = new UserSymbolizer(modules(), native).resolveStacks(stacks);
  assert.deepEqual(native.calls, [
    { path: '/bin/app', fileOffsets: [0x10ff, 0x12ff] },
    { path: '/lib/libc.so.6', fileOffsets: [0x281ff] },
  ]);
  assert.deepEqual(frames.map((stack) => stack.map((frame) => frame.address)), [['0x10100', '0x50200'], ['0x10100', '0x10300', '0x50200']]);
});

test('functions inlined at an address are frames of their own before the function holding them', () => {
  const native = new Recorder((_, offset) =>
    offset === 0x10ff
      ? {
          ...NAMED('outer'),
          inlined: [
            { symbol: 'innermost', file: '/src/app.h', line: 3 },
            { symbol: 'inner', file: '/src/app.h', line: 8 },
          ],
        }
      : NAMED('main'),
  );
  const [stack] = new UserSymbolizer(modules(), native).resolveStacks([[0x10100, 0x10300]]);
  const frame = { address: '0x10100', module: '/bin/app', offset: 0x11 };
  assert.deepEqual(stack, [
    { ...frame, symbol: 'innermost', file: '/src/app.h', line: 3, inlined: true },
    { ...frame, symbol: 'inner', file: '/src/app.h', line: 8, inlined: true },
    { ...frame, symbol: 'outer', file: '/src/app.c', line: 12 },
    { address: '0x10300', symbol: 'main', module: '/bin/app', file: '/src/app.c', line: 12, offset: 0x11 },
  ]);
});

test('without a symbol the frame keeps its module and the offset into the file', () => {
  const native = new Recorder(() => UNNAMED);
  const [[frame]] = new UserSymbolizer(modules(), native).resolveStacks([[0x50200]]);
  assert.deepEqual(frame, { address: '0x50200', symbol: null, module: '/lib/libc.so.6', file: null, line: null, offset: 0x28200 });
});

test('an address outside every mapping, or zero, is a bare address', () => {
  const native = new Recorder(() => NAMED('never'));
  const [stack] = new UserSymbolizer(modules(), native).resolveStacks([[0x99999, 0]]);
  assert.deepEqual(stack, [
    { address: '0x99999', symbol: null, module: null, file: null, line: null, offset: 0 },
    { address: '0x0', symbol: null, module: null, file: null, line: null, offset: 0 },
  ]);
  assert.deepEqual(native.calls, []);
});

test('files are read where the keeper holds them; frames keep the mapped name', () => {
  const map = new ModuleMap((mapping) => `/proc/self/fd/${mapping.inode}`);
  map.add([file(0x10000, 0x20000, '/usr/bin/env', 0)]);
  const native = new Recorder(() => NAMED('main'));
  const [[frame]] = new UserSymbolizer(map, native).resolveStacks([[0x10001]]);
  assert.equal(native.calls[0].path, '/proc/self/fd/7');
  assert.equal(frame.module, '/usr/bin/env');
});

test('two files mapped under one name (one replaced since) are read apart', () => {
  const map = new ModuleMap((mapping) => `/proc/self/fd/${mapping.inode}`);
  map.add([{ ...file(0x10000, 0x20000, '/lib/libx.so', 0), inode: 3, deleted: true }, { ...file(0x30000, 0x40000, '/lib/libx.so', 0), inode: 4 }]);
  const native = new Recorder(() => NAMED('f'));
  const [stack] = new UserSymbolizer(map, native).resolveStacks([[0x10001, 0x30001]]);
  assert.deepEqual(native.calls.map((call) => call.path), ['/proc/self/fd/3', '/proc/self/fd/4']);
  assert.deepEqual(stack.map((frame) => frame.module), ['/lib/libx.so', '/lib/libx.so']);
});

test('a file that cannot be read keeps its module and offset, unnamed', () => {
  const map = new ModuleMap(() => null);
  map.add([file(0x10000, 0x20000, '/opt/gone', 0x1000)]);
  const native = new Recorder(() => NAMED('never'));
  const [[frame]] = new UserSymbolizer(map, native).resolveStacks([[0x10100]]);
  assert.deepEqual(native.calls, []);
  assert.deepEqual(frame, { address: '0x10100', symbol: null, module: '/opt/gone', file: null, line: null, offset: 0x1100 });
});

test('close closes the native symbolizer', () => {
  const native = new Recorder(() => UNNAMED);
  new UserSymbolizer(modules(), native).close();
  assert.equal(native.closed, true);
});

test('with the addon and this process: an address inside malloc is malloc', () => {
  const objects = new MappedObjects(() => {});
  const map = new ModuleMap((mapping) => objects.keep(process.pid, mapping));
  const mappings = readMaps(process.pid);
  map.add(mappings);
  const libc = map.libraries().find((library) => /\/libc\.so\.6$/.test(library));
  assert.ok(libc, 'this process maps libc.so.6');
  const [malloc] = addon().elfSymbols(map.openPath(libc)!, ['malloc']);
  const text = mappings.find((mapping) => mapping.path === libc && mapping.offset <= malloc.fileOffset && malloc.fileOffset < mapping.offset + (mapping.end - mapping.start));
  assert.ok(text);
  const address = text.start + (malloc.fileOffset - text.offset) + 8;
  const symbolizer = new UserSymbolizer(map);
  try {
    const [[frame]] = symbolizer.resolveStacks([[address]]);
    assert.equal(frame.symbol, 'malloc');
    assert.equal(frame.offset, 8);
    assert.equal(frame.module, libc);
  } finally {
    symbolizer.close();
    objects.close();
  }
});

test('each frame carries its file\'s build-id, read once per file', () => {
  const asked: string[] = [];
  const buildIdOf = (path: string) => (asked.push(path), path === '/bin/app' ? 'abc123' : null);
  const symbolizer = new UserSymbolizer(modules(), new Recorder(() => NAMED('f')), buildIdOf);
  const [stack] = symbolizer.resolveStacks([[0x10100, 0x50200]]);
  symbolizer.resolveStacks([[0x10300, 0x50300]]);
  assert.deepEqual(stack!.map((frame) => frame.buildId), ['abc123', undefined]);
  assert.deepEqual(asked, ['/bin/app', '/lib/libc.so.6']);
});
