// --reachability and --pause: what they apply to, refused with one line
// (code USAGE and a hint) before anything is loaded.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { readReachabilityOptions } from '../../src/cli/reachability-options.js';
import { LeakhoundError } from '../../src/errors.js';

const attached = { launched: false, cgroup: false, sampleEvery: 1 };

function refusal(argv: Record<string, unknown>, target = attached): string {
  try {
    readReachabilityOptions(argv, target);
  } catch (error) {
    assert.ok(error instanceof LeakhoundError && error.code === 'USAGE' && error.hint, String(error));
    return error.message;
  }
  assert.fail('not refused');
}

test('reachability options: taken where they apply', () => {
  assert.deepEqual(readReachabilityOptions({ reachability: true, pause: true }, attached), { reachability: true, pause: true });
  assert.deepEqual(readReachabilityOptions({ reachability: true }, { ...attached, launched: true }), { reachability: true, pause: false });
  assert.deepEqual(readReachabilityOptions({}, { launched: false, cgroup: true, sampleEvery: 8 }), { reachability: false, pause: false });
});

test('reachability options: refused with a reason', () => {
  assert.match(refusal({ pause: true }), /--pause holds the process still for the --reachability scan/);
  assert.match(refusal({ reachability: true }, { ...attached, cgroup: true }), /scans one process, not a cgroup/);
  assert.match(refusal({ reachability: true, pause: true }, { ...attached, launched: true }), /--pause is for an attached process/);
  assert.match(refusal({ reachability: true }, { ...attached, sampleEvery: 2 }), /needs every block seen/);
});
