// Output writing as root in shared directories: links are replaced, never
// followed; linked or non-directory output directories are refused; a failed
// write leaves nothing behind; directories leakhound made go again while empty.

import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { LeakhoundError } from '../../src/errors.js';
import { prepareOutDir, probeWritable, removeEmptyDirs, writeFileSafely } from '../../src/output/safe-write.js';

let scratch: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'leakhound-safe-write-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function refusedWith(code: string, message?: RegExp): (error: unknown) => boolean {
  return (error) => error instanceof LeakhoundError && error.code === code && !error.message.includes('\n') && (message?.test(error.message) ?? true);
}

test('a symlink planted at the target is replaced, not followed', async () => {
  const victim = join(scratch, 'victim');
  await writeFile(victim, 'precious\n');
  const out = join(scratch, 'planted');
  await mkdir(out);
  const target = join(out, 'report.json');
  await symlink(victim, target);

  await writeFileSafely(target, '{"ok":true}\n');

  assert.equal(await readFile(victim, 'utf8'), 'precious\n');
  const written = await lstat(target);
  assert.ok(written.isFile(), 'the target is now a regular file');
  assert.equal(written.mode & 0o777, 0o644 & ~process.umask());
  assert.equal(await readFile(target, 'utf8'), '{"ok":true}\n');
  assert.deepEqual(await readdir(out), ['report.json']);
});

test('an existing report is replaced whole', async () => {
  const target = join(scratch, 'replace.txt');
  await writeFile(target, 'old and much longer content\n');
  await writeFileSafely(target, new TextEncoder().encode('new\n'));
  assert.equal(await readFile(target, 'utf8'), 'new\n');
});

test('a failed write leaves no temporary file', async () => {
  const out = join(scratch, 'failing');
  await mkdir(out);
  // rename() cannot put a file over a directory.
  const target = join(out, 'report.svg');
  await mkdir(target);
  await assert.rejects(writeFileSafely(target, '<svg/>'), refusedWith('OUTPUT_WRITE_FAILED'));
  assert.deepEqual(await readdir(out), ['report.svg']);
  assert.ok((await stat(target)).isDirectory());

  await assert.rejects(writeFileSafely(join(scratch, 'missing', 'report.svg'), 'x'), refusedWith('OUTPUT_WRITE_FAILED', /: ENOENT: no such file or directory$/));
});

test('a missing output directory is created, with its parents, and named as created', async () => {
  const dir = join(scratch, 'new', 'out');
  assert.deepEqual(await prepareOutDir(dir), [dir, join(scratch, 'new')]);
  const created = await lstat(dir);
  assert.ok(created.isDirectory());
  assert.equal(created.mode & 0o777, 0o755 & ~process.umask());
  assert.deepEqual(await prepareOutDir(dir), [], 'nothing created the second time');
  assert.deepEqual(await prepareOutDir(`${dir}/`), []);
});

test('created directories are removed while empty, deepest first, and nothing else', async () => {
  const emptied = join(scratch, 'emptied', 'out');
  const made = await prepareOutDir(emptied);
  removeEmptyDirs(made);
  await assert.rejects(lstat(join(scratch, 'emptied')), { code: 'ENOENT' });

  const kept = join(scratch, 'kept', 'out');
  const keptMade = await prepareOutDir(kept);
  await writeFile(join(kept, 'report.json'), '{}');
  removeEmptyDirs(keptMade);
  assert.deepEqual(await readdir(kept), ['report.json']);

  // The parent gained a file: the empty child goes, the parent stays.
  const shared = join(scratch, 'shared', 'out');
  const sharedMade = await prepareOutDir(shared);
  await writeFile(join(scratch, 'shared', 'other'), '');
  removeEmptyDirs(sharedMade);
  assert.deepEqual(await readdir(join(scratch, 'shared')), ['other']);
});

test('a writable directory passes the probe and keeps no probe file', async () => {
  const dir = join(scratch, 'probed');
  await mkdir(dir);
  await probeWritable(dir);
  assert.deepEqual(await readdir(dir), []);
});

test('a directory that does not exist fails the probe as a usage error', async () => {
  // Read-only mounts, which root cannot write through, are tested end to end.
  await assert.rejects(probeWritable(join(scratch, 'absent')), refusedWith('USAGE', /^cannot write in .*absent: ENOENT: no such file or directory$/));
});

test('a symlinked output directory is refused, with or without a trailing slash', async () => {
  const real = join(scratch, 'real');
  await mkdir(real);
  const link = join(scratch, 'link');
  await symlink(real, link);
  const symlinkRefusal = refusedWith('USAGE', /: it is a symbolic link$/);
  await assert.rejects(prepareOutDir(link), symlinkRefusal);
  await assert.rejects(prepareOutDir(`${link}/`), symlinkRefusal);

  const dangling = join(scratch, 'dangling');
  await symlink(join(scratch, 'nowhere'), dangling);
  await assert.rejects(prepareOutDir(dangling), symlinkRefusal);
  await assert.rejects(lstat(join(scratch, 'nowhere')), { code: 'ENOENT' });
});

test('an output path that is a file is refused', async () => {
  const file = join(scratch, 'plain-file');
  await writeFile(file, '');
  await assert.rejects(prepareOutDir(file), refusedWith('USAGE', /: it is not a directory$/));
});
