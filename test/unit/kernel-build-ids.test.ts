// Kernel build-ids from ELF notes as /sys/kernel/notes lays them out, and
// on frames by module, each module read once.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

import { buildIdFromNotes, withKernelBuildIds } from '../../src/symbolize/kernel-build-ids.js';
import type { Frame } from '../../src/report/types.js';

/** One note: sizes and type as little-endian words, name and desc each padded to 4 bytes. */
function note(type: number, name: string, desc: Buffer): Buffer {
  const nameBytes = Buffer.from(`${name}\0`, 'latin1');
  const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  const head = Buffer.alloc(12);
  head.writeUInt32LE(nameBytes.length, 0);
  head.writeUInt32LE(desc.length, 4);
  head.writeUInt32LE(type, 8);
  return Buffer.concat([head, pad(nameBytes), pad(desc)]);
}

const ID = '32a7f3bacee6bf69da94f497a8a076483baea20e';

test('kernel build-ids: the GNU build-id note is found among the others; none is null', () => {
  const linux = note(6, 'Linux', Buffer.from([1, 1, 0, 0]));
  const gnu = note(3, 'GNU', Buffer.from(ID, 'hex'));
  const xen = note(0x13, 'Xen', Buffer.alloc(8));
  assert.equal(buildIdFromNotes(Buffer.concat([linux, gnu, xen])), ID);
  assert.equal(buildIdFromNotes(Buffer.concat([linux, xen])), null);
  assert.equal(buildIdFromNotes(note(3, 'Linux', Buffer.alloc(4))), null, 'type 3 of another owner is not a build-id');
  assert.equal(buildIdFromNotes(gnu.subarray(0, gnu.length - 4)), null, 'a cut note is no build-id');
});

test('kernel build-ids: frames get their module\'s, each module read once, unknown modules left as they were', () => {
  const frame = (module: string | null): Frame => ({ address: '0xffffffff81000000', symbol: 'f', module, file: null, line: null, offset: 1 });
  const asked: string[] = [];
  const read = (module: string) => (asked.push(module), module === '[kernel]' ? ID : module === '[nf_conntrack]' ? 'abcd' : null);
  const [stack] = withKernelBuildIds([[frame('[kernel]'), frame('[nf_conntrack]'), frame('[kernel]'), frame('[gone]'), frame(null)]], read);
  assert.deepEqual(stack!.map((f) => f.buildId), [ID, 'abcd', ID, undefined, undefined]);
  assert.deepEqual(asked, ['[kernel]', '[nf_conntrack]', '[gone]']);
});

test('kernel build-ids: this machine\'s kernel has one in /sys/kernel/notes', (t) => {
  if (!existsSync('/sys/kernel/notes')) return t.skip('no /sys/kernel/notes');
  assert.match(buildIdFromNotes(readFileSync('/sys/kernel/notes')) ?? '', /^[0-9a-f]{40}$/);
});
