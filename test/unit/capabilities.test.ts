// The choices made from a kernel's features: which stack walk, and whether
// leakhound runs at all. Hand-built feature sets, no kernel needed.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { LeakhoundError } from '../../src/errors.js';
import type { KernelFeatures } from '../../src/native/binding.js';
import { chooseStackWalk, confidentialGuest, requireFeatures, type StackWalkInput } from '../../src/trace/capabilities.js';

const ALL: KernelFeatures = { btf: true, ringBuffer: true, taskStorage: true, bpfLoop: true, attachCookie: true, rdonlyCast: true, uprobeMulti: true };
const CPUINFO = 'processor\t: 0\nflags\t\t: fpu vme de pse la57 avx2\n';

function input(overrides: Partial<StackWalkInput> = {}): StackWalkInput {
  return { features: ALL, cpuinfo: CPUINFO, physEnd: 1 << 30, forced: undefined, exportsPageOffsetBase: () => true, ...overrides };
}

test('the direct-map walk where everything allows it', () => {
  assert.equal(chooseStackWalk(input()).chosen, 'direct-map');
});

test('the copy walk, with the reason, wherever the direct map cannot be used safely', () => {
  const cases: [Partial<StackWalkInput>, RegExp][] = [
    [{ features: { ...ALL, rdonlyCast: false } }, /no bpf_rdonly_cast/],
    [{ physEnd: 0 }, /end of RAM is unknown/],
    [{ exportsPageOffsetBase: () => false }, /does not export page_offset_base/],
    [{ cpuinfo: 'flags\t\t: fpu sev sev_es\n' }, /confidential guest \(CPU flag sev\)/],
    [{ cpuinfo: 'flags\t\t: fpu tdx_guest\n' }, /tdx_guest/],
  ];
  for (const [overrides, reason] of cases) {
    const choice = chooseStackWalk(input(overrides));
    assert.equal(choice.chosen, 'copy');
    assert.match(choice.reason, reason);
  }
});

test('kallsyms is read only when nothing else has ruled the direct map out', () => {
  let asked = 0;
  chooseStackWalk(input({ features: { ...ALL, rdonlyCast: false }, exportsPageOffsetBase: () => ++asked > 0 }));
  assert.equal(asked, 0);
});

test('LEAKHOUND_STACK_WALK forces a walk, and anything else there is a usage error', () => {
  assert.deepEqual(chooseStackWalk(input({ forced: 'copy' })), { chosen: 'copy', reason: 'forced by LEAKHOUND_STACK_WALK' });
  assert.equal(chooseStackWalk(input({ forced: 'direct-map', features: { ...ALL, rdonlyCast: false } })).chosen, 'direct-map');
  assert.throws(() => chooseStackWalk(input({ forced: 'fast' })), (error: LeakhoundError) => error.code === 'USAGE');
});

test('a confidential guest is told by its CPU flags, whole words only', () => {
  assert.equal(confidentialGuest('flags\t\t: fpu sev_snp\n'), 'sev_snp');
  assert.equal(confidentialGuest('flags\t\t: fpu sevx nosev\n'), null);
  assert.equal(confidentialGuest(''), null);
});

test('a kernel without what a mode needs is refused in one line naming the features and the minimum', () => {
  assert.doesNotThrow(() => requireFeatures(ALL, 'user'));
  assert.doesNotThrow(() => requireFeatures({ ...ALL, bpfLoop: false, taskStorage: false }, 'kernel'));
  assert.throws(
    () => requireFeatures({ ...ALL, bpfLoop: false }, 'user', '5.15.0'),
    (error: LeakhoundError) =>
      error.code === 'OLD_KERNEL' && error.message === 'this kernel (5.15.0) lacks BPF features leakhound needs: bpfLoop (Linux 5.17)' && error.hint === 'use Linux 5.17 or later',
  );
});
