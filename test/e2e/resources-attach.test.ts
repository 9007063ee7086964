// Descriptors in attach mode (issue 20): a server that leaks the connection
// of every request (fd-server), traced with --pid while it serves. Only the
// connections accepted while attached count, at the accept site, as sockets
// whose peer is the client, the first of them included, though its accept
// was already waiting when the trace began; the file and the pipe it opens
// and closes for each request are absent, as is everything from before the
// attach.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { attachTo } from '../helpers/attach.js';
import { requireBpf } from '../helpers/bpf.js';
import { fixtureBinaries } from '../helpers/paths.js';
import { exited, lineMatching } from '../helpers/process.js';
import { readReport } from '../helpers/report.js';
import { describeFrames, fdSites, mentioning, withFds } from '../helpers/resources.js';

const SERVER = path.join(fixtureBinaries, 'fd-server');
const BEFORE = 3;
const WHILE_ATTACHED = 7;

/**
 * One request: connects, sends a line, reads the reply line (the server
 * never closes its end), then closes; resolves with the client's own port.
 */
async function request(port: number, expectedCount: number): Promise<number> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  const clientPort = socket.localPort!;
  socket.write('hello\n');
  const [, count] = await lineMatching(socket, /^ok (\d+) \d+$/, 5_000);
  socket.destroy();
  assert.equal(Number(count), expectedCount, 'the server answered this request');
  return clientPort;
}

test('attach: only the connections a server leaks while traced are counted, at the accept site, as sockets with their peer', { timeout: 150_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const server = spawn(SERVER, [], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  });
  const port = Number((await lineMatching(server.stdout!, /^port (\d+)$/, 5_000))[1]);
  let served = 0;
  for (let i = 0; i < BEFORE; i++) await request(port, ++served);

  const tracer = await attachTo(t, server.pid!);
  const clientPorts: number[] = [];
  for (let i = 0; i < WHILE_ATTACHED; i++) clientPorts.push(await request(port, ++served));
  tracer.cli.kill('SIGINT');
  assert.deepEqual(await exited(tracer.cli, 15_000), { code: 0, signal: null }, `stderr: ${tracer.stderr()}`);
  assert.equal(server.exitCode, null, 'the server outlives the trace');

  const fds = withFds(readReport(tracer.json));
  const sites = fdSites(fds.stacks, SERVER);
  assert.deepEqual(Object.fromEntries([...sites].map(([site, s]) => [site, { count: s.count, kinds: s.kinds }])), {
    site_accept_request: { count: WHILE_ATTACHED, kinds: { socket: WHILE_ATTACHED } },
  });
  assert.equal(fds.outstanding, WHILE_ATTACHED);
  // Per request: the connection, a file and a pipe's two ends opened; all but the connection closed.
  assert.deepEqual({ opened: fds.opened, closed: fds.closed }, { opened: 4 * WHILE_ATTACHED, closed: 3 * WHILE_ATTACHED });
  for (const symbol of ['status_size', 'scratch_pipe', 'open_listener']) {
    assert.deepEqual(mentioning(fds.stacks, symbol).map((s) => describeFrames(s.frames)), [], `no stack through ${symbol}`);
  }
  const examples = sites.get('site_accept_request')!.examples;
  assert.ok(examples.length >= 1, 'the accepted connections have examples');
  const peers = clientPorts.map((p) => `AF_INET 127.0.0.1:${p}`);
  for (const example of examples) assert.ok(peers.includes(example), `example ${JSON.stringify(example)} is a client's address: ${JSON.stringify(peers)}`);

  server.kill('SIGTERM');
  assert.deepEqual(await exited(server, 5_000), { code: 0, signal: null });
});
