// Descriptors made while tracing, through the ResourceLedger: opens, closes
// (ranges too), replacement of a number still open, and close-on-exec.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ResourceLedger } from '../../src/aggregate/resource-ledger.js';
import type { FdDetails, ResourceSink } from '../../src/ingest/resource-sink.js';

function details(name: string): FdDetails {
  return { mode: 0o100644, family: 0, sockType: 0, syscall: 257, peerPort: 0, localPort: 0, peer: new Uint8Array(16), name };
}

/** `tgid:fd name` of every descriptor still open, sorted. */
function open(ledger: ResourceLedger): string[] {
  const names: string[] = [];
  ledger.fds.forEach((tgid, fd, entry) => names.push(`${tgid}:${fd} ${entry.details.name}`));
  return names.sort();
}

test('opens and closes are counted; descriptors older than the trace are never closed', () => {
  const ledger = new ResourceLedger();
  ledger.fdOpen(1, 3, 70, 1, 0, details('/a'));
  ledger.fdOpen(1, 4, 70, 1, 0, details('/b'));
  ledger.fdOpen(2, 3, 71, 1, 0, details('/c'));
  ledger.fdClose(1, 3, 3);
  ledger.fdClose(1, 0, 2);
  ledger.fdClose(9, 3, 3);
  assert.deepEqual(open(ledger), ['1:4 /b', '2:3 /c']);
  assert.deepEqual([ledger.fds.opened, ledger.fds.closed, ledger.live.openFds], [3, 1, 2]);
});

test('a number opened again while tracked replaces it, counted closed', () => {
  const ledger = new ResourceLedger();
  ledger.fdOpen(1, 3, 70, 1, 0, details('/a'));
  ledger.fdOpen(1, 3, 71, 2, 0, details('/b'));
  assert.deepEqual(open(ledger), ['1:3 /b']);
  assert.deepEqual([ledger.fds.opened, ledger.fds.closed], [2, 1]);
  assert.deepEqual(ledger.stacks.ids, [70, 71]);
});

test('close_range over a huge span closes only what is tracked in it', () => {
  const ledger = new ResourceLedger();
  for (const fd of [3, 5, 9, 100]) ledger.fdOpen(1, fd, 70, 1, 0, details(`/f${fd}`));
  ledger.fdClose(1, 5, 2 ** 32 - 1);
  assert.deepEqual(open(ledger), ['1:3 /f3']);
  ledger.fdOpen(1, 4, 70, 1, 0, details('/f4'));
  ledger.fdClose(1, 0, 4);
  assert.deepEqual(open(ledger), []);
  assert.equal(ledger.fds.closed, 5);
});

test('an exec closes what it did not leave open, and drops every mapping of the process', () => {
  const ledger = new ResourceLedger();
  for (const fd of [3, 4, 5]) ledger.fdOpen(1, fd, 70, 1, 0, details(`/f${fd}`));
  ledger.fdOpen(2, 4, 70, 1, 0, details('/other'));
  ledger.map(1, 0x7000_0000, 4096, 70, 1, 0);
  ledger.map(2, 0x7000_0000, 8192, 70, 1, 0);
  const sink: ResourceSink = ledger;
  sink.fdExec(1, (fd) => fd !== 4, 64 * 35);
  assert.deepEqual(open(ledger), ['1:3 /f3', '1:5 /f5', '2:4 /other']);
  assert.equal(ledger.live.mappedBytes, 8192);
});
