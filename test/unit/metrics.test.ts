// The Prometheus families: their names, types and labels, the bound on the
// stack series, and the figures, from a hand-built LiveSource (no BPF).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { StackTotal } from '../../src/aggregate/ledger.js';
import type { LiveSource } from '../../src/metrics/live-source.js';
import { MetricsRegistry } from '../../src/metrics/registry.js';
import { OTHER_STACKS_LABEL, TOP_STACKS } from '../../src/metrics/snapshot.js';
import { NO_STACK_LABEL, stackLabel } from '../../src/metrics/stack-label.js';
import type { Frame } from '../../src/report/types.js';

/** Stack i holds (n - i) * 1000 bytes in n - i blocks: largest first, as byStack gives them. */
function stacks(n: number): StackTotal[] {
  return Array.from({ length: n }, (_, i) => ({ stackId: i + 1, bytes: (n - i) * 1000, allocations: n - i, truncated: false, cut: false, pids: [7], firstPid: 7, allocatedBytes: (n - i) * 1000, allocatedCount: n - i }));
}

function source(totals: StackTotal[], overrides: Partial<LiveSource> = {}): LiveSource & { labelled: number[] } {
  const labelled: number[] = [];
  return {
    labelled,
    byStack: () => totals,
    events: () => ({ allocations: 500, frees: 120 }),
    losses: () => ({ lostEvents: 3, failedStacks: 2 }),
    resources: () => ({ openFds: 9, mappedBytes: 8192 }),
    scale: 1,
    labels: (shown) => {
      labelled.push(...shown.map((stack) => stack.stackId));
      return shown.map((stack) => `site_${stack.stackId} 0000000${stack.stackId % 10}`);
    },
    ...overrides,
  };
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The text exposition's samples and `# TYPE` lines. */
function parse(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1], type[2]);
    const sample = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) continue;
    const labels = Object.fromEntries([...(sample[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    samples.push({ name: sample[1], labels, value: Number(sample[3]) });
  }
  return { types, samples };
}

const value = (samples: Sample[], name: string) => samples.filter((s) => s.name === name).map((s) => s.value);

test('every family, with its type, and one value each for the whole target', async () => {
  const { types, samples } = parse(await new MetricsRegistry(source(stacks(3))).render());
  assert.deepEqual(Object.fromEntries(types), {
    leakhound_outstanding_bytes: 'gauge',
    leakhound_outstanding_allocations: 'gauge',
    leakhound_allocations_total: 'counter',
    leakhound_frees_total: 'counter',
    leakhound_lost_events_total: 'counter',
    leakhound_failed_stacks_total: 'counter',
    leakhound_open_fds: 'gauge',
    leakhound_mapped_bytes: 'gauge',
    leakhound_stack_outstanding_bytes: 'gauge',
    leakhound_stack_outstanding_allocations: 'gauge',
  });
  assert.deepEqual(value(samples, 'leakhound_outstanding_bytes'), [6000]);
  assert.deepEqual(value(samples, 'leakhound_outstanding_allocations'), [6]);
  assert.deepEqual(value(samples, 'leakhound_allocations_total'), [500]);
  assert.deepEqual(value(samples, 'leakhound_frees_total'), [120]);
  assert.deepEqual(value(samples, 'leakhound_lost_events_total'), [3]);
  assert.deepEqual(value(samples, 'leakhound_failed_stacks_total'), [2]);
  assert.deepEqual(value(samples, 'leakhound_open_fds'), [9]);
  assert.deepEqual(value(samples, 'leakhound_mapped_bytes'), [8192]);
  const perStack = samples.filter((s) => s.name === 'leakhound_stack_outstanding_bytes');
  assert.deepEqual(perStack.map((s) => [s.labels, s.value]), [
    [{ stack: 'site_1 00000001' }, 3000],
    [{ stack: 'site_2 00000002' }, 2000],
    [{ stack: 'site_3 00000003' }, 1000],
  ]);
});

test(`at most ${TOP_STACKS} stacks get a series; the rest are summed into one, and only the shown are labelled`, async () => {
  const many = stacks(500);
  const src = source(many);
  const { samples } = parse(await new MetricsRegistry(src).render());
  for (const name of ['leakhound_stack_outstanding_bytes', 'leakhound_stack_outstanding_allocations']) {
    const series = samples.filter((s) => s.name === name);
    assert.equal(series.length, TOP_STACKS + 1, name);
    assert.equal(new Set(series.map((s) => s.labels.stack)).size, TOP_STACKS + 1);
    assert.equal(series.at(-1)!.labels.stack, OTHER_STACKS_LABEL);
  }
  const bytes = samples.filter((s) => s.name === 'leakhound_stack_outstanding_bytes');
  assert.equal(bytes[0].value, 500_000);
  // 480 stacks outside the top: 1..480 kB each.
  assert.equal(bytes.at(-1)!.value, (480 * 481 * 1000) / 2);
  assert.equal(bytes.reduce((sum, s) => sum + s.value, 0), value(samples, 'leakhound_outstanding_bytes')[0]);
  assert.deepEqual(src.labelled, many.slice(0, TOP_STACKS).map((s) => s.stackId));
});

test('the bound holds when the top changes between scrapes: each scrape its own top', async () => {
  let totals = stacks(30);
  const registry = new MetricsRegistry(source([], { byStack: () => totals }), 5);
  const first = parse(await registry.render()).samples.filter((s) => s.name === 'leakhound_stack_outstanding_bytes');
  // Now the smallest stacks have grown past the others.
  totals = stacks(30).map((s) => ({ ...s, bytes: s.stackId * 1e6 })).sort((a, b) => b.bytes - a.bytes);
  const second = parse(await registry.render()).samples.filter((s) => s.name === 'leakhound_stack_outstanding_bytes');
  assert.equal(first.length, 6);
  assert.equal(second.length, 6);
  assert.deepEqual(first.slice(0, 5).map((s) => s.labels.stack), ['site_1 00000001', 'site_2 00000002', 'site_3 00000003', 'site_4 00000004', 'site_5 00000005']);
  assert.deepEqual(second.slice(0, 5).map((s) => s.labels.stack), ['site_30 00000000', 'site_29 00000009', 'site_28 00000008', 'site_27 00000007', 'site_26 00000006']);
});

test('stacks whose labels coincide make one series with their sum', async () => {
  const { samples } = parse(await new MetricsRegistry(source(stacks(4), { labels: (shown) => shown.map(() => 'same 12345678') })).render());
  assert.deepEqual(samples.filter((s) => s.name === 'leakhound_stack_outstanding_bytes').map((s) => [s.labels.stack, s.value]), [['same 12345678', 10_000]]);
});

test('figures are scaled by --sample-every; losses are counted as they are', async () => {
  const { samples } = parse(await new MetricsRegistry(source(stacks(2), { scale: 10 })).render());
  assert.deepEqual(value(samples, 'leakhound_outstanding_bytes'), [30_000]);
  assert.deepEqual(value(samples, 'leakhound_allocations_total'), [5000]);
  assert.deepEqual(value(samples, 'leakhound_stack_outstanding_allocations'), [20, 10]);
  assert.deepEqual(value(samples, 'leakhound_lost_events_total'), [3]);
});

test('descriptors and mappings only when traced (a 0 would say none are open)', async () => {
  const { types } = parse(await new MetricsRegistry(source(stacks(1), { resources: () => ({ openFds: null, mappedBytes: 4096 }) })).render());
  assert.equal(types.has('leakhound_open_fds'), false);
  assert.equal(types.get('leakhound_mapped_bytes'), 'gauge');
});

function frame(symbol: string | null, module: string | null = '/usr/bin/app', offset = 0x10): Frame {
  return { address: '0x55d0c0de1234', symbol, module, file: null, line: null, offset };
}

test('a stack label is its leaf function and a hash of every frame, stable across address space layouts', () => {
  const stack = [frame('leak_request_context'), frame('main'), frame('__libc_start_call_main', '/usr/lib/x86_64-linux-gnu/libc.so.6')];
  const label = stackLabel(stack);
  assert.match(label, /^leak_request_context [0-9a-f]{8}$/);
  // Other addresses (ASLR), the same functions: the same label.
  assert.equal(stackLabel(stack.map((f) => ({ ...f, address: '0x7f0000001000' }))), label);
  // The same leaf, called from elsewhere: another stack.
  const other = stackLabel([frame('leak_request_context'), frame('handle_upload'), stack[2]]);
  assert.match(other, /^leak_request_context [0-9a-f]{8}$/);
  assert.notEqual(other, label);
  // No symbol: the module's file name and offset.
  assert.match(stackLabel([frame(null, '/usr/lib/libfoo.so.1', 0x2a0)]), /^libfoo\.so\.1\+0x2a0 [0-9a-f]{8}$/);
  assert.equal(stackLabel([]), NO_STACK_LABEL);
});

test('a kernel stack is labelled by the first frame past the allocator', () => {
  const stack = ['__alloc_frozen_pages_noprof', 'alloc_pages_mpol', 'vma_alloc_folio_noprof', 'do_anonymous_page', '__handle_mm_fault'].map((name) => frame(name, '[kernel]'));
  assert.match(stackLabel(stack, 'kernel'), /^do_anonymous_page [0-9a-f]{8}$/);
  assert.equal(stackLabel(stack, 'kernel').split(' ')[1], stackLabel(stack).split(' ')[1]);
  // Nothing but allocator frames: the innermost.
  assert.match(stackLabel(stack.slice(0, 3), 'kernel'), /^__alloc_frozen_pages_noprof /);
});

test('a long C++ leaf is cut, so a label stays readable on a legend', () => {
  const leaf = `std::vector<std::pair<std::string, ${'std::map<int, std::string>, '.repeat(4)}int>>::_M_realloc_insert`;
  const label = stackLabel([frame(leaf)]);
  const [cut, hash] = [label.slice(0, label.lastIndexOf(' ')), label.slice(label.lastIndexOf(' ') + 1)];
  assert.equal(cut.length, 60);
  assert.ok(cut.endsWith('…') && leaf.startsWith(cut.slice(0, -1)));
  assert.match(hash, /^[0-9a-f]{8}$/);
});
