// The mapping history: newest snapshot wins, older knowledge fills the gaps
// that nothing was mapped over since.
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

test('a newer mapping over part of an older one replaces all of it; an older one nothing replaced stays', () => {
  const modules = new ModuleMap(byName);
  modules.add([file(0x1000, 0x5000, '/lib/old.so', 0x100000), file(0x8000, 0x9000, '/lib/gone.so')]);
  modules.add([file(0x2000, 0x3000, '/lib/new.so', 0x8000)]);
  assert.equal(modules.locate(0x1800), null);
  assert.deepEqual(modules.locate(0x2800), { path: '/lib/new.so', fileOffset: 0x8800, file: '/lib/new.so' });
  assert.equal(modules.locate(0x3800), null);
  assert.deepEqual(modules.locate(0x8800), { path: '/lib/gone.so', fileOffset: 0x800, file: '/lib/gone.so' });
});

test('a library dlopen()ed where ld.so.cache was mapped is named after itself, never after the cache', () => {
  // The maps as read at the attach: ld.so still has /etc/ld.so.cache mapped.
  const prog = file(0x555500001000, 0x555500002000, '/usr/bin/prog', 0x1000);
  const libc = file(0x7f0000200000, 0x7f0000300000, '/usr/lib/libc.so.6', 0x28000);
  const cache = file(0x7f0000144000, 0x7f000014e000, '/etc/ld.so.cache', 0, 'r--p');
  const modules = new ModuleMap(byName);
  modules.add([prog, libc, cache]);
  // Later the cache is unmapped and a plugin's segments land in its top half.
  const plugin = [
    file(0x7f0000149000, 0x7f000014a000, '/opt/plugin.so', 0, 'r--p'),
    file(0x7f000014a000, 0x7f000014b000, '/opt/plugin.so', 0x1000),
    file(0x7f000014b000, 0x7f000014c000, '/opt/plugin.so', 0x2000, 'r--p'),
    file(0x7f000014c000, 0x7f000014e000, '/opt/plugin.so', 0x2000, 'rw-p'),
  ];
  modules.add([prog, libc, ...plugin]);
  assert.deepEqual(modules.locate(0x7f000014a126), { path: '/opt/plugin.so', fileOffset: 0x1126, file: '/opt/plugin.so' });
  // Below the plugin, where the next library loaded would go: nothing, not the cache.
  assert.equal(modules.locate(0x7f0000145126), null);
  assert.deepEqual(modules.code().map((range) => range.path), ['/usr/bin/prog', '/opt/plugin.so', '/usr/lib/libc.so.6']);
});

test('a frame is placed only in a mapping with code', () => {
  const cache = file(0x7f0000144000, 0x7f000014e000, '/etc/ld.so.cache', 0, 'r--p');
  const modules = new ModuleMap(byName);
  modules.add([cache, file(0x1000, 0x2000, '/lib/a.so', 0, 'r--p'), file(0x2000, 0x3000, '/lib/a.so', 0x1000), file(0x3000, 0x4000, '/lib/a.so', 0x2000, 'rw-p')]);
  assert.equal(modules.locate(0x7f0000145126), null);
  assert.equal(modules.locate(0x1800), null);
  assert.deepEqual(modules.locate(0x2800), { path: '/lib/a.so', fileOffset: 0x1800, file: '/lib/a.so' });
  assert.equal(modules.locate(0x3800), null);
  // The process exited (a zombie's maps are empty) before a library loaded
  // where the cache was had been seen: its frames stay unplaced, not misnamed.
  modules.add([]);
  assert.equal(modules.locate(0x7f0000145126), null);
  assert.deepEqual(modules.locate(0x2800), { path: '/lib/a.so', fileOffset: 0x1800, file: '/lib/a.so' });
});

test('newer memory without code hides older code at the same place', () => {
  const modules = new ModuleMap(byName);
  modules.add([file(0x1000, 0x2000, '/lib/old.so')]);
  modules.add([file(0x1000, 0x2000, '/etc/ld.so.cache', 0, 'r--p')]);
  assert.equal(modules.locate(0x1800), null);
});

test('newer anonymous memory hides an older file at the same place', () => {
  const modules = new ModuleMap(byName);
  modules.add([file(0x1000, 0x2000, '/lib/old.so')]);
  modules.add([anonymous(0x1000, 0x2000)]);
  assert.equal(modules.locate(0x1800), null);
});

test('property: an address belongs to the newest snapshot that maps it, unless a later one mapped over that mapping', () => {
  const PAGE = 0x1000;
  const mappingArb = fc
    .record({
      page: fc.integer({ min: 0, max: 40 }),
      pages: fc.integer({ min: 1, max: 6 }),
      name: fc.constantFrom('/a', '/b', '/c', null),
      offsetPages: fc.integer({ min: 0, max: 50 }),
      perms: fc.constantFrom('r-xp', 'r-xp', 'r--p', 'rw-p'),
    })
    .map(({ page, pages, name, offsetPages, perms }) =>
      name === null ? anonymous(page * PAGE, (page + pages) * PAGE) : file(page * PAGE, (page + pages) * PAGE, name, offsetPages * PAGE, perms),
    );
  // A snapshot, like a real one, never overlaps itself.
  const snapshotArb = fc.array(mappingArb, { maxLength: 6 }).map((mappings) => {
    const kept: Mapping[] = [];
    for (const mapping of mappings) {
      if (kept.every((other) => mapping.end <= other.start || mapping.start >= other.end)) kept.push(mapping);
    }
    return kept;
  });
  const overlap = (a: Mapping, b: Mapping) => a.start < b.end && b.start < a.end;
  fc.assert(
    fc.property(fc.array(snapshotArb, { minLength: 1, maxLength: 5 }), fc.array(fc.integer({ min: 0, max: 48 * PAGE }), { minLength: 1, maxLength: 20 }), (snapshots, addresses) => {
      const modules = new ModuleMap(byName);
      for (const snapshot of snapshots) modules.add(snapshot);
      for (const address of addresses) {
        let expected = null;
        for (let i = snapshots.length - 1; i >= 0; i--) {
          const newest = snapshots[i].find((mapping) => mapping.start <= address && address < mapping.end);
          if (!newest) continue;
          const replaced = snapshots.slice(i + 1).some((snapshot) => snapshot.some((mapping) => overlap(mapping, newest)));
          if (!replaced && newest.path !== null && newest.perms.includes('x')) expected = { path: newest.path, fileOffset: address - newest.start + newest.offset, file: newest.path };
          break;
        }
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


