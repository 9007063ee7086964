// The live view's lines from hand-built figures: totals, rates since the
// last update, the top stacks by site, width and colour.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { type LiveViewFrame, type LiveViewStack, renderLiveView } from '../../src/render/live-view.js';
import type { Frame } from '../../src/report/types.js';

function site(symbol: string | null, module: string | null = '/opt/app/bin/server'): Frame {
  return { address: '0x401136', symbol, module, file: null, line: null, offset: 0x16 };
}

function stack(stackId: number, bytes: number, allocations: number, name: string | null = `site_${stackId}`): LiveViewStack {
  return { stackId, bytes, allocations, site: site(name) };
}

function frame(elapsedMs: number, stacks: LiveViewStack[], more: Partial<LiveViewFrame> = {}): LiveViewFrame {
  const outstandingBytes = stacks.reduce((sum, s) => sum + s.bytes, 0);
  const outstandingAllocations = stacks.reduce((sum, s) => sum + s.allocations, 0);
  return { elapsedMs, outstandingBytes, outstandingAllocations, allocations: 100, frees: 50, lostEvents: 0, stackCount: stacks.length, stacks, ...more };
}

const PLAIN = { width: 200, color: false };

test('live view: the first drawing has figures and sites, no rates yet', () => {
  const lines = renderLiveView(frame(500, [stack(7, 4000, 2, 'leak_request_context'), stack(9, 100, 1)]), null, PLAIN);
  assert.deepEqual(lines, [
    'leakhound  500 ms  4.0 KiB outstanding (-) in 3 allocations',
    '100 allocations (-), 50 frees (-), 0 events lost',
    '       BYTES     ALLOCS        GROWTH  FUNCTION (MODULE)',
    '     3.9 KiB          2                leak_request_context (server)',
    '       100 B          1                site_9 (server)',
  ]);
});

test('live view: rates since the last update, per stack and in total; a stack new to the top says so', () => {
  const before = frame(1000, [stack(7, 1000, 1), stack(9, 600, 3)], { allocations: 10, frees: 4 });
  const now = frame(3000, [stack(7, 3000, 3), stack(5, 2048, 1), stack(9, 400, 2)], { allocations: 30, frees: 9, lostEvents: 2, stackCount: 5 });
  assert.deepEqual(renderLiveView(now, before, PLAIN), [
    'leakhound  3.0 s  5.3 KiB outstanding (+1.9 KiB/s) in 6 allocations',
    '30 allocations (10/s), 9 frees (3/s), 2 events lost',
    '       BYTES     ALLOCS        GROWTH  FUNCTION (MODULE)',
    '     2.9 KiB          3     +1000 B/s  site_7 (server)',
    '     2.0 KiB          1           new  site_5 (server)',
    '       400 B          2      -100 B/s  site_9 (server)',
    'and 2 more stacks',
  ]);
});

test('live view: every line fits the width, so that no line wraps and the redraw keeps its count', () => {
  const long = stack(1, 10, 1, `std::vector<std::pair<std::string, ${'x'.repeat(200)}>>::push_back`);
  for (const width of [20, 40, 80]) {
    const lines = renderLiveView(frame(100, [long]), null, { width, color: true });
    for (const line of lines) assert.ok(line.replace(/\x1b\[\d+m/g, '').length <= width - 1, `${width}: ${JSON.stringify(line)}`);
  }
});

test('live view: colour only when asked; growth red, shrinking green, lost events yellow', () => {
  const before = frame(0, [stack(1, 100, 1), stack(2, 900, 9)]);
  const now = frame(1000, [stack(1, 300, 3), stack(2, 100, 1)], { lostEvents: 3 });
  const colored = renderLiveView(now, before, { width: 120, color: true }).join('\n');
  assert.match(colored, /\x1b\[31m\s*\+200 B\/s\x1b\[0m/);
  assert.match(colored, /\x1b\[32m\s*-800 B\/s\x1b\[0m/);
  assert.match(colored, /\x1b\[33m3 events lost\x1b\[0m/);
  assert.doesNotMatch(renderLiveView(now, before, { width: 120, color: false }).join('\n'), /\x1b/);
});

test('live view: names from the target are shown escaped; a stack without frames or symbol is still named', () => {
  const hostile: LiveViewStack = { stackId: 1, bytes: 1, allocations: 1, site: site('evil\x1b[2Jname\u202e') };
  const bare: LiveViewStack = { stackId: 2, bytes: 1, allocations: 1, site: site(null, null) };
  const none: LiveViewStack = { stackId: 3, bytes: 1, allocations: 1, site: undefined };
  const lines = renderLiveView(frame(0, [hostile, bare, none]), null, PLAIN);
  assert.ok(lines[3].endsWith('evil\\x1b[2Jname\\u202e (server)'), lines[3]);
  assert.ok(lines[4].endsWith('  0x401136'), lines[4]);
  assert.ok(lines[5].endsWith('  [no stack]'), lines[5]);
});
