import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { cgroupProcesses, runsInside } from '../../src/target/cgroup-processes.js';

test('cgroup processes: the directory and every cgroup below it, each process once', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lh-cgroup-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'a', 'b'), { recursive: true });
  mkdirSync(path.join(dir, 'empty'));
  writeFileSync(path.join(dir, 'cgroup.procs'), '10\n11\n');
  writeFileSync(path.join(dir, 'a', 'cgroup.procs'), '20\n');
  writeFileSync(path.join(dir, 'a', 'b', 'cgroup.procs'), '30\n11\n');
  writeFileSync(path.join(dir, 'empty', 'cgroup.procs'), '');
  assert.deepEqual(cgroupProcesses(dir).sort((x, y) => x - y), [10, 11, 20, 30]);
  assert.deepEqual(cgroupProcesses(path.join(dir, 'gone')), []);
});

test('cgroup processes: leakhound in the cgroup or below it would trace itself', () => {
  const self = '0::/system.slice/app.service/worker\n';
  assert.equal(runsInside('/sys/fs/cgroup/system.slice/app.service', self), true);
  assert.equal(runsInside('/sys/fs/cgroup/system.slice/app.service/worker', self), true);
  assert.equal(runsInside('/sys/fs/cgroup/system.slice/app', self), false);
  assert.equal(runsInside('/sys/fs/cgroup/user.slice', self), false);
});
