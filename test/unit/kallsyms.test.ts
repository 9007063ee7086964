// /proc/kallsyms text -> kernel frames, on a recorded text and on this kernel.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Kallsyms, kernelHex, low48 } from '../../src/symbolize/kallsyms.js';

const KALLSYMS = [
  'ffffffff81000000 T srso_alias_untrain_ret',
  'ffffffff81000000 T _stext',
  'ffffffff81001000 t do_one_initcall',
  'ffffffff81002000 T __kmalloc_noprof',
  'ffffffff81003000 W arch_weak_hook',
  'ffffffff82000000 D init_task',
  'ffffffff82100000 b some_bss',
  'ffffffffc0201000 t ftrace_trampoline\t[__builtin__ftrace]',
  'ffffffffc0a00000 t nf_conntrack_alloc\t[nf_conntrack]',
  'ffffffffc0a00400 T nf_ct_get_tuple\t[nf_conntrack]',
  'ffffffff81001800 t out_of_order_local',
  'garbage line',
  '',
].join('\n');

const at = (address: bigint) => Kallsyms.parse(KALLSYMS).lookup(address);

test('keeps text symbols only, with their module or [kernel]', () => {
  const kallsyms = Kallsyms.parse(KALLSYMS);
  assert.equal(kallsyms.size, 8);
  assert.deepEqual(kallsyms.lookup(0xffffffff81002010n), { symbol: '__kmalloc_noprof', offset: 0x10, module: '[kernel]' });
  assert.deepEqual(kallsyms.lookup(0xffffffffc0a00404n), { symbol: 'nf_ct_get_tuple', offset: 4, module: '[nf_conntrack]' });
  assert.equal(at(0xffffffff81003004n)?.symbol, 'arch_weak_hook', 'weak symbols are text too');
  assert.equal(at(0xffffffff82000010n)?.symbol, 'arch_weak_hook', 'data symbols do not end a function');
});

test('sorts what kallsyms lists out of order', () => {
  assert.deepEqual(at(0xffffffff81001804n), { symbol: 'out_of_order_local', offset: 4, module: '[kernel]' });
  assert.equal(at(0xffffffff810017ffn)?.symbol, 'do_one_initcall');
});

test('of names sharing an address, the first listed wins', () => {
  assert.equal(at(0xffffffff81000000n)?.symbol, 'srso_alias_untrain_ret');
});

test('an address below every symbol has none', () => {
  assert.equal(at(0xffffffff80000000n), null);
  assert.equal(Kallsyms.parse('').lookup(0xffffffff81000000n), null);
});

test('zero addresses, what a reader without privileges sees, are skipped', () => {
  const hidden = Kallsyms.parse('0000000000000000 T _stext\n0000000000000000 t do_one_initcall\n');
  assert.equal(hidden.size, 0);
});

test('full 64-bit addresses and their low 48 bits look up the same', () => {
  const kallsyms = Kallsyms.parse(KALLSYMS);
  const full = 0xffffffffc0a00010n;
  assert.equal(low48(full), 0xffffc0a00010);
  assert.deepEqual(kallsyms.lookup(low48(full)), kallsyms.lookup(full));
  assert.equal(kernelHex(low48(full)), '0xffffffffc0a00010');
  assert.equal(kernelHex(0x7fff12345678), '0x7fff12345678', 'only canonical kernel addresses get the top bits back');
});

test('frames look return addresses up one byte back, offsets count to the address', () => {
  const kallsyms = Kallsyms.parse(KALLSYMS);
  // A call that ends do_one_initcall returns to the first byte of the next symbol.
  const [[first, second, unknown]] = kallsyms.resolveStacks([[low48(0xffffffff81001800n), low48(0xffffffffc0a00004n), low48(0xffffffff80000000n)]]);
  assert.deepEqual(first, { address: '0xffffffff81001800', symbol: 'do_one_initcall', module: '[kernel]', file: null, line: null, offset: 0x800 });
  assert.deepEqual(second, { address: '0xffffffffc0a00004', symbol: 'nf_conntrack_alloc', module: '[nf_conntrack]', file: null, line: null, offset: 4 });
  assert.deepEqual(unknown, { address: '0xffffffff80000000', symbol: null, module: null, file: null, line: null, offset: 0 });
});

test('this kernel: loads, and places its own syscall entry', { skip: process.geteuid?.() !== 0 && 'kallsyms addresses need root' }, () => {
  const started = performance.now();
  const kallsyms = Kallsyms.load();
  assert.ok(performance.now() - started < 2_000, 'loads in well under two seconds');
  assert.ok(kallsyms.size > 10_000, `${kallsyms.size} text symbols`);
  const entry = /^([0-9a-f]+) T do_syscall_64$/m.exec(readFileSync('/proc/kallsyms', 'latin1'));
  assert.ok(entry, 'do_syscall_64 is listed');
  assert.deepEqual(kallsyms.lookup(BigInt(`0x${entry[1]}`) + 1n), { symbol: 'do_syscall_64', offset: 1, module: '[kernel]' });
});
