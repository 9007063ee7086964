// The OOM flight recorder's user-space parts on hand-built input: the
// record as BPF writes it, the victim's memory cgroup in v1 and v2
// hierarchies, and the header the text report gains.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { Ledger } from '../../src/aggregate/ledger.js';
import { decodeBatch, type OomVictim } from '../../src/ingest/decode.js';
import { structs } from '../../src/native/contract.generated.js';
import { EVENT, EventKind } from '../../src/native/layout.js';
import { oomHeaderLines } from '../../src/render/oom-section.js';
import { memoryCgroupOf, memoryHierarchy, readMemoryCgroup } from '../../src/trace/oom-cgroup.js';

const fields = structs.lh_oom_event.fields;

/** One lh_oom_event, then an allocation: the decoder must step over the whole record. */
function oomBatch(detailed: boolean): Buffer {
  const out = Buffer.alloc(structs.lh_oom_event.size + EVENT.recordSize);
  out.writeUInt16LE(EventKind.oomVictim, EVENT.kind);
  out.writeUInt32LE(77, EVENT.tgid);
  out.writeBigUInt64LE(1234n, EVENT.addr);
  out.writeBigUInt64LE(9001n, EVENT.stackId);
  if (detailed) {
    out.writeUInt8(1, fields.detailed.offset);
    out.writeBigUInt64LE(65536n, fields.anon_rss_kb.offset);
    out.writeBigUInt64LE(512n, fields.file_rss_kb.offset);
    out.writeBigUInt64LE(70000n, fields.total_vm_kb.offset);
    out.writeInt16LE(-17, fields.oom_score_adj.offset);
    out.write('oom-leak\0', fields.comm.offset, 'latin1');
  }
  const alloc = structs.lh_oom_event.size;
  out.writeUInt16LE(EventKind.alloc, alloc + EVENT.kind);
  out.writeUInt32LE(77, alloc + EVENT.tgid);
  out.writeBigUInt64LE(0x1000n, alloc + EVENT.addr);
  out.writeBigUInt64LE(8n, alloc + EVENT.size);
  out.writeBigUInt64LE(5n, alloc + EVENT.stackId);
  return out;
}

test('an OOM record decodes whole, with or without the figures newer kernels give', () => {
  for (const detailed of [true, false]) {
    const victims: OomVictim[] = [];
    const ledger = new Ledger();
    assert.equal(decodeBatch(oomBatch(detailed), ledger, { oom: { oomVictim: (v) => victims.push(v) } }), 2);
    assert.equal(ledger.live.bytes, 8);
    assert.deepEqual(victims[0], {
      pid: 1234,
      invokerTgid: 77,
      invokerMemcgId: 9001,
      ticks: 0,
      details: detailed
        ? { command: 'oom-leak', totalVmBytes: 70000 * 1024, anonRssBytes: 64 << 20, fileRssBytes: 512 * 1024, shmemRssBytes: 0, pageTablesBytes: 0, uid: 0, oomScoreAdj: -17 }
        : null,
    });
  }
});

const HYBRID = [
  '30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');
const UNIFIED = '24 1 0:22 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate';
const PROC_CGROUP = ['4:memory:/jobs/a', '1:cpu,cpuacct:/', '0::/system.slice/b.service'].join('\n');

test('the memory controller is where it is bound: v1 on a hybrid system, else v2', () => {
  const v1 = memoryHierarchy(HYBRID);
  assert.deepEqual(v1, { version: 1, mount: '/sys/fs/cgroup/memory' });
  assert.deepEqual(memoryCgroupOf(PROC_CGROUP, v1!), { version: 1, mount: '/sys/fs/cgroup/memory', path: '/jobs/a' });
  const v2 = memoryHierarchy(UNIFIED);
  assert.deepEqual(memoryCgroupOf(PROC_CGROUP, v2!), { version: 2, mount: '/sys/fs/cgroup', path: '/system.slice/b.service' });
  assert.equal(memoryHierarchy('24 1 0:22 / / rw - ext4 /dev/sda1 rw'), null);
});

test("a cgroup's limit, usage and counters: unlimited is null", (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leakhound-oom-unit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'memory.max'), '67108864\n');
  writeFileSync(path.join(dir, 'memory.current'), '67100000\n');
  writeFileSync(path.join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 40\noom 1\noom_kill 1\n');
  assert.deepEqual(readMemoryCgroup({ version: 2, mount: path.dirname(dir), path: path.basename(dir) }), {
    cgroup: path.basename(dir),
    memoryMaxBytes: 64 << 20,
    memoryCurrentBytes: 67100000,
    memoryEvents: { low: 0, high: 0, max: 40, oom: 1, oom_kill: 1 },
  });
  writeFileSync(path.join(dir, 'memory.limit_in_bytes'), '9223372036854771712\n');
  assert.equal(readMemoryCgroup({ version: 1, mount: path.dirname(dir), path: path.basename(dir) }).memoryMaxBytes, null);
  writeFileSync(path.join(dir, 'memory.max'), 'max\n');
  assert.equal(readMemoryCgroup({ version: 2, mount: path.dirname(dir), path: path.basename(dir) }).memoryMaxBytes, null);
});

test('the text header names the kill, the cgroup and its limit', () => {
  const oom = { victimPid: 42, command: 'oom-leak', cgroup: '/jobs/a', at: '2026-12-06T04:00:00.000Z', memoryMaxBytes: 64 << 20, memoryCurrentBytes: null, memoryEvents: null, victim: null };
  assert.deepEqual(oomHeaderLines(oom), [
    "OOM kill: the kernel's OOM killer chose PID 42 (oom-leak) at 2026-12-06T04:00:00.000Z, in cgroup /jobs/a (limit 64.0 MiB); this report is what was outstanding then",
  ]);
  assert.match(oomHeaderLines({ ...oom, cgroup: null })[0]!, /in cgroup unknown \(the victim was gone\)/);
});
