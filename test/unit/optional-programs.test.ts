// Optional programs: left out up front where the kernel lacks their hook,
// or after the kernel refused one; anything else still fails the load.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { LeakhoundError } from '../../src/errors.js';
import type { NativeTracer } from '../../src/native/binding.js';
import { loadWithOptional, type OptionalGroup } from '../../src/trace/optional-programs.js';

const GROUPS: OptionalGroup[] = [
  { programs: ['page_alloc', 'page_free'], lacking: 'pages are not traced' },
  { programs: ['percpu_alloc'], lacking: 'per-CPU blocks are not traced' },
];

function refused(program: string, verdict: string): LeakhoundError {
  const error = new LeakhoundError('LOAD_FAILED', 'cannot load the BPF programs');
  error.log = [
    `libbpf: prog '${program}': BPF program load failed: Permission denied`,
    `libbpf: prog '${program}': -- BEGIN PROG LOAD LOG --`,
    '0: R1=ctx() R10=fp0',
    verdict,
    'processed 12 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 1',
    '-- END PROG LOAD LOG --',
    "libbpf: failed to load object 'kernel_alloc'",
  ].join('\n');
  return error;
}

/** A loader that refuses the programs in `refuse` until they are skipped. */
function loader(refuse: Record<string, string>) {
  const calls: string[][] = [];
  const load = (skip: string[]) => {
    calls.push([...skip]);
    const bad = Object.keys(refuse).find((program) => !skip.includes(program));
    if (bad) throw refused(bad, refuse[bad]);
    return {} as NativeTracer;
  };
  return { load, calls };
}

test('a group whose hook the kernel lacks is left out before loading, with the reason', () => {
  const { load, calls } = loader({});
  const result = loadWithOptional(load, GROUPS, (program) => (program === 'page_free' ? 'the kernel has no tracepoint kmem:page_free' : null));
  assert.deepEqual(calls, [['page_alloc', 'page_free']]);
  assert.deepEqual(result.missing, ['pages are not traced: the kernel has no tracepoint kmem:page_free']);
});

test('a refused optional program takes its group out, named with the verifier\'s verdict, and the rest loads', () => {
  const { load, calls } = loader({ percpu_alloc: 'R2 pointer ^= pointer prohibited' });
  const result = loadWithOptional(load, GROUPS, () => null);
  assert.deepEqual(calls, [[], ['percpu_alloc']]);
  assert.deepEqual(result.skipped, ['percpu_alloc']);
  assert.deepEqual(result.missing, ["per-CPU blocks are not traced: the kernel refused program 'percpu_alloc' (R2 pointer ^= pointer prohibited)"]);
});

test('a refused program outside every group fails the load as it came', () => {
  const { load } = loader({ kmalloc: 'invalid bpf_context access off=8 size=8' });
  assert.throws(() => loadWithOptional(load, GROUPS, () => null), (error: LeakhoundError) => error.log?.includes("prog 'kmalloc'") === true);
});
