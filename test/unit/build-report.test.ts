// buildReport on a ledger of several processes: what is per process appears
// only when the caller says several may be traced, scaled like the rest.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Ledger } from '../../src/aggregate/ledger.js';
import type { NativeTracer } from '../../src/native/binding.js';
import { COUNTERS, EventFlag } from '../../src/native/layout.js';
import { buildReport, type ReportInput } from '../../src/report/build.js';

const tracer = { counters: () => COUNTERS.map(() => 0), missedRuns: () => 0 } as unknown as NativeTracer;

function family(): Ledger {
  const ledger = new Ledger();
  ledger.alloc(10, 0x1000, 100, 7, 1, 0);
  ledger.fork(10, 11);
  ledger.alloc(11, 0x1000, 50, 7, 1, 0);
  ledger.alloc(11, 0x2000, 8, 9, 1, 0);
  ledger.fork(10, 12);
  return ledger;
}

function input(ledger: Ledger, resolved: number[][]): ReportInput {
  return {
    mode: 'user',
    target: { pid: 10, command: ['./server'], exitCode: null, cpuMs: null },
    durationMs: 5,
    ledger,
    tracer,
    olderThanMs: 0,
    endClock: { ticks: 1, ns: 1 },
    readStack: (id) => [id],
    resolveStacks: (stacks, pids) => {
      resolved.push(pids);
      return stacks.map(() => []);
    },
    sampleEvery: 2,
  };
}

test('per process: each stack its pids, and every process seen, scaled by the sampling', () => {
  const resolved: number[][] = [];
  const report = buildReport({
    ...input(family(), resolved),
    perProcess: { command: (pid) => (pid === 10 ? ['./server'] : null), exitCode: (pid) => (pid === 12 ? 0 : null) },
  });
  assert.deepEqual(resolved, [[10, 11]], 'each stack symbolized with the maps of the process that brought it');
  assert.deepEqual(report.stacks.map((stack) => [stack.bytes, stack.pids]), [[300, [10, 11]], [16, [11]]]);
  assert.deepEqual(report.processes, [
    { pid: 10, command: ['./server'], exitCode: null, outstandingBytes: 200, outstandingAllocations: 2 },
    { pid: 11, command: null, exitCode: null, outstandingBytes: 116, outstandingAllocations: 4 },
    { pid: 12, command: null, exitCode: 0, outstandingBytes: 0, outstandingAllocations: 0 },
  ]);
});

test('one process: no pids and no process list, as before', () => {
  const report = buildReport(input(family(), []));
  assert.equal(report.processes, undefined);
  assert.ok(report.stacks.every((stack) => !('pids' in stack)));
});

test('alloc figures: each stack what it allocated, freed or not; stacks that hold nothing are churn, past --churn-stacks summed', () => {
  const ledger = new Ledger();
  ledger.alloc(10, 0x1000, 100, 7, 1, 0);
  ledger.alloc(10, 0x2000, 100, 7, 1, 0);
  ledger.free(10, 0x1000, 0);
  // A failed realloc gives its block back: no allocation of its own.
  ledger.free(10, 0x2000, EventFlag.realloc);
  ledger.alloc(10, 0x2000, 0, 7, 1, EventFlag.restored);
  // 258 stacks whose blocks were all freed, the largest first in the report; an exec drops another's block.
  for (let id = 100; id < 358; id++) {
    ledger.alloc(10, 0x9000, id, id, 1, 0);
    ledger.free(10, 0x9000, 0);
  }
  ledger.alloc(20, 0x3000, 5, 9, 1, 0);
  ledger.exec(20);
  const report = buildReport({ ...input(ledger, []), churnStacks: 256 });

  assert.deepEqual(report.stacks.map((stack) => [stack.bytes, stack.allocated]), [[200, { bytes: 400, allocations: 4 }]]);
  const churn = report.churnStacks!;
  assert.equal(churn.length, 256);
  assert.deepEqual(churn[0], { bytes: 0, allocations: 0, frames: [], truncated: false, partial: false, allocated: { bytes: 2 * 357, allocations: 2 } });
  // Past the list: the two smallest (ids 100 and 101), and stack 9, whose block the exec took.
  assert.deepEqual(report.churnOmitted, { stacks: 3, bytes: 2 * (100 + 101 + 5), allocations: 6 });
  const listed = [...report.stacks, ...churn].reduce((sum, stack) => sum + stack.allocated!.allocations, 0);
  assert.equal(listed + report.churnOmitted!.allocations, report.totals.allocations);
  const bytes = [...report.stacks, ...churn].reduce((sum, stack) => sum + stack.allocated!.bytes, 0);
  assert.equal(bytes + report.churnOmitted!.bytes, report.totals.allocatedBytes);
});

test('--churn-stacks 0: no churn stack listed, all summed', () => {
  const ledger = new Ledger();
  ledger.alloc(10, 0x1000, 100, 7, 1, 0);
  ledger.free(10, 0x1000, 0);
  const report = buildReport({ ...input(ledger, []), churnStacks: 0 });
  assert.deepEqual(report.churnStacks, []);
  assert.deepEqual(report.churnOmitted, { stacks: 1, bytes: 200, allocations: 2 });
});
