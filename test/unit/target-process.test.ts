import assert from 'node:assert/strict';
import { test } from 'node:test';

import { LeakhoundError } from '../../src/errors.js';
import { inspectTarget, requireTraceable } from '../../src/target/target-process.js';

function errno(code: string): Error {
  return Object.assign(new Error(`${code}: failed`), { code });
}

/** A /proc with one task: `files` maps a file name (status, stat, maps) to its text or the errno reading it fails with. */
function proc(pid: number, files: Record<string, string | Error>) {
  return (path: string): string => {
    const match = new RegExp(`^/proc/${pid}/(\\w+)$`).exec(path);
    const file = match ? files[match[1]] : undefined;
    if (file === undefined) throw errno('ENOENT');
    if (file instanceof Error) throw file;
    return file;
  };
}

const status = (pid: number, tgid = pid) => `Name:\tapp\nState:\tS (sleeping)\nTgid:\t${tgid}\nPid:\t${pid}\n`;
const stat = (pid: number, state: string, flags: number) => `${pid} (a (strange) name) ${state} 1 ${pid} ${pid} 0 -1 ${flags} 0 0 0`;

test('target: a running process', () => {
  assert.deepEqual(inspectTarget(42, proc(42, { status: status(42), stat: stat(42, 'S', 0x400100), maps: '' })), { kind: 'process' });
});

test('target: each refusal has its own cause', () => {
  assert.deepEqual(inspectTarget(42, proc(7, {})), { kind: 'absent' });
  assert.deepEqual(inspectTarget(43, proc(43, { status: status(43, 40), stat: stat(43, 'S', 0) })), { kind: 'thread', tgid: 40 });
  assert.deepEqual(inspectTarget(42, proc(42, { status: status(42), stat: stat(42, 'Z', 0x400004) })), { kind: 'zombie' });
  assert.deepEqual(inspectTarget(2, proc(2, { status: status(2), stat: stat(2, 'S', 0x00208040) })), { kind: 'kernel-thread' });
  assert.equal(inspectTarget(1, proc(1, { status: status(1), stat: stat(1, 'S', 0x400100), maps: errno('EACCES') })).kind, 'not-permitted');
});

test('target: the line names the cause and what to do', () => {
  const line = (pid: number, read: (path: string) => string) => {
    try {
      requireTraceable(pid, read);
      return 'traceable';
    } catch (error) {
      return `${(error as LeakhoundError).message}: ${(error as LeakhoundError).hint}`;
    }
  };
  assert.equal(line(42, proc(7, {})), 'no process has PID 42: check the PID with ps');
  assert.equal(line(43, proc(43, { status: status(43, 40), stat: stat(43, 'S', 0) })), '43 is a thread of process 40, not a process: give --pid 40: leakhound traces every thread of a process');
  assert.match(line(1, proc(1, { status: status(1), stat: stat(1, 'S', 0), maps: errno('EACCES') })), /^leakhound may not read process 1's memory map/);
});
