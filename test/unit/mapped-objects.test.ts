// Holding a process's mapped objects: the copy it runs, even once its file
// has been replaced on disk, and never a different file at the same path.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, fstatSync, mkdtempSync, openSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type FileMapping, MappedObjects } from '../../src/symbolize/mapped-objects.js';
import { readMaps } from '../../src/symbolize/proc-maps.js';

/** A copy of sleep running from a scratch folder, its file then replaced. */
async function replacedWhileRunning(t: TestContext): Promise<{ child: ChildProcess; program: string; mappings: FileMapping[] }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leakhound-unit-'));
  const program = path.join(dir, 'app');
  copyFileSync('/bin/sleep', program);
  const child = spawn(program, ['30'], { stdio: 'ignore' });
  t.after(() => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  // Until the dynamic linker has loaded libc into the new image.
  const own = () => readMaps(child.pid!).filter((mapping): mapping is FileMapping => mapping.path === program);
  const started = () => readMaps(child.pid!).some((mapping) => /\/libc\.so\.6$/.test(mapping.path ?? '')) && own().length > 0;
  for (let i = 0; i < 100 && !started(); i++) await sleep(10);
  writeFileSync(path.join(dir, 'app.new'), 'not the program that runs');
  renameSync(path.join(dir, 'app.new'), program);
  return { child, program, mappings: own() };
}

function code(mappings: FileMapping[]): FileMapping {
  const found = mappings.find((mapping) => mapping.perms.includes('x'));
  assert.ok(found, 'a mapping with code');
  return found;
}

test('a replaced executable is read as mapped, and named once in --verbose', { skip: process.geteuid?.() !== 0 && 'map_files needs root' }, async (t) => {
  const { child, program, mappings } = await replacedWhileRunning(t);
  assert.ok(mappings.length > 1 && mappings.every((mapping) => mapping.deleted));
  const said: string[] = [];
  const objects = new MappedObjects((line) => said.push(line));
  const hasCode = (mapping: FileMapping) => mapping.perms.includes('x');
  const header = mappings.find((mapping) => !hasCode(mapping))!;
  assert.equal(objects.keep(child.pid!, header), null, 'a mapping without code opens nothing');
  const held = [...mappings.filter(hasCode), ...mappings.filter((mapping) => !hasCode(mapping))].map((mapping) => objects.keep(child.pid!, mapping));
  assert.equal(new Set(held).size, 1, 'one descriptor per file, shared by its mappings');
  assert.match(held[0]!, /^\/proc\/self\/fd\/\d+$/);
  assert.equal(statSync(held[0]!).ino, mappings[0]!.inode);
  assert.notEqual(statSync(program).ino, mappings[0]!.inode);
  assert.deepEqual(said, [`${program} was replaced on disk after the process mapped it; reading the mapped copy`]);
  objects.close();
});

test('without map_files, the file at the path is used only if it is the inode mapped', async (t) => {
  const { child, program, mappings } = await replacedWhileRunning(t);
  const said: string[] = [];
  const objects = new MappedObjects(
    (line) => said.push(line),
    (file) => {
      if (file.includes('/map_files/')) throw new Error('EPERM');
      return openSync(file, 'r');
    },
  );
  assert.equal(objects.keep(child.pid!, code(mappings)), null, 'the new file at the path is not the one mapped');
  assert.match(said[0]!, new RegExp(`^${program}: neither its mapping nor a file with its inode can be opened`));
  const libc = code(readMaps(child.pid!).filter((mapping): mapping is FileMapping => /\/libc\.so\.6$/.test(mapping.path ?? '')));
  const held = objects.keep(child.pid!, libc);
  assert.ok(held !== null);
  assert.equal(statSync(held).ino, libc.inode);
  objects.close();
});

test('close closes every descriptor', { skip: process.geteuid?.() !== 0 && 'map_files needs root' }, async (t) => {
  const { child, mappings } = await replacedWhileRunning(t);
  const objects = new MappedObjects(() => {});
  const held = objects.keep(child.pid!, code(mappings))!;
  const fd = Number(path.basename(held));
  objects.close();
  assert.throws(() => fstatSync(fd), { code: 'EBADF' });
});
