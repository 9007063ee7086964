// Mappings held at exit, by the stack that made them (issue 20), on the
// mappings fixture: anonymous mappings of known sizes at their sites (one
// grown by mremap, one partly unmapped) and a file's, exact in bytes and
// count; what glibc maps for the program (the heap, thread arenas and a large
// block inside malloc, thread stacks in pthread_create) there only as
// "allocator" and "thread-stack"; mappings made and unmapped absent; and two
// threads mapping and unmapping at once. Figures: test/fixtures/README.md,
// from strace.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { fixtureBinaries } from '../helpers/paths.js';
import { siteFigures } from '../helpers/report.js';
import { describeFrames, mappingSites, mentioning, siteIn, withMappings } from '../helpers/resources.js';
import { traceCommand } from '../helpers/trace.js';

const MAPPINGS = path.join(fixtureBinaries, 'mappings');
const KiB = 1024;
const MiB = 1024 * KiB;
/** A 256 KiB stack and its guard page; malloc(256 KiB) and its 16-byte header, in whole pages. */
const STACK_OR_BLOCK = 256 * KiB + 4 * KiB;

const SITES = {
  site_mmap_small: { bytes: 3 * 64 * KiB, count: 3, kinds: ['anonymous'] },
  site_mmap_large: { bytes: MiB, count: 1, kinds: ['anonymous'] },
  site_mmap_file: { bytes: 8 * KiB, count: 1, kinds: ['file'] },
  site_mremap_grow: { bytes: 256 * KiB, count: 1, kinds: ['anonymous'] },
  site_partial_unmap: { bytes: 320 * KiB, count: 1, kinds: ['anonymous'] },
  // The main arena's heap, grown by brk at the first malloc: 128 KiB of padding, the tcache and the block, in pages.
  site_heap_start: { bytes: 132 * KiB, count: 1, kinds: ['allocator'] },
  site_large_malloc: { bytes: STACK_OR_BLOCK, count: 1, kinds: ['allocator'] },
  // Each worker's arena: glibc's 64 MiB heap, trimmed out of a 128 MiB reservation.
  site_thread_malloc: { bytes: 2 * 64 * MiB, count: 2, kinds: ['allocator'] },
  start_workers: { bytes: 2 * STACK_OR_BLOCK, count: 2, kinds: ['thread-stack'] },
};
const ABSENT = ['churn_mappings', 'site_churn_mremap', 'trim_tail'];

// One trace; each group of checks a subtest, so that one tells nothing of the others.
test('mappings: anonymous mappings exact per site, glibc\'s own only as allocator and thread-stack, unmapped ones absent', { timeout: 60_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const { run, report } = await traceCommand(t, [MAPPINGS]);
  assert.equal(run.code, 0, run.stderr);
  const mappings = withMappings(report);

  for (const [site, expected] of Object.entries(SITES)) {
    await t.test(`${site}: ${expected.count} ${expected.kinds.join(', ')}, ${expected.bytes} bytes`, () => {
      assert.deepEqual(mappingSites(mappings.stacks, MAPPINGS).get(site), expected);
    });
  }

  await t.test('no other site in the fixture; what was unmapped is in no stack', () => {
    assert.deepEqual([...mappingSites(mappings.stacks, MAPPINGS).keys()].sort(), Object.keys(SITES).sort());
    for (const symbol of ABSENT) assert.deepEqual(mentioning(mappings.stacks, symbol).map((s) => describeFrames(s.frames)), [], `no stack through ${symbol}`);
  });

  await t.test('made inside malloc or pthread_create: never plain anonymous; the fixture\'s stacks whole', () => {
    for (const stack of mappings.stacks) {
      const inside = stack.frames.some((f) => f.symbol !== null && /^(malloc|pthread_create)(@|$)/.test(f.symbol));
      if (inside) assert.ok(stack.kind === 'allocator' || stack.kind === 'thread-stack', `${stack.kind}: ${describeFrames(stack.frames)}`);
      if (siteIn(stack.frames, MAPPINGS) !== null) assert.equal(stack.partial, false, `not partial: ${describeFrames(stack.frames)}`);
    }
  });

  await t.test('the stacks add up to the totals; the large block is a heap block too', () => {
    for (const stack of mappings.stacks) assert.ok(stack.bytes > 0 && stack.count >= 1, `${stack.bytes} bytes in ${stack.count}: ${describeFrames(stack.frames)}`);
    const bytes = mappings.stacks.reduce((n, s) => n + s.bytes, 0);
    const count = mappings.stacks.reduce((n, s) => n + s.count, 0);
    assert.deepEqual({ bytes: mappings.outstandingBytes, count: mappings.outstanding }, { bytes, count });
    assert.deepEqual(siteFigures(report, 'site_large_malloc'), { bytes: 256 * KiB, allocations: 1 });
  });
});

// mappings --race: two threads map and unmap at once, each one's kept
// mapping often landing where the other has just unmapped its scratch one.
test('mappings: two threads mapping and unmapping at once: every kept mapping counted once, at its site', { timeout: 60_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const { run, report } = await traceCommand(t, [MAPPINGS, '--race']);
  assert.equal(run.code, 0, run.stderr);
  const mappings = withMappings(report);
  const kept = { bytes: 2 * 2000 * 64 * KiB, count: 2 * 2000 };

  await t.test('none lost and none left over: the anonymous ones are the kept ones', () => {
    const anonymous = mappings.stacks.filter((s) => s.kind === 'anonymous');
    const figures = { bytes: anonymous.reduce((n, s) => n + s.bytes, 0), count: anonymous.reduce((n, s) => n + s.count, 0) };
    assert.deepEqual(figures, kept);
    assert.equal(report.totals.lostEvents, 0);
  });

  await t.test('each at site_race_keep, its stack whole; site_race_scratch in none', () => {
    const atSite = mappingSites(mappings.stacks, MAPPINGS).get('site_race_keep');
    const elsewhere = mappings.stacks.filter((s) => s.kind === 'anonymous' && siteIn(s.frames, MAPPINGS) !== 'site_race_keep');
    assert.deepEqual(elsewhere.map((s) => `${s.count} ${s.partial ? 'partial ' : ''}at ${describeFrames(s.frames)}`), []);
    assert.deepEqual(atSite, { ...kept, kinds: ['anonymous'] });
    assert.deepEqual(mentioning(mappings.stacks, 'site_race_scratch').map((s) => describeFrames(s.frames)), []);
  });
});
