// What `leakhound kernel` checks before it loads anything: the tracepoints in
// a BTF blob, the attach method for each kind of kernel, cgroup paths.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { LeakhoundError } from '../../src/errors.js';
import { chooseAttach, missingTracepoints, resolveCgroup } from '../../src/trace/kernel-preflight.js';

function withFile(content: string | Buffer, use: (file: string) => void): void {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leakhound-unit-'));
  try {
    const file = path.join(dir, 'file');
    writeFileSync(file, content);
    use(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('tracepoints are found by their whole btf_trace_ name in the string table', () => {
  const strings = Buffer.from('\0int\0btf_trace_kmalloc\0btf_trace_kfree_skb\0btf_trace_kmem_cache_alloc_node\0', 'latin1');
  withFile(Buffer.concat([Buffer.from([0x9f, 0xeb, 1, 0]), strings]), (btf) => {
    assert.deepEqual(missingTracepoints(['kmem:kmalloc', 'kmem:kfree', 'kmem:kmem_cache_alloc'], btf), ['kmem:kfree', 'kmem:kmem_cache_alloc']);
  });
});

function refusal(run: () => unknown): LeakhoundError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof LeakhoundError);
    return error;
  }
  assert.fail('expected a refusal');
}

test('auto and tracepoint pick the tracepoints when the kernel has them all', () => {
  assert.equal(chooseAttach('auto', [], false), 'tracepoint');
  assert.equal(chooseAttach('tracepoint', [], true), 'tracepoint');
});

test('kprobe on a kernel without kprobes names CONFIG_KPROBES', () => {
  const error = refusal(() => chooseAttach('kprobe', [], false));
  assert.equal(error.code, 'NO_KPROBES');
  assert.equal(error.message, 'this kernel has no kprobes (it was built without CONFIG_KPROBES)');
  assert.equal(error.hint, 'use --attach tracepoint');
});

test('a kernel with neither says what it lacks', () => {
  const error = refusal(() => chooseAttach('auto', ['kmem:kmalloc'], false));
  assert.equal(error.message, 'this kernel lacks the tracepoints kmem:kmalloc and has no kprobes (it was built without CONFIG_KPROBES)');
  assert.equal(refusal(() => chooseAttach('tracepoint', ['kmem:kfree'], false)).code, 'NO_TRACEPOINTS');
  assert.equal(refusal(() => chooseAttach('tracepoint', ['kmem:kfree'], true)).hint, 'try --attach kprobe');
});

test('kprobe where the kernel has them; auto falls back to kprobes only when tracepoints are missing', () => {
  assert.equal(chooseAttach('kprobe', [], true), 'kprobe');
  assert.equal(chooseAttach('auto', [], true), 'tracepoint');
  assert.equal(chooseAttach('auto', ['kmem:kfree'], true), 'kprobe');
  assert.equal(chooseAttach('kprobe', ['kmem:kmalloc', 'kmem:kmem_cache_alloc'], true), 'kprobe');
});


test('a missing cgroup path and a directory outside cgroup v2 are usage errors', () => {
  assert.equal(refusal(() => resolveCgroup('/sys/fs/cgroup/leakhound-no-such-cgroup')).code, 'USAGE');
  assert.match(refusal(() => resolveCgroup(os.tmpdir())).message, /is not a cgroup v2 directory$/);
});

/** The cgroup v2 mount point of this machine, if there is one. */
function cgroup2Mount(): string | undefined {
  const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((entry) => entry.includes(' - cgroup2 '));
  return line?.split(' ')[4];
}

test('a cgroup is its inode number and its depth below the mount', { skip: cgroup2Mount() === undefined && 'no cgroup v2 mount' }, () => {
  const mount = cgroup2Mount()!;
  const root = resolveCgroup(mount);
  assert.equal(root.level, 0);
  assert.ok(root.id > 0);
  // The same directory seen through a mount table that escapes its path.
  const escaped = mount.replaceAll(' ', '\\040');
  withFile(`30 25 0:26 / ${escaped} rw,relatime shared:4 - cgroup2 cgroup2 rw\n`, (mountinfo) => {
    assert.deepEqual(resolveCgroup(mount, mountinfo), root);
  });
  withFile(`30 25 0:26 / ${path.dirname(mount)} rw,relatime shared:4 - cgroup2 cgroup2 rw\n`, (mountinfo) => {
    assert.equal(resolveCgroup(mount, mountinfo).level, 1, 'one directory below the mount in this table');
  });
});
