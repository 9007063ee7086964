// Reading libbpf's output for the program the kernel refused and why
// (src/native/libbpf-log.ts), from logs as libbpf 1.1 and the verifier write them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { describeNativeFailure, parseLibbpfLog } from '../../src/native/libbpf-log.js';
import { fixtureSources } from '../helpers/paths.js';

const fixture = (name: string) => readFileSync(path.join(fixtureSources, 'libbpf-logs', name), 'utf8');

test('libbpf log: the refused program, libbpf\'s reason and the verifier\'s last lines', () => {
  assert.deepEqual(parseLibbpfLog(fixture('pointer-xor.log')), {
    object: 'kernel_alloc',
    program: 'kmem_cache_alloc',
    reason: 'Permission denied',
    verifier: ['21: (79) r2 = *(u64 *)(r6 +96)        ; R2_w=ptr_or_null_(id=3) R6=ptr_kmem_cache(off=0,imm=0)', '22: (af) r2 ^= r1', 'R2 pointer ^= pointer prohibited'],
    externs: [],
  });
});

test('libbpf log: the verifier\'s statistics and blank lines are not its verdict', () => {
  const failure = parseLibbpfLog(fixture('kmalloc-denied.log'));
  assert.equal(failure.program, 'kmalloc');
  assert.equal(failure.reason, 'Permission denied');
  assert.equal(failure.verifier.at(-1), 'R0 invalid mem access \'ringbuf_mem_or_null\'');
  assert.equal(failure.verifier.length, 3);
});

test('libbpf log: unresolved externs', () => {
  assert.deepEqual(parseLibbpfLog(fixture('extern-not-found.log')), {
    object: 'user_alloc',
    program: null,
    reason: null,
    verifier: [],
    externs: ['extern (func ksym) \'bpf_rdonly_cast\': not found in kernel or module BTFs'],
  });
});

test('libbpf log: a log cut short by the addon, or without a verifier log', () => {
  const cut = fixture('pointer-xor.log').split('-- END PROG LOAD LOG --')[0]!;
  assert.equal(parseLibbpfLog(cut).verifier.at(-1), 'R2 pointer ^= pointer prohibited');
  const bare = 'libbpf: prog \'kfree\': BPF program load failed: Invalid argument\nlibbpf: prog \'kfree\': failed to load: -22\n';
  assert.deepEqual(parseLibbpfLog(bare), { object: null, program: 'kfree', reason: 'Invalid argument', verifier: [], externs: [] });
  // The verdict may share its line with END when the verifier's log ends without a line break.
  const joined = 'libbpf: prog \'p\': BPF program load failed: Permission denied\nlibbpf: prog \'p\': -- BEGIN PROG LOAD LOG --\nR1 !read_ok-- END PROG LOAD LOG --\n';
  assert.deepEqual(parseLibbpfLog(joined).verifier, ['R1 !read_ok']);
  assert.deepEqual(parseLibbpfLog(''), { object: null, program: null, reason: null, verifier: [], externs: [] });
});

test('libbpf log: the CLI\'s one line names the program and the verifier\'s verdict', () => {
  const message = 'cannot load the BPF programs: Permission denied';
  assert.equal(
    describeNativeFailure(message, fixture('pointer-xor.log'), false),
    'cannot load BPF program \'kmem_cache_alloc\': R2 pointer ^= pointer prohibited (run with --verbose for the verifier\'s whole log)',
  );
  assert.equal(describeNativeFailure(message, fixture('pointer-xor.log'), true), 'cannot load BPF program \'kmem_cache_alloc\': R2 pointer ^= pointer prohibited');
  assert.equal(
    describeNativeFailure('cannot load the BPF programs: Invalid argument', fixture('extern-not-found.log'), false),
    'cannot load BPF object \'user_alloc\': extern (func ksym) \'bpf_rdonly_cast\': not found in kernel or module BTFs (run with --verbose for libbpf\'s whole output)',
  );
  assert.equal(
    describeNativeFailure('cannot attach uprobe to /usr/lib/x86_64-linux-gnu/libc.so.6+0x9a0f0: No such file or directory', fixture('attach-failed.log'), true),
    'cannot attach uprobe to /usr/lib/x86_64-linux-gnu/libc.so.6+0x9a0f0: No such file or directory (prog \'alloc_enter\': failed to create uprobe \'/usr/lib/x86_64-linux-gnu/libc.so.6:0x9a0f0\' perf event: No such file or directory)',
  );
  const mapLog = "libbpf: Error in bpf_create_map_xattr(stacks):Invalid argument(-22). Retrying without BTF.\nlibbpf: map 'stacks': failed to create: Invalid argument(-22)\nlibbpf: failed to load object 'user_alloc'\nlibbpf: failed to load BPF skeleton 'user_alloc': -22\n";
  assert.equal(describeNativeFailure('cannot load the BPF programs: Invalid argument', mapLog, true), 'cannot load the BPF programs: Invalid argument (map \'stacks\': failed to create: Invalid argument(-22))');
  assert.equal(describeNativeFailure(message, undefined, false), message);
  for (const name of ['pointer-xor.log', 'kmalloc-denied.log', 'extern-not-found.log', 'attach-failed.log']) {
    assert.doesNotMatch(describeNativeFailure(message, fixture(name), false), /\n/, name);
  }
});
