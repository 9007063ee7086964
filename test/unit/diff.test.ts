// leakhound diff's matching and renderers, on hand-built reports: stacks
// match by what their frames name, whatever their addresses.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { renderDiffFlamegraph } from '../../src/render/diff-flamegraph.js';
import { renderDiffFolded } from '../../src/render/diff-folded.js';
import { renderDiffText } from '../../src/render/diff-text.js';
import { diffReports, frameIdentity } from '../../src/report/diff.js';
import { LeakhoundError } from '../../src/errors.js';
import type { Frame, Report, StackReport } from '../../src/report/types.js';
import { kernelReport, userReport } from '../fixtures/render-reports.js';
import { allElements, parseXml, textOf, type XmlElement } from '../helpers/xml-wellformed.js';

/** The same frames as another run of the program would give them: every address moved by ASLR. */
function relocated(frames: Frame[]): Frame[] {
  return frames.map((frame) => ({ ...frame, address: `0x${(BigInt(frame.address) + 0x1000000n).toString(16)}` }));
}

function withStacks(stacks: StackReport[], durationMs: number): Report {
  const outstandingBytes = stacks.reduce((sum, stack) => sum + stack.bytes, 0);
  const outstandingAllocations = stacks.reduce((sum, stack) => sum + stack.allocations, 0);
  return { ...userReport, durationMs, totals: { ...userReport.totals, outstandingBytes, outstandingAllocations }, stacks };
}

const [leak, cache, partial, truncated, leakOtherLine, frameless] = userReport.stacks as [StackReport, StackReport, StackReport, StackReport, StackReport, StackReport];

/** Before: the leak, the cache, the partial stack, the other call site. After (another run, other addresses):
 * the leak three times over, the cache as it was, the partial stack halved, the other site gone, a new frameless stack. */
const before = withStacks([leak, cache, partial, leakOtherLine], 1000);
const after = withStacks(
  [
    { ...leak, bytes: 72_000, allocations: 3_000, frames: relocated(leak.frames) },
    { ...cache, frames: relocated(cache.frames) },
    { ...partial, bytes: 2_048, allocations: 2, frames: relocated(partial.frames) },
    frameless,
  ],
  3000,
);

test('diff: stacks match by symbol, module and line across runs, and sort by the size of their change', () => {
  const diff = diffReports({ file: 'a.json', report: before }, { file: 'b.json', report: after });
  assert.deepEqual(
    diff.stacks.map((stack) => [stack.status, stack.before.bytes, stack.after.bytes, stack.deltaBytes, stack.deltaAllocations]),
    [
      ['grown', 24_000, 72_000, 48_000, 2_000],
      ['shrunk', 4_096, 2_048, -2_048, -2],
      ['gone', 1_000, 0, -1_000, -10],
      ['new', 0, 100, 100, 1],
      ['unchanged', 65_536, 65_536, 0, 0],
    ],
  );
  assert.equal(diff.deltaBytes, 139_684 - 94_632);
  assert.equal(diff.stacks[0]!.frames[0]!.address, after.stacks[0]!.frames[0]!.address, 'a stack is shown with the later report\'s frames');
});

test('diff: two stacks of one report that name the same frames are summed', () => {
  const twice = withStacks([leak, { ...leak, bytes: 1, allocations: 1, frames: relocated(leak.frames) }], 1000);
  const diff = diffReports({ file: 'a.json', report: twice }, { file: 'b.json', report: withStacks([leak], 1000) });
  assert.deepEqual(diff.stacks.map((stack) => [stack.status, stack.before.bytes, stack.after.bytes]), [['shrunk', 24_001, 24_000]]);
});

test('diff: a frame without a symbol is known by its module and offset, a truncated stack apart from a whole one', () => {
  const frame: Frame = { address: '0x7f0000001a2b', symbol: null, module: '/usr/lib/libfoo.so.1', file: null, line: null, offset: 0x1a2b };
  assert.equal(frameIdentity(frame), 'libfoo.so.1+0x1a2b');
  assert.equal(frameIdentity({ ...frame, module: null }), '0x7f0000001a2b');
  const diff = diffReports({ file: 'a', report: withStacks([truncated], 1) }, { file: 'b', report: withStacks([{ ...truncated, truncated: false }], 1) });
  assert.deepEqual(diff.stacks.map((stack) => stack.status).sort(), ['gone', 'new']);
});

test('diff: a user-mode report and a kernel-mode one are refused as a usage error', () => {
  assert.throws(
    () => diffReports({ file: 'a.json', report: userReport }, { file: 'k.json', report: kernelReport }),
    (error: unknown) => error instanceof LeakhoundError && error.code === 'USAGE' && /a\.json is a user-mode report and k\.json a kernel-mode one/.test(error.message),
  );
});

test('diff text leads with the largest change and shows its frames', () => {
  const text = renderDiffText(diffReports({ file: 'a.json', report: before }, { file: 'b.json', report: after }), { top: 2 });
  const lines = text.split('\n');
  assert.equal(lines[0], 'leakhound diff (user mode): a.json (traced 1.0 s) -> b.json (traced 3.0 s)');
  assert.equal(lines[1], 'outstanding 94,632 -> 139,684 bytes: +45,052 bytes (+44.0 KiB); 1,016 -> 3,005 allocations: +1,989 allocations');
  assert.equal(lines[2], 'stacks: 1 grown, 1 new, 1 shrunk, 1 gone, 1 unchanged');
  assert.equal(lines[4], '#1  grown: +48,000 bytes (+46.9 KiB), +2,000 allocations  (24,000 -> 72,000 bytes, 1,000 -> 3,000 allocations)');
  assert.equal(lines[5], '    leak_small (leaky.c:12)');
  assert.match(text, /\n\.\.\. 2 more changed stacks \(--top N shows more\)\n$/);
});

test('diff folded: bytes before and after on each line, as difffolded.pl writes them', () => {
  const folded = renderDiffFolded(diffReports({ file: 'a', report: before }, { file: 'b', report: after }));
  assert.equal(
    folded,
    [
      '[partial];main;libfoo.so.1+0x1a2b 4096 2048',
      '[unknown] 0 100',
      '__libc_start_call_main;main;do_work;leak_small 25000 72000',
      'main;Cache::grow(unsigned long);std::vector<Widget, std::allocator<Widget> >::push_back(Widget const&) 65536 65536',
      '',
    ].join('\n'),
  );
});

test('diff flame graph: grown frames red, shrunk blue, unchanged grey; the width keeps what is gone', () => {
  const svg = renderDiffFlamegraph(diffReports({ file: 'a', report: before }, { file: 'b', report: after }), after);
  const fills = new Map<string, string>();
  for (const group of allElements(parseXml(svg)).filter((element) => element.attributes.class === 'frame')) {
    const elements = group.children.filter((child): child is XmlElement => typeof child !== 'string');
    const title = elements.find((child) => child.name === 'title');
    const rect = elements.find((child) => child.name === 'rect');
    const name = title && textOf(title).split(' — ')[0];
    if (name && rect) fills.set(name, rect.attributes.fill!);
  }
  assert.equal(fills.get('leak_small'), 'rgb(240,114,114)', 'the leak (with the other call site): 47,000 more of 73,000');
  assert.equal(fills.get('libfoo.so.1+0x1a2b'), 'rgb(140,140,240)', 'halved: 2,048 less of 4,096');
  assert.equal(fills.get('[unknown]'), 'rgb(240,50,50)', 'new: all of it grew');
  assert.equal(fills.get('Cache::grow(unsigned long)'), 'rgb(232,232,228)');
  assert.match(svg, /all — 142,732 bytes \(100\.00%\)/, 'the root is as wide as the larger figure of each stack, summed');
});
