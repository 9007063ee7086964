// The library's trace handle, over a hand-run trace: snapshots reach the
// callback and the iterator in order (queued until read), stop() reaches the
// trace as a request, and the iterator ends with the result.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { LiveSnapshot } from '../../src/trace/live-snapshot.js';
import { startHandle, type HandleWiring, type TraceResult } from '../../src/trace/trace-handle.js';

function snapshot(elapsedMs: number): LiveSnapshot {
  return { elapsedMs } as LiveSnapshot;
}

const RESULT = { report: {}, reason: 'signal', exitCode: null } as unknown as TraceResult;

test('trace handle: snapshots in order to the callback and the iterator, which ends with the trace', async () => {
  let wiring: HandleWiring | null = null;
  const seen: number[] = [];
  const handle = startHandle(
    (given) =>
      new Promise((resolve) => {
        wiring = given;
        given.onInterval(snapshot(100));
        given.onInterval(snapshot(200));
        given.stop.whenRequested((signal) => {
          assert.deepEqual(signal, { name: 'SIGTERM', fromTerminal: false });
          given.onInterval(snapshot(300));
          resolve(RESULT);
        });
      }),
    (s) => seen.push(s.elapsedMs),
  );
  const iterated: number[] = [];
  for await (const s of handle) {
    iterated.push(s.elapsedMs);
    if (s.elapsedMs === 200) handle.stop();
  }
  assert.ok(wiring);
  assert.deepEqual(iterated, [100, 200, 300]);
  assert.deepEqual(seen, [100, 200, 300]);
  assert.equal(await handle.result, RESULT);
  handle.stop(); // again, after the end: nothing happens
});

test('trace handle: a stop before the trace listens is kept for it; a failure rejects the result and ends the iterator', async () => {
  const handle = startHandle(
    ({ stop }) =>
      new Promise((_, reject) => {
        stop.whenRequested(() => reject(new Error('refused')));
      }),
  );
  handle.stop();
  await assert.rejects(handle.result, /refused/);
  for await (const s of handle) assert.fail(`snapshot ${s.elapsedMs}`);
});
