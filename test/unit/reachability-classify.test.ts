// Leak classes from reference graphs built by hand, one per rule valgrind's
// memcheck follows (mc_leakcheck.c), and the summing per stack.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { classify, LeakClass, ReferenceGraph } from '../../src/reachability/classify.js';
import { ROOT } from '../../src/reachability/scan.js';

const { DefinitelyLost, IndirectlyLost, PossiblyLost, StillReachable } = LeakClass;

function graph(count: number, references: [from: number, to: number, interior?: boolean][]): ReferenceGraph {
  const built = new ReferenceGraph(count);
  for (const [from, to, interior] of references) built.reference(from, to, interior ?? false);
  return built;
}

test('classify: the fixture\'s five kinds', () => {
  // 0 referenced by a global, 1 unreferenced, 2 -> 3 both unreferenced
  // otherwise, 4 only by an interior pointer, 5 from a thread's stack (a root too).
  const classes = classify(graph(6, [[ROOT, 0], [2, 3], [ROOT, 4, true], [ROOT, 5]]));
  assert.deepEqual([...classes], [StillReachable, DefinitelyLost, DefinitelyLost, IndirectlyLost, PossiblyLost, StillReachable]);
});

test('classify: reachability goes on through reachable blocks, by start pointers only', () => {
  const classes = classify(graph(4, [[ROOT, 0], [0, 1], [1, 2, true], [2, 3]]));
  // What a possibly lost block points to is possibly lost too, even by its start.
  assert.deepEqual([...classes], [StillReachable, StillReachable, PossiblyLost, PossiblyLost]);
});

test('classify: a block first reached possibly, then by a start pointer, is reachable, and so is what it holds', () => {
  // Roots are marked in order: block 1 is reached through 0's interior first.
  const classes = classify(graph(3, [[ROOT, 0, true], [0, 1], [ROOT, 1], [1, 2]]));
  assert.deepEqual([...classes], [PossiblyLost, StillReachable, StillReachable]);
});

test('classify: among lost blocks, the one nothing lost points to leads; a cycle keeps its lowest', () => {
  // 0 is pointed to by 1 (a later block): 1 leads, 0 is indirect.
  assert.deepEqual([...classify(graph(2, [[1, 0]]))], [IndirectlyLost, DefinitelyLost]);
  // 0 <-> 1 with nothing else: one of the cycle must be definitely lost.
  assert.deepEqual([...classify(graph(2, [[0, 1], [1, 0]]))], [DefinitelyLost, IndirectlyLost]);
  // An interior pointer from a lost block makes indirect too; a self-reference changes nothing.
  assert.deepEqual([...classify(graph(3, [[0, 1, true], [2, 2]]))], [DefinitelyLost, IndirectlyLost, DefinitelyLost]);
});

test('classify: nothing at all', () => {
  assert.deepEqual([...classify(graph(0, []))], []);
});
