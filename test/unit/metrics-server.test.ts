// The /metrics endpoint on loopback: what it answers before and while a
// trace is served, and a port in use as bad input (no BPF, no root).
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';

import { LeakhoundError } from '../../src/errors.js';
import type { LiveSource } from '../../src/metrics/live-source.js';
import { MetricsServer } from '../../src/metrics/server.js';

const source: LiveSource = {
  byStack: () => [{ stackId: 5, bytes: 4000, allocations: 1, truncated: false, cut: false, pids: [1], firstPid: 1, allocatedBytes: 4000, allocatedCount: 1 }],
  events: () => ({ allocations: 1, frees: 0 }),
  losses: () => ({ lostEvents: 0, failedStacks: 0 }),
  resources: () => ({ openFds: null, mappedBytes: null }),
  scale: 1,
  labels: (stacks) => stacks.map(() => 'leak 0badc0de'),
};

test('503 until a trace is served, then the text exposition; 404 elsewhere; closed with the trace', async (t) => {
  const server = await MetricsServer.listen('127.0.0.1', 0);
  t.after(() => server.close());
  const url = server.url;
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  assert.equal((await fetch(url)).status, 503);
  server.serve(source);
  const response = await fetch(url);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  assert.match(await response.text(), /^leakhound_stack_outstanding_bytes\{stack="leak 0badc0de"\} 4000$/m);
  assert.equal((await fetch(url.replace('/metrics', '/'))).status, 404);
  await server.close();
  await assert.rejects(fetch(url));
});

test('a port already in use is one usage error naming it', async (t) => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.after(() => taken.close());
  const port = (taken.address() as { port: number }).port;
  await assert.rejects(MetricsServer.listen('127.0.0.1', port), (error: unknown) => {
    assert.ok(error instanceof LeakhoundError);
    assert.equal(error.code, 'USAGE');
    assert.equal(error.message, `--metrics-port ${port}: 127.0.0.1:${port} is already in use`);
    return true;
  });
});
