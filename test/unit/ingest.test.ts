// decode -> ledger on hand-built batches: the same bytes the BPF side writes.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Ledger } from '../../src/aggregate/ledger.js';
import { decodeBatch } from '../../src/ingest/decode.js';
import { structs } from '../../src/native/contract.generated.js';
import { EVENT, EventFlag, EventKind } from '../../src/native/layout.js';

interface Record {
  kind: number;
  flags?: number;
  tgid?: number;
  addr: number;
  size?: number;
  stackId?: number;
  ticks?: number;
}

function batch(records: Record[]): Buffer {
  const out = Buffer.alloc(records.length * EVENT.recordSize);
  records.forEach((r, i) => {
    const base = i * EVENT.recordSize;
    out.writeUInt16LE(r.kind, base + EVENT.kind);
    out.writeUInt16LE(r.flags ?? 0, base + EVENT.flags);
    out.writeUInt32LE(r.tgid ?? PID, base + EVENT.tgid);
    out.writeBigUInt64LE(BigInt(r.addr), base + EVENT.addr);
    out.writeBigUInt64LE(BigInt(r.size ?? 0), base + EVENT.size);
    out.writeBigUInt64LE(BigInt(r.stackId ?? 0), base + EVENT.stackId);
    out.writeBigUInt64LE(BigInt(r.ticks ?? 0), base + EVENT.ticks);
  });
  return out;
}

const PID = 4242;
const alloc = (addr: number, size: number, stackId: number, ticks = 1, flags = 0): Record => ({ kind: EventKind.alloc, addr, size, stackId, ticks, flags });
const free = (addr: number, flags = 0): Record => ({ kind: EventKind.free, addr, flags });

test('addresses, sizes and stack ids above 32 bits decode exactly', () => {
  const ledger = new Ledger();
  const addr = 0x7fff_1234_5678;
  const stackId = 2 ** 53 - 1;
  assert.equal(decodeBatch(batch([alloc(addr, 2 ** 40 + 3, stackId)]), ledger), 1);
  assert.deepEqual(ledger.byStack(), [{ stackId, bytes: 2 ** 40 + 3, allocations: 1, truncated: false, cut: false, pids: [PID], firstPid: PID, allocatedBytes: 2 ** 40 + 3, allocatedCount: 1 }]);
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
  const exec: Record = { kind: EventKind.exec, addr: 0, tgid: PID };
  decodeBatch(batch([alloc(0x1000, 10, 7), alloc(0x2000, 20, 7), free(0x2000, EventFlag.realloc), exec, alloc(0x1000, 5, 9)]), ledger);
  assert.deepEqual(ledger.byStack().map(({ stackId, bytes }) => ({ stackId, bytes })), [{ stackId: 9, bytes: 5 }]);
  assert.equal(ledger.live.bytes, 5);
  // realloc's block from before the exec cannot come back after it.
  decodeBatch(batch([alloc(0x2000, 0, 0, 1, EventFlag.restored)]), ledger);
  assert.equal(ledger.live.count, 1);
});

const of = (tgid: number, record: Record): Record => ({ ...record, tgid });
const fork = (parent: number, child: number): Record => ({ kind: EventKind.fork, addr: child, size: parent, tgid: parent });

test('flags above the first byte and process ids of 32 bits decode exactly', () => {
  const seen: number[][] = [];
  const sink = {
    alloc: (tgid: number, _addr: number, _size: number, _stackId: number, _ticks: number, flags: number) => seen.push([tgid, flags]),
    free: (tgid: number, _addr: number, flags: number) => seen.push([tgid, flags]),
    exec: (tgid: number) => seen.push([tgid]),
    fork: (parent: number, child: number) => seen.push([parent, child]),
  };
  const records = [of(2 ** 32 - 1, alloc(0x1000, 8, 1, 1, 0xffff)), of(7, free(0x1000, 0x8001)), of(9, { kind: EventKind.exec, addr: 0 }), fork(2 ** 31, 2 ** 32 - 2)];
  decodeBatch(batch(records), sink);
  assert.deepEqual(seen, [[2 ** 32 - 1, 0xffff], [7, 0x8001], [9], [2 ** 31, 2 ** 32 - 2]]);
});

test('the same address in two processes is two blocks; a free is of its own process', () => {
  const ledger = new Ledger();
  decodeBatch(batch([of(11, alloc(0x1000, 10, 7)), of(12, alloc(0x1000, 20, 7)), of(13, alloc(0x2000, 5, 9)), of(11, free(0x1000)), of(13, free(0x1000))]), ledger);
  assert.deepEqual(
    ledger.byStack().map(({ stackId, bytes, allocations, pids }) => ({ stackId, bytes, allocations, pids })),
    [
      { stackId: 7, bytes: 20, allocations: 1, pids: [12] },
      { stackId: 9, bytes: 5, allocations: 1, pids: [13] },
    ],
  );
  assert.equal(ledger.frees, 1);
  assert.deepEqual(ledger.live, { bytes: 25, count: 2 });
});

test('a stack lists every process holding its blocks, ascending, and the one that brought it first', () => {
  const ledger = new Ledger();
  decodeBatch(batch([of(30, alloc(0x1000, 1, 7)), of(20, alloc(0x1000, 1, 7)), of(30, alloc(0x2000, 1, 7)), of(10, alloc(0x1000, 1, 7)), of(10, free(0x1000))]), ledger);
  assert.deepEqual(ledger.byStack().map(({ pids, firstPid }) => ({ pids, firstPid })), [{ pids: [20, 30], firstPid: 30 }]);
});

test('processes: every one seen, by pid, with what it holds; forks in order', () => {
  const ledger = new Ledger();
  decodeBatch(batch([of(100, alloc(0x1000, 64, 1, 10)), fork(100, 102), fork(100, 101), of(101, alloc(0x1000, 8, 2, 10)), of(101, alloc(0x2000, 8, 2, 20)), fork(101, 103)]), ledger);
  assert.deepEqual(ledger.processes(), [
    { pid: 100, outstandingBytes: 64, outstandingAllocations: 1 },
    { pid: 101, outstandingBytes: 16, outstandingAllocations: 2 },
    { pid: 102, outstandingBytes: 0, outstandingAllocations: 0 },
    { pid: 103, outstandingBytes: 0, outstandingAllocations: 0 },
  ]);
  assert.deepEqual(ledger.processes(15).map((p) => p.outstandingAllocations), [1, 1, 0, 0]);
  assert.deepEqual(ledger.forks(), [
    { parent: 100, child: 102 },
    { parent: 100, child: 101 },
    { parent: 101, child: 103 },
  ]);
});

test('an exec drops only the blocks of the process that exec\'d', () => {
  const ledger = new Ledger();
  decodeBatch(batch([of(1, alloc(0x1000, 10, 7)), of(2, alloc(0x1000, 20, 7)), of(2, free(0x1000, EventFlag.realloc)), of(1, { kind: EventKind.exec, addr: 0 }), of(2, alloc(0x1000, 0, 0, 1, EventFlag.restored))]), ledger);
  assert.deepEqual(ledger.processes().map((p) => [p.pid, p.outstandingBytes]), [[1, 0], [2, 20]]);
});

test('a ledger not per process (kernel mode) is one account: any process may free a block', () => {
  const ledger = new Ledger({ perProcess: false });
  decodeBatch(batch([of(1, alloc(0x1000, 10, 7)), of(2, alloc(0x2000, 20, 7)), of(3, free(0x1000))]), ledger);
  assert.deepEqual(ledger.byStack().map(({ bytes, pids, firstPid }) => ({ bytes, pids, firstPid })), [{ bytes: 20, pids: [], firstPid: 1 }]);
  assert.equal(ledger.frees, 1);
  assert.deepEqual(ledger.processes(), []);
});

/** One struct lh_fd_event: the head, then the details, as BPF writes them. */
function fdRecord(kind: number, fd: number, stackId: number, name: string[], components: number, whole: boolean, more: Partial<{ mode: number; syscall: number }> = {}): Buffer {
  const fields = structs.lh_fd_details.fields;
  const out = Buffer.concat([batch([{ kind, addr: fd, stackId, ticks: 7 }]), Buffer.alloc(structs.lh_fd_event.size - EVENT.recordSize)]);
  const at = structs.lh_fd_event.fields.details.offset;
  out.writeUInt32LE(more.mode ?? 0o100600, at + fields.mode.offset);
  out.writeUInt16LE(more.syscall ?? 257, at + fields.syscall.offset);
  out.writeUInt8(components, at + fields.components.offset);
  out.writeUInt8(whole ? 1 : 0, at + fields.whole_path.offset);
  Buffer.from(name.map((part) => `${part}\0`).join('')).copy(out, at + fields.name.offset);
  return out;
}

test('descriptor records: a path from its components, innermost first; the records after it still decode', () => {
  const opened: [number, string][] = [];
  const described: [number, string][] = [];
  const sink = {
    fdOpen: (_tgid: number, fd: number, _stack: number, _ticks: number, _flags: number, details: { name: string }) => opened.push([fd, details.name]),
    fdDetails: (_tgid: number, fd: number, details: { name: string }) => described.push([fd, details.name]),
    fdClose: () => {},
    fdExec: () => {},
    map: () => {},
    unmap: () => {},
    remap: () => {},
  };
  const ledger = new Ledger();
  const records = Buffer.concat([
    fdRecord(EventKind.fdOpen, 3, 9, ['log.txt', 'app', 'var'], 3, true),
    fdRecord(EventKind.fdOpen, 4, 9, ['deep', 'very'], 2, false),
    fdRecord(EventKind.fdOpen, 5, 9, ['[eventfd]'], 0, false, { mode: 0o600, syscall: 290 }),
    fdRecord(EventKind.fdDetails, 6, 0, ['TCP'], 0, false, { mode: 0o140777, syscall: 42 }),
    batch([alloc(0x1000, 16, 3)]),
  ]);
  assert.equal(decodeBatch(records, ledger, { resources: sink }), 5);
  assert.deepEqual(opened, [[3, '/var/app/log.txt'], [4, '…/very/deep'], [5, '[eventfd]']]);
  assert.deepEqual(described, [[6, 'TCP']]);
  assert.equal(ledger.live.bytes, 16, 'the allocation after the longer records');
});
