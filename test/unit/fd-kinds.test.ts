// Descriptor kinds and examples from what the kernel knew of each.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { FdDetails } from '../../src/ingest/resource-sink.js';
import { fdExample, fdKind } from '../../src/report/fd-kinds.js';

function fd(overrides: Partial<FdDetails>): FdDetails {
  return { mode: 0, family: 0, sockType: 0, syscall: 0, peerPort: 0, localPort: 0, peer: new Uint8Array(16), name: '', ...overrides };
}

function peer(...bytes: number[]): Uint8Array {
  const address = new Uint8Array(16);
  address.set(bytes);
  return address;
}

test('the inode type tells sockets and pipes, whatever the name', () => {
  assert.equal(fdKind(fd({ mode: 0o140777, name: 'TCP' })), 'socket');
  assert.equal(fdKind(fd({ mode: 0o010600, name: 'pipe:' })), 'pipe');
  assert.equal(fdKind(fd({ mode: 0o100644, name: '/etc/passwd' })), 'file');
  assert.equal(fdKind(fd({ mode: 0o020666, name: '/dev/null' })), 'file');
});

test('anonymous inodes by name', () => {
  const cases: [string, string][] = [
    ['[eventfd]', 'eventfd'],
    ['[eventpoll]', 'epoll'],
    ['[timerfd]', 'timerfd'],
    ['[signalfd]', 'signalfd'],
    ['inotify', 'inotify'],
    ['memfd:jit-cache', 'memfd'],
    ['[pidfd]', 'pidfd'],
    ['pidfd', 'pidfd'],
    ['[fanotify]', 'fanotify'],
    ['[io_uring]', 'io_uring'],
    ['[]', 'file'],
    ['constructor', 'file'],
  ];
  for (const [name, kind] of cases) assert.equal(fdKind(fd({ mode: 0o600, name })), kind, name);
});

test('by the system call that made it, where only one kind comes of it, whatever the name', () => {
  const cases: [number, string][] = [
    [319, 'memfd'], [434, 'pidfd'], [284, 'eventfd'], [290, 'eventfd'], [213, 'epoll'], [291, 'epoll'],
    [283, 'timerfd'], [282, 'signalfd'], [289, 'signalfd'], [253, 'inotify'], [294, 'inotify'],
    [41, 'socket'], [53, 'socket'], [43, 'socket'], [288, 'socket'], [22, 'pipe'], [293, 'pipe'], [257, 'file'],
  ];
  for (const [syscall, kind] of cases) assert.equal(fdKind(fd({ syscall })), kind, `syscall ${syscall}`);
  assert.equal(fdKind(fd({ syscall: 434, mode: 0o100600, name: '/' })), 'pidfd', "pidfs (6.9+) names a pidfd '/'");
  assert.equal(fdKind(fd({ syscall: 32, mode: 0o600, name: '[eventfd]' })), 'eventfd', 'a dup takes the kind of what it copies');
});

test('socket examples: the peer when connected, else the local port, else the type', () => {
  const inet = { mode: 0o140777, family: 2, sockType: 1 };
  assert.equal(fdExample(fd({ ...inet, peerPort: 80, localPort: 40000, peer: peer(10, 0, 0, 1) })), 'AF_INET 10.0.0.1:80');
  assert.equal(fdExample(fd({ ...inet, localPort: 8080 })), 'AF_INET :8080');
  assert.equal(fdExample(fd({ ...inet, sockType: 2 })), 'AF_INET SOCK_DGRAM');
  const inet6 = { mode: 0o140777, family: 10, sockType: 1 };
  assert.equal(fdExample(fd({ ...inet6, peerPort: 80, peer: peer(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1) })), 'AF_INET6 [::1]:80');
  assert.equal(fdExample(fd({ ...inet6, peerPort: 443, peer: peer(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0x2a) })), 'AF_INET6 [2001:db8::1:0:0:2a]:443');
  assert.equal(fdExample(fd({ ...inet6, peerPort: 53, peer: peer(0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1) })), 'AF_INET6 [2001:db8:1:1:1:1:1:1]:53');
  assert.equal(fdExample(fd({ ...inet6, peerPort: 22, peer: peer(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 1, 2) })), 'AF_INET6 [::ffff:192.168.1.2]:22');
  assert.equal(fdExample(fd({ mode: 0o140777, family: 1, sockType: 1 })), 'AF_UNIX SOCK_STREAM');
  assert.equal(fdExample(fd({ mode: 0o140777, family: 16, sockType: 3 })), 'AF_NETLINK SOCK_RAW');
  assert.equal(fdExample(fd({ mode: 0o140777, family: 99 })), 'AF_99');
  assert.equal(fdExample(fd({ syscall: 41 })), 'socket');
});

test('other examples: a path, a memfd\'s name, else the kind', () => {
  assert.equal(fdExample(fd({ mode: 0o100644, name: '/var/log/app.log' })), '/var/log/app.log');
  assert.equal(fdExample(fd({ mode: 0o600, name: 'memfd:jit-cache' })), 'memfd:jit-cache');
  assert.equal(fdExample(fd({ syscall: 319 })), 'memfd');
  assert.equal(fdExample(fd({ mode: 0o010600, name: 'pipe:' })), 'pipe');
  assert.equal(fdExample(fd({ mode: 0o010600, name: '/run/app.fifo' })), '/run/app.fifo');
  assert.equal(fdExample(fd({ mode: 0o600, name: '[eventfd]' })), 'eventfd');
});
