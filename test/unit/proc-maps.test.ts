// /proc/PID/maps text -> mappings, on a recorded text and on this process.
import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import { test } from 'node:test';
import { parseMaps, readMaps } from '../../src/symbolize/proc-maps.js';

const MAPS = [
  '55d0c0a4d000-55d0c0a4f000 r--p 00000000 fe:01 1234567                    /usr/bin/cat',
  '55d0c0a4f000-55d0c0a54000 r-xp 00002000 fe:01 1234567                    /usr/bin/cat',
  '55d0c1a00000-55d0c1a21000 rw-p 00000000 00:00 0                          [heap]',
  '7f1c2c000000-7f1c2c021000 rw-p 00000000 00:00 0 ',
  '7f1c2d028000-7f1c2d17e000 r-xp 00028000 fe:01 2345678                    /usr/lib/x86_64-linux-gnu/libc.so.6',
  '7f1c2d200000-7f1c2d201000 r-xp 00000000 00:01 4321                       /memfd:jit (deleted)',
  '7f1c2d300000-7f1c2d301000 r--p 00001000 fe:01 99                         /opt/my app/lib\\012two.so',
  '7ffd1b9e6000-7ffd1ba07000 rw-p 00000000 00:00 0                          [stack]',
  'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]',
  '',
].join('\n');

test('parses every field of a file-backed mapping', () => {
  assert.deepEqual(parseMaps(MAPS)[1], {
    start: 0x55d0c0a4f000,
    end: 0x55d0c0a54000,
    offset: 0x2000,
    perms: 'r-xp',
    device: 'fe:01',
    inode: 1234567,
    path: '/usr/bin/cat',
    deleted: false,
  });
});

test('anonymous memory has no path; pseudo-files keep their name', () => {
  const mappings = parseMaps(MAPS);
  assert.equal(mappings[2].path, '[heap]');
  assert.equal(mappings[3].path, null);
  assert.equal(mappings[3].inode, 0);
});

test('a deleted file loses the marker and is flagged', () => {
  const jit = parseMaps(MAPS)[5];
  assert.equal(jit.path, '/memfd:jit');
  assert.equal(jit.deleted, true);
});

test('spaces stay in a path and \\012 becomes a newline', () => {
  assert.equal(parseMaps(MAPS)[6].path, '/opt/my app/lib\ntwo.so');
});

test('ranges beyond 2^53 and unparsable lines are left out', () => {
  const mappings = parseMaps(`${MAPS}garbage line\n`);
  assert.equal(mappings.length, 8);
  assert.ok(mappings.every((mapping) => mapping.path !== '[vsyscall]'));
});

test('readMaps reads /proc/PID/maps through the reader it is given', () => {
  const asked: string[] = [];
  const mappings = readMaps(42, (path) => {
    asked.push(path);
    return MAPS;
  });
  assert.deepEqual(asked, ['/proc/42/maps']);
  assert.equal(mappings.length, 8);
});

test('this process maps its own executable', () => {
  const node = realpathSync(process.execPath);
  const own = readMaps(process.pid).filter((mapping) => mapping.path === node);
  assert.ok(own.some((mapping) => mapping.perms.includes('x')));
  assert.ok(own.every((mapping) => mapping.start < mapping.end && mapping.inode > 0));
});
