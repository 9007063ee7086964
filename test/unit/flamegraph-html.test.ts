// The HTML flame graph's renderer: the tree it embeds (weights, counts, each
// frame's file:line and module), what it inlines, and that nothing from the
// report can break out of its <script> elements. The words the page makes of
// them on hover are checked in Chromium (test/e2e/flamegraph-html.test.ts).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PageData, PageNode } from '../../src/render/flamegraph-html-page.js';
import { renderFlamegraphHtml } from '../../src/render/flamegraph-html.js';
import { resourceGraphs } from '../../src/render/graphs.js';
import type { Report } from '../../src/report/types.js';
import { kernelReport, userFrame, userReport } from '../fixtures/render-reports.js';

const OPTIONS = { title: 'Unreleased memory' };

/** The tree the page draws, read back from its data element (which holds no `<`, so the first `</script>` ends it). */
function pageData(html: string): PageData {
  const match = html.match(/<script type="application\/json" id="flame-data">([^<]*)<\/script>/);
  assert.ok(match, 'the data element');
  return JSON.parse(match[1]!) as PageData;
}

/** The node at `names` below the root. */
function nodeAt(root: PageNode, names: string[]): PageNode {
  let node = root;
  for (const name of names) {
    const child = (node.children ?? []).find((candidate) => candidate.name === name);
    assert.ok(child, `${name} under ${node.name}`);
    node = child;
  }
  return node;
}

test('html: the tree weighs bytes, counts allocations and says where each frame is', () => {
  const html = renderFlamegraphHtml(userReport, OPTIONS);
  const { units, root } = pageData(html);
  assert.deepEqual(units, { weight: 'byte', count: 'allocation' });
  assert.equal(root.name, 'all');
  assert.equal(root.value, userReport.totals.outstandingBytes);
  // Each node weighs at least what its children do (d3-flame-graph's default, totals not self values).
  const check = (node: PageNode): void => {
    const children = node.children ?? [];
    assert.ok(children.reduce((sum, child) => sum + child.value, 0) <= node.value, node.name);
    children.forEach(check);
  };
  check(root);
  // Two call sites in leak_small (lines 12 and 14) merge into one frame that names both.
  const leak = nodeAt(root, ['__libc_start_call_main', 'main', 'do_work', 'leak_small']);
  assert.equal(leak.value, 25_000);
  assert.equal(leak.count, 1_010);
  assert.deepEqual(leak.places, ['leaky.c:12 (/opt/leaky/leaky)', 'leaky.c:14 (/opt/leaky/leaky)']);
  assert.equal(leak.children, undefined);
  assert.equal(root.count, userReport.totals.outstandingAllocations);
  assert.equal(leak.libtype, undefined);
});

test('html: kernel frames carry their palette key; a graph of descriptors counts no allocations', () => {
  const kernel = pageData(renderFlamegraphHtml(kernelReport, OPTIONS)).root;
  const syscall = nodeAt(kernel, ['entry_SYSCALL_64_after_hwframe']);
  assert.equal(syscall.libtype, 'kernel');
  assert.deepEqual(syscall.places, ['+0x6e ([kernel])']);

  const report: Report = {
    ...userReport,
    fds: { outstanding: 2, opened: 3, closed: 1, stacks: [{ count: 2, kinds: { file: 2 }, examples: ['/etc/passwd'], frames: [userFrame('open_config', 'conf.c', 7, 0x10, '0x1010')], truncated: false, partial: false }] },
  };
  const fds = resourceGraphs(report).find((graph) => graph.name === 'fds')!;
  const data = pageData(renderFlamegraphHtml(report, { title: fds.title }, fds.graph));
  assert.deepEqual(data.units, { weight: 'descriptor', count: null });
  assert.deepEqual(nodeAt(data.root, ['open_config']), { name: 'open_config', value: 2, count: 2, places: ['conf.c:7 (/opt/leaky/leaky)'] });
});

test('html: a frame names its first five places and counts the rest', () => {
  const stacks = [1, 2, 3, 4, 5, 6, 7].map((line) => ({ bytes: line, allocations: 1, frames: [userFrame('hot', 'hot.c', line, line, `0x${line}`)], truncated: false, partial: false }));
  const hot = pageData(renderFlamegraphHtml({ ...userReport, stacks }, OPTIONS)).root.children![0]!;
  assert.deepEqual(hot.places, [1, 2, 3, 4, 5].map((line) => `hot.c:${line} (/opt/leaky/leaky)`));
  assert.equal(hot.morePlaces, 2);
  assert.equal(hot.value, 28);
});

test('html: nothing from the report breaks out of the page; the library is inlined, nothing fetched', () => {
  const hostile = '</script><script>alert(1)</script><!--';
  const report: Report = {
    ...userReport,
    target: { ...userReport.target, command: ['./x', '<b>&</b>'] },
    stacks: [{ bytes: 64, allocations: 1, frames: [userFrame(hostile, '</script>.c', 1, 0, '0x1', '/tmp/<img src=x>')], truncated: false, partial: false }],
  };
  const html = renderFlamegraphHtml(report, { title: '<title>&' });
  // One data element, d3, d3-flame-graph and the page's script: four elements, four closing tags.
  assert.equal(html.match(/<script[\s>]/g)!.length, 4);
  assert.equal(html.match(/<\/script>/g)!.length, 4);
  assert.ok(!html.includes('<!--'), 'no comment opened');
  assert.ok(!html.includes('<img'), 'no element from a module name');
  assert.match(html, /<title>&lt;title&gt;&amp;<\/title>/);
  assert.match(html, /&lt;b&gt;&amp;&lt;\/b&gt;/);
  const leak = pageData(html).root.children![0]!;
  assert.equal(leak.name, hostile, 'the name arrives whole');
  assert.deepEqual(leak.places, ['</script>.c:1 (/tmp/<img src=x>)']);

  assert.match(html, /^<script>\/\* d3 7\.\d+\.\d+ \(ISC\) \*\/$/m);
  assert.match(html, /^<script>\/\* d3-flame-graph 5\.\d+\.\d+ \(Apache-2\.0\) \*\/$/m);
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
  assert.ok(!/\b(?:src|href)=["']?(?:https?:)?\/\//i.test(html), 'no address to load anything from');
});

test('html: with nothing held the page says so and carries no script', () => {
  const empty: Report = { ...userReport, stacks: [] };
  const html = renderFlamegraphHtml(empty, OPTIONS);
  assert.match(html, /<p class="subtitle">no outstanding memory to draw<\/p>/);
  assert.ok(!html.includes('<script'));
});
