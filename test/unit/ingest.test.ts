// decode -> ledger on hand-built batches: the same bytes the BPF side writes.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Ledger } from '../../src/aggregate/ledger.js';
import { decodeBatch } from '../../src/ingest/decode.js';
import { EVENT, EventFlag, EventKind } from '../../src/native/layout.js';

interface Record {
  kind: number;
  flags?: number;
  addr: number;
  size?: number;
  stackId?: number;
  ticks?: number;
}

function batch(records: Record[]): Buffer {
  const out = Buffer.alloc(records.length * EVENT.recordSize);
  records.forEach((r, i) => {
    const base = i * EVENT.recordSize;
    out.writeUInt32LE(r.kind, base + EVENT.kind);
    out.writeUInt32LE(r.flags ?? 0, base + EVENT.flags);
    out.writeBigUInt64LE(BigInt(r.addr), base + EVENT.addr);
    out.writeBigUInt64LE(BigInt(r.size ?? 0), base + EVENT.size);
    out.writeBigUInt64LE(BigInt(r.stackId ?? 0), base + EVENT.stackId);
    out.writeBigUInt64LE(BigInt(r.ticks ?? 0), base + EVENT.ticks);
  });
  return out;
}

const alloc = (addr: number, size: number, stackId: number, ticks = 1, flags = 0): Record => ({ kind: EventKind.alloc, addr, size, stackId, ticks, flags });
const free = (addr: number, flags = 0): Record => ({ kind: EventKind.free, addr, flags });

test('addresses, sizes and stack ids above 32 bits decode exactly', () => {
  const ledger = new Ledger();
  const addr = 0x7fff_1234_5678;
  const stackId = 2 ** 53 - 1;
  assert.equal(decodeBatch(batch([alloc(addr, 2 ** 40 + 3, stackId)]), ledger), 1);
  assert.deepEqual(ledger.byStack(), [{ stackId, bytes: 2 ** 40 + 3, allocations: 1, truncated: false, cut: false }]);
  decodeBatch(batch([free(addr)]), ledger);
  assert.deepEqual(ledger.byStack(), []);
  assert.equal(ledger.frees, 1);
});

test('a stack any of whose walks was cut short or truncated is marked so', () => {
  const ledger = new Ledger();
  decodeBatch(batch([alloc(0x1000, 8, 7), alloc(0x2000, 8, 7, 1, EventFlag.stackCut), alloc(0x3000, 8, 9, 1, EventFlag.stackTruncated)]), ledger);
  assert.deepEqual(
    ledger.byStack().map(({ stackId, truncated, cut }) => ({ stackId, truncated, cut })),
    [
      { stackId: 7, truncated: false, cut: true },
      { stackId: 9, truncated: true, cut: false },
    ],
  );
});

test('outstanding allocations aggregate per stack, largest first', () => {
  const ledger = new Ledger();
  decodeBatch(batch([alloc(0x1000, 10, 7), alloc(0x2000, 10, 7), alloc(0x3000, 500, 9), alloc(0x4000, 1, 7), free(0x4000)]), ledger);
  assert.deepEqual(
    ledger.byStack().map(({ stackId, bytes, allocations }) => ({ stackId, bytes, allocations })),
    [
      { stackId: 9, bytes: 500, allocations: 1 },
      { stackId: 7, bytes: 20, allocations: 2 },
    ],
  );
  assert.equal(ledger.allocations, 4);
  assert.equal(ledger.frees, 1);
  assert.equal(ledger.live.bytes, 520);
});

test('a free of a block allocated before tracing is ignored, never negative', () => {
  const ledger = new Ledger();
  decodeBatch(batch([free(0x9000), alloc(0x1000, 8, 1), free(0x9000)]), ledger);
  assert.equal(ledger.frees, 0);
  assert.equal(ledger.live.bytes, 8);
});

test('a failed realloc restores its block, size and stack, without counting a new allocation', () => {
  const ledger = new Ledger();
  decodeBatch(batch([alloc(0x1000, 64, 3), free(0x1000, EventFlag.realloc), alloc(0x1000, 0, 0, 1, EventFlag.restored)]), ledger);
  assert.equal(ledger.allocations, 1);
  assert.equal(ledger.frees, 0);
  assert.deepEqual(ledger.byStack().map(({ stackId, bytes }) => ({ stackId, bytes })), [{ stackId: 3, bytes: 64 }]);
});

test('a block realloc released stays released when realloc succeeds', () => {
  const ledger = new Ledger();
  decodeBatch(batch([alloc(0x1000, 64, 3), free(0x1000, EventFlag.realloc), alloc(0x2000, 128, 3)]), ledger);
  assert.equal(ledger.frees, 1);
  assert.equal(ledger.live.bytes, 128);
});

test('a restore with nothing set aside changes nothing', () => {
  const ledger = new Ledger();
  decodeBatch(batch([alloc(0x1000, 0, 0, 1, EventFlag.restored)]), ledger);
  assert.equal(ledger.live.count, 0);
  assert.equal(ledger.frees, 0);
});

test('only the most recent realloc releases can be restored, and their slots are reused', () => {
  const ledger = new Ledger();
  const records: Record[] = [];
  for (let i = 0; i < 5000; i++) records.push(alloc(0x10000 + i * 16, 8, 1), free(0x10000 + i * 16, EventFlag.realloc));
  records.push(alloc(0x10000, 0, 0, 1, EventFlag.restored), alloc(0x10000 + 4999 * 16, 0, 0, 1, EventFlag.restored));
  decodeBatch(batch(records), ledger);
  assert.equal(ledger.live.count, 1, 'the oldest gave way; the newest came back');
  assert.equal(ledger.live.bytes, 8);
});

test('--older-than keeps only allocations born early enough', () => {
  const ledger = new Ledger();
  decodeBatch(batch([alloc(0x1000, 8, 1, 100), alloc(0x2000, 16, 2, 200)]), ledger);
  assert.deepEqual(ledger.byStack(150).map((s) => s.stackId), [1]);
});

test('truncated stacks are marked', () => {
  const ledger = new Ledger();
  decodeBatch(batch([alloc(0x1000, 8, 1, 1, EventFlag.stackTruncated)]), ledger);
  assert.equal(ledger.byStack()[0].truncated, true);
});

test('a batch that is not whole records is refused', () => {
  assert.throws(() => decodeBatch(Buffer.alloc(EVENT.recordSize + 4), new Ledger()), RangeError);
});

test('slots are reused and the table grows past its first size', () => {
  const ledger = new Ledger();
  const records: Record[] = [];
  for (let i = 0; i < 5000; i++) records.push(alloc(0x10000 + i * 16, 1, 1));
  for (let i = 0; i < 5000; i += 2) records.push(free(0x10000 + i * 16));
  decodeBatch(batch(records), ledger);
  assert.equal(ledger.live.count, 2500);
  assert.equal(ledger.live.bytes, 2500);
});

test('an exec drops every block the earlier program held, set aside by realloc or not', () => {
  const ledger = new Ledger();
  const exec: Record = { kind: EventKind.exec, addr: 0 };
  decodeBatch(batch([alloc(0x1000, 10, 7), alloc(0x2000, 20, 7), free(0x2000, EventFlag.realloc), exec, alloc(0x1000, 5, 9)]), ledger);
  assert.deepEqual(ledger.byStack().map(({ stackId, bytes }) => ({ stackId, bytes })), [{ stackId: 9, bytes: 5 }]);
  assert.equal(ledger.live.bytes, 5);
  // realloc's block from before the exec cannot come back after it.
  decodeBatch(batch([alloc(0x2000, 0, 0, 1, EventFlag.restored)]), ledger);
  assert.equal(ledger.live.count, 1);
});
