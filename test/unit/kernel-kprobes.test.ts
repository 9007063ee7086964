// The kprobe plan of `leakhound kernel --attach kprobe`: which functions of
// a kernel are probed, with which cookies, and what a kernel must have.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { LeakhoundError } from '../../src/errors.js';
import { allocCookie, functionParams, kernelFunctions, KprobeKind, planKprobes } from '../../src/trace/kernel-kprobes.js';

const KERNEL_6_1 = ['kmalloc_trace', 'kmalloc_node_trace', '__kmalloc', '__kmalloc_node', '__kmalloc_node_track_caller', 'kmalloc_large', 'kmalloc_large_node', 'kmem_cache_alloc', 'kmem_cache_alloc_lru', 'kmem_cache_alloc_node', 'kfree', 'kmem_cache_free'];

test('kallsyms: text symbols of the kernel itself, without compiler clones or modules', () => {
  const text = [
    'ffffffff81234560 T __kmalloc',
    'ffffffff81234570 t kfree.cold',
    'ffffffff81234580 t kmem_cache_free.isra.0',
    'ffffffff81234590 T kfree',
    'ffffffff812345a0 D kmalloc_caches',
    'ffffffffc0001000 t kmem_cache_alloc\t[some_module]',
  ].join('\n');
  assert.deepEqual([...kernelFunctions(text)].sort(), ['__kmalloc', 'kfree']);
});

test('cookies carry the kind and the argument position', () => {
  assert.equal(allocCookie('cache', 's', 0), KprobeKind.cache);
  assert.equal(allocCookie('kmalloc', 'size', 2), KprobeKind.kmalloc | (2 << 8));
  assert.equal(allocCookie('kmallocCache', 's', 1), KprobeKind.kmallocCache | (1 << 4));
  assert.throws(() => allocCookie('kmalloc', 'size', 5), RangeError);
});

test('6.1: every allocation function that exists is probed at entry and return, frees at entry', () => {
  const [entry, exit, frees] = planKprobes(new Set(KERNEL_6_1));
  assert.equal(entry!.program, 'alloc_entry');
  assert.equal(exit!.program, 'alloc_return');
  assert.equal(exit!.isReturn, true);
  assert.deepEqual(entry!.functions, KERNEL_6_1.slice(0, 10));
  assert.deepEqual(exit!.cookies, entry!.cookies);
  assert.deepEqual(frees, { program: 'free_entry', functions: ['kfree', 'kmem_cache_free'], cookies: [0, 1], isReturn: false });
});

test('positions come from BTF where it names the parameter', () => {
  const [entry] = planKprobes(new Set(KERNEL_6_1), (fn, param) => (fn === '__kmalloc_node' && param === 'size' ? 3 : undefined));
  assert.equal(entry!.cookies[entry!.functions.indexOf('__kmalloc_node')], KprobeKind.kmalloc | (3 << 8));
});

test('a kernel without kmem_cache_alloc is refused by name', () => {
  try {
    planKprobes(new Set(KERNEL_6_1.filter((name) => name !== 'kmem_cache_alloc')));
    assert.fail('expected a refusal');
  } catch (error) {
    assert.ok(error instanceof LeakhoundError);
    assert.equal(error.code, 'NO_KPROBE_TARGETS');
    assert.match(error.message, /kmem_cache_alloc\/kmem_cache_alloc_noprof/);
  }
});

test('BTF of the running kernel: kfree takes one parameter', { skip: !existsSync('/sys/kernel/btf/vmlinux') && 'no kernel BTF' }, () => {
  const params = functionParams(readFileSync('/sys/kernel/btf/vmlinux'), new Set(['kfree', 'kmem_cache_free']));
  assert.equal(params.get('kfree')?.length, 1);
  assert.equal(params.get('kmem_cache_free')?.[0], 's');
});

