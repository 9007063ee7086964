// The mapping history: newest snapshot wins, older knowledge fills the gaps.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ModuleMap } from '../../src/symbolize/module-map.js';
import type { Mapping } from '../../src/symbolize/proc-maps.js';

function file(start: number, end: number, path: string, offset = 0, perms = 'r-xp'): Mapping {
  return { start, end, offset, perms, device: 'fe:01', inode: 7, path, deleted: false };
}

function anonymous(start: number, end: number): Mapping {
  return { start, end, offset: 0, perms: 'rw-p', device: '00:00', inode: 0, path: null, deleted: false };
}

/** Reads each file by its name (stands in for MappedObjects). */
const byName = (mapping: Mapping & { path: string }) => mapping.path;

test('locate gives the file offset of an address', () => {
  const modules = new ModuleMap(byName);
  modules.add([file(0x1000, 0x3000, '/bin/a', 0x4000)]);
  assert.deepEqual(modules.locate(0x1000), { path: '/bin/a', fileOffset: 0x4000, file: '/bin/a' });
  assert.deepEqual(modules.locate(0x2fff), { path: '/bin/a', fileOffset: 0x5fff, file: '/bin/a' });
  assert.equal(modules.locate(0x3000), null);
  assert.equal(modules.locate(0xfff), null);
});

test('anonymous memory and pseudo-files are not located', () => {
  const modules = new ModuleMap(byName);
  modules.add([anonymous(0x1000, 0x2000), { ...anonymous(0x2000, 0x3000), path: '[heap]' }]);
  assert.equal(modules.locate(0x1800), null);
  assert.equal(modules.locate(0x2800), null);
});

test('a library unmapped since an earlier snapshot is still located', () => {
  const modules = new ModuleMap(byName);
  modules.add([file(0x1000, 0x2000, '/bin/a'), file(0x5000, 0x6000, '/lib/gone.so')]);
  modules.add([file(0x1000, 0x2000, '/bin/a')]);
  assert.deepEqual(modules.locate(0x5010), { path: '/lib/gone.so', fileOffset: 0x10, file: '/lib/gone.so' });
});

test('a newer mapping over part of an older one wins, the rest keeps its offsets', () => {
  const modules = new ModuleMap(byName);
  modules.add([file(0x1000, 0x5000, '/lib/old.so', 0x100000)]);
  modules.add([file(0x2000, 0x3000, '/lib/new.so', 0x8000)]);
  assert.deepEqual(modules.locate(0x1800), { path: '/lib/old.so', fileOffset: 0x100800, file: '/lib/old.so' });
  assert.deepEqual(modules.locate(0x2800), { path: '/lib/new.so', fileOffset: 0x8800, file: '/lib/new.so' });
  assert.deepEqual(modules.locate(0x3800), { path: '/lib/old.so', fileOffset: 0x102800, file: '/lib/old.so' });
});

test('newer anonymous memory hides an older file at the same place', () => {
  const modules = new ModuleMap(byName);
  modules.add([file(0x1000, 0x2000, '/lib/old.so')]);
  modules.add([anonymous(0x1000, 0x2000)]);
  assert.equal(modules.locate(0x1800), null);
});

test('property: an address belongs to the newest snapshot that maps it', () => {
  const PAGE = 0x1000;
  const mappingArb = fc
    .record({ page: fc.integer({ min: 0, max: 40 }), pages: fc.integer({ min: 1, max: 6 }), name: fc.constantFrom('/a', '/b', '/c', null), offsetPages: fc.integer({ min: 0, max: 50 }) })
    .map(({ page, pages, name, offsetPages }) =>
      name === null ? anonymous(page * PAGE, (page + pages) * PAGE) : file(page * PAGE, (page + pages) * PAGE, name, offsetPages * PAGE),
    );
  // A snapshot, like a real one, never overlaps itself.
  const snapshotArb = fc.array(mappingArb, { maxLength: 6 }).map((mappings) => {
    const kept: Mapping[] = [];
    for (const mapping of mappings) {
      if (kept.every((other) => mapping.end <= other.start || mapping.start >= other.end)) kept.push(mapping);
    }
    return kept;
  });
  fc.assert(
    fc.property(fc.array(snapshotArb, { minLength: 1, maxLength: 5 }), fc.array(fc.integer({ min: 0, max: 48 * PAGE }), { minLength: 1, maxLength: 20 }), (snapshots, addresses) => {
      const modules = new ModuleMap(byName);
      for (const snapshot of snapshots) modules.add(snapshot);
      for (const address of addresses) {
        const newest = snapshots
          .map((snapshot) => snapshot.find((mapping) => mapping.start <= address && address < mapping.end))
          .filter((mapping) => mapping !== undefined)
          .at(-1);
        const expected = newest?.path ? { path: newest.path, fileOffset: address - newest.start + newest.offset, file: newest.path } : null;
        assert.deepEqual(modules.locate(address), expected);
      }
    }),
  );
});

test('executable is the lowest file; libraries follow in load order', () => {
  const modules = new ModuleMap(byName);
  modules.add([
    file(0x555500000000, 0x555500001000, '/usr/bin/prog', 0, 'r--p'),
    file(0x555500001000, 0x555500002000, '/usr/bin/prog', 0x1000),
    file(0x7f0000000000, 0x7f0000001000, '/usr/lib/locale/locale-archive', 0, 'r--p'),
    file(0x7f0000100000, 0x7f0000200000, '/usr/lib/libc.so.6', 0x28000),
    file(0x7f0000300000, 0x7f0000301000, '/usr/lib/libjemalloc.so.2', 0x1000),
    { ...file(0x7f0000400000, 0x7f0000401000, '/usr/lib/libold.so'), deleted: true },
    file(0x7f0000500000, 0x7f0000520000, '/usr/lib/ld-linux-x86-64.so.2', 0x1000),
  ]);
  assert.equal(modules.executable(), '/usr/bin/prog');
  assert.deepEqual(modules.libraries(), ['/usr/lib/ld-linux-x86-64.so.2', '/usr/lib/libold.so', '/usr/lib/libjemalloc.so.2', '/usr/lib/libc.so.6']);
});

test('objects replaced on disk are used; objects that cannot be read are not', () => {
  const modules = new ModuleMap((mapping) => (mapping.path === '/usr/lib/libgone.so' ? null : `/proc/self/fd/${mapping.inode}`));
  modules.add([
    { ...file(0x1000, 0x2000, '/usr/bin/prog'), inode: 3, deleted: true },
    { ...file(0x5000, 0x6000, '/usr/lib/libc.so.6'), inode: 4, deleted: true },
    { ...file(0x4000, 0x5000, '/usr/lib/libgone.so'), inode: 5 },
  ]);
  assert.equal(modules.executable(), '/usr/bin/prog');
  assert.deepEqual(modules.libraries(), ['/usr/lib/libc.so.6']);
  assert.deepEqual(modules.code().map((range) => range.path), ['/usr/bin/prog', '/usr/lib/libc.so.6']);
  assert.equal(modules.openPath('/usr/lib/libc.so.6'), '/proc/self/fd/4');
  assert.equal(modules.openPath('/usr/lib/libgone.so'), null);
  assert.deepEqual(modules.locate(0x4010), { path: '/usr/lib/libgone.so', fileOffset: 0x10, file: null });
});

test("a file's code mappings reach the keeper before its others", () => {
  const asked: string[] = [];
  const modules = new ModuleMap((mapping) => {
    asked.push(mapping.perms);
    return mapping.path;
  });
  modules.add([file(0x1000, 0x2000, '/usr/bin/prog', 0, 'r--p'), file(0x2000, 0x3000, '/usr/bin/prog', 0x1000), anonymous(0x3000, 0x4000)]);
  assert.deepEqual(asked, ['r-xp', 'r--p']);
});

test('an executable that cannot be read is no executable', () => {
  const modules = new ModuleMap(() => null);
  modules.add([file(0x1000, 0x2000, '/usr/bin/prog')]);
  assert.equal(modules.executable(), null);
});

test('openPath gives the newest mapping of a name', () => {
  const modules = new ModuleMap((mapping) => `/proc/self/fd/${mapping.inode}`);
  modules.add([{ ...file(0x1000, 0x2000, '/lib/a.so'), inode: 3 }]);
  modules.add([{ ...file(0x1000, 0x2000, '/lib/a.so'), inode: 3 }, { ...file(0x8000, 0x9000, '/lib/a.so'), inode: 9 }]);
  assert.equal(modules.openPath('/lib/a.so'), '/proc/self/fd/9');
});

test('named finds an object by device and inode, else by its name in the maps', () => {
  const modules = new ModuleMap(byName);
  modules.add([file(0x1000, 0x2000, '/usr/lib/libc.so.6'), { ...file(0x3000, 0x4000, '/opt/lib/libm.so', 0), inode: 8, deleted: true }]);
  // Another name for the same file (a symlinked directory).
  assert.equal(modules.named('/lib/libc.so.6', [{ device: 'fe:01', inode: 7 }]), '/usr/lib/libc.so.6');
  // Same inode number on another device is another file.
  assert.equal(modules.named('/lib/libc.so.6', [{ device: 'fe:02', inode: 7 }]), null);
  // The name now holds a new file: the mapped copy is the one meant.
  assert.equal(modules.named('/opt/lib/libm.so', [{ device: 'fe:01', inode: 99 }]), '/opt/lib/libm.so');
  assert.equal(modules.named('/usr/lib/libz.so.1', [{ device: 'fe:01', inode: 12 }]), null);
});


