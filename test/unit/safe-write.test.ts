// Output writing as root in shared directories: links are replaced, never
// followed; linked or non-directory output directories are refused; a failed
// write leaves nothing behind.

import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { LeakhoundError } from '../../src/errors.js';
import { prepareOutDir, writeFileSafely } from '../../src/output/safe-write.js';

let scratch: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'leakhound-safe-write-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function refusedWith(code: string): (error: unknown) => boolean {
  return (error) => error instanceof LeakhoundError && error.code === code && !error.message.includes('\n');
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

  await assert.rejects(writeFileSafely(join(scratch, 'missing', 'report.svg'), 'x'), refusedWith('OUTPUT_WRITE_FAILED'));
});

test('a missing output directory is created, with its parents', async () => {
  const dir = join(scratch, 'new', 'out');
  await prepareOutDir(dir);
  const created = await lstat(dir);
  assert.ok(created.isDirectory());
  assert.equal(created.mode & 0o777, 0o755 & ~process.umask());
  await prepareOutDir(dir);
});

test('a symlinked output directory is refused, with or without a trailing slash', async () => {
  const real = join(scratch, 'real');
  await mkdir(real);
  const link = join(scratch, 'link');
  await symlink(real, link);
  await assert.rejects(prepareOutDir(link), refusedWith('OUTPUT_DIR_SYMLINK'));
  await assert.rejects(prepareOutDir(`${link}/`), refusedWith('OUTPUT_DIR_SYMLINK'));

  const dangling = join(scratch, 'dangling');
  await symlink(join(scratch, 'nowhere'), dangling);
  await assert.rejects(prepareOutDir(dangling), refusedWith('OUTPUT_DIR_SYMLINK'));
  await assert.rejects(lstat(join(scratch, 'nowhere')), { code: 'ENOENT' });
});

test('an output path that is a file is refused', async () => {
  const file = join(scratch, 'plain-file');
  await writeFile(file, '');
  await assert.rejects(prepareOutDir(file), refusedWith('OUTPUT_DIR_NOT_DIRECTORY'));
});
