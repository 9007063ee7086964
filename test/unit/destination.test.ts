// --json destinations: regular files are replaced whole, devices, FIFOs and
// descriptors are written where they are, and everything else is refused
// up front as a usage error with one line.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { closeSync, constants, lstatSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { LeakhoundError } from '../../src/errors.js';
import { descriptorNamed } from '../../src/output/descriptor.js';
import { closeDestination, openDestination, STDOUT, writeDestination } from '../../src/output/destination.js';
import { exited } from '../helpers/process.js';

let scratch: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'leakhound-destination-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function refused(message: RegExp): (error: unknown) => boolean {
  return (error) => error instanceof LeakhoundError && error.code === 'USAGE' && message.test(error.message) && !error.message.includes('\n');
}

const isRoot = process.geteuid?.() === 0;

test('the kernel\'s descriptor aliases name descriptors; other paths do not', () => {
  assert.equal(descriptorNamed('/dev/stdout'), 1);
  assert.equal(descriptorNamed('/dev/stderr'), 2);
  assert.equal(descriptorNamed('/dev/fd/63'), 63);
  assert.equal(descriptorNamed('/proc/self/fd/7'), 7);
  assert.equal(descriptorNamed('/proc/thread-self/fd/7'), 7);
  assert.equal(descriptorNamed('/dev/fd/x'), null);
  assert.equal(descriptorNamed('/dev/null'), null);
  assert.equal(descriptorNamed('/tmp/dev/fd/3'), null);
});

test('an absent path or a regular file is written by rename', async () => {
  assert.deepEqual(await openDestination(join(scratch, 'new.json'), '--json'), { kind: 'file', path: join(scratch, 'new.json') });
  const existing = join(scratch, 'old.json');
  await writeFile(existing, 'old and longer\n');
  const destination = await openDestination(existing, '--json');
  await writeDestination(destination, '{}\n');
  assert.equal(readFileSync(existing, 'utf8'), '{}\n');
});

test('a character device is written in place and stays a device', async (t) => {
  const devNull = await openDestination('/dev/null', '--json');
  assert.equal(devNull.kind, 'descriptor');
  await writeDestination(devNull, '{}\n');
  closeDestination(devNull);
  assert.ok(lstatSync('/dev/null').isCharacterDevice());

  if (!isRoot) return t.skip('mknod needs root');
  const node = join(scratch, 'null-device');
  execFileSync('mknod', ['-m', '666', node, 'c', '1', '3']);
  const destination = await openDestination(node, '--json');
  await writeDestination(destination, 'x'.repeat(100_000));
  closeDestination(destination);
  const after = lstatSync(node);
  assert.ok(after.isCharacterDevice(), 'still a character device');
  assert.equal(after.rdev, lstatSync('/dev/null').rdev);
});

test('a FIFO is written in place, all of a report larger than the pipe', async () => {
  const fifo = join(scratch, 'fifo');
  execFileSync('mkfifo', [fifo]);
  // A reader of our own lets the open succeed; cat then drains the pipe while the write blocks.
  const holder = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const destination = await openDestination(fifo, '--json');
  const copy = join(scratch, 'fifo-copy');
  const cat = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', fifo, copy]);
  await new Promise((resolve) => cat.once('spawn', resolve));
  await writeDestination(destination, 'y'.repeat(300_000));
  closeDestination(destination);
  closeSync(holder);
  await exited(cat, 10_000);
  assert.equal(readFileSync(copy, 'utf8').length, 300_000);
  assert.ok(lstatSync(fifo).isFIFO());
});

test('a FIFO nobody reads is refused instead of waited on', async () => {
  const fifo = join(scratch, 'lonely-fifo');
  execFileSync('mkfifo', [fifo]);
  await assert.rejects(openDestination(fifo, '--json'), refused(/^--json .*lonely-fifo: the FIFO has no reader$/));
});

test('/dev/fd/N is the descriptor itself, if open for writing', async () => {
  const file = join(scratch, 'through-fd');
  const fd = openSync(file, 'w');
  const destination = await openDestination(`/dev/fd/${fd}`, '--json');
  assert.deepEqual(destination, { kind: 'descriptor', fd, name: `/dev/fd/${fd}`, owned: false });
  await writeDestination(destination, '{"via":"fd"}\n');
  closeDestination(destination);
  closeSync(fd);
  assert.equal(readFileSync(file, 'utf8'), '{"via":"fd"}\n');

  const readOnly = openSync(file, 'r');
  await assert.rejects(openDestination(`/proc/self/fd/${readOnly}`, '--json'), refused(/: descriptor \d+ is open only for reading$/));
  closeSync(readOnly);
  await assert.rejects(openDestination('/dev/fd/987654', '--json'), refused(/^--json \/dev\/fd\/987654: descriptor 987654 is not open$/));
});

test('/dev/stdout and its aliases are stdout', async () => {
  assert.equal(await openDestination('/dev/stdout', '--json'), STDOUT);
  assert.equal(await openDestination('/proc/self/fd/1', '--json'), STDOUT);
});

test('directories, links, missing folders, block devices and sockets are refused', async (t) => {
  const dir = join(scratch, 'a-directory');
  await mkdir(dir);
  await assert.rejects(openDestination(dir, '--json'), refused(/: it is a directory$/));

  const link = join(scratch, 'planted');
  await symlink(join(scratch, 'elsewhere.json'), link);
  await assert.rejects(openDestination(link, '--json'), refused(/planted: it is a symbolic link, which leakhound does not follow$/));

  await assert.rejects(openDestination(join(scratch, 'missing', 'r.json'), '--json'), refused(/: directory .*missing does not exist$/));
  const file = join(scratch, 'plain');
  await writeFile(file, '');
  await assert.rejects(openDestination(join(file, 'r.json'), '--json'), refused(/plain\/r\.json: ENOTDIR: not a directory$/));

  const socketPath = join(scratch, 'socket');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  await assert.rejects(openDestination(socketPath, '--json'), refused(/: it is a socket, which cannot be opened by name$/));
  await new Promise((resolve) => server.close(resolve));

  if (!isRoot) return t.skip('mknod needs root');
  const block = join(scratch, 'block');
  execFileSync('mknod', [block, 'b', '7', '0']);
  await assert.rejects(openDestination(block, '--json'), refused(/: it is a block device, which a report would overwrite$/));
});
