// The descriptors, mappings and invalid frees sections in every output: the
// text report, the JSON document, and the folded stacks and flame graphs of
// the --out directory.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { checkOutputs, emitReport } from '../../src/cli/emit.js';
import type { CommonOptions } from '../../src/cli/options.js';
import { renderFlamegraph } from '../../src/render/flamegraph.js';
import { renderFolded } from '../../src/render/folded.js';
import { resourceGraphs } from '../../src/render/graphs.js';
import { renderJson } from '../../src/render/json.js';
import { renderText } from '../../src/render/text.js';
import type { MappingKind, MappingStackReport, Report } from '../../src/report/types.js';
import { userFrame, userReport } from '../fixtures/render-reports.js';
import { allElements, parseXml, textOf } from '../helpers/xml-wellformed.js';

const frames = (...symbols: string[]) => symbols.map((symbol, i) => userFrame(symbol, 'app.c', 10 + i, 4, `0x40${i}000`));

function mapping(kind: MappingKind, bytes: number, count: number, site: string): MappingStackReport {
  return { bytes, count, kind, frames: frames(site, 'main'), truncated: false, partial: false };
}

const report: Report = {
  ...userReport,
  fds: {
    outstanding: 5,
    opened: 9,
    closed: 4,
    stacks: [
      { count: 3, kinds: { socket: 2, file: 1 }, examples: ['AF_INET 10.0.0.1:80', '/etc/hosts'], frames: frames('connect_all', 'main'), truncated: false, partial: false },
      { count: 2, kinds: { pipe: 2 }, examples: ['pipe'], frames: frames('spawn', 'main'), truncated: false, partial: true },
    ],
  },
  mappings: {
    outstandingBytes: 2_220_032,
    outstanding: 6,
    stacks: [
      mapping('allocator', 1_052_672, 2, 'sysmalloc'),
      mapping('anonymous', 1_048_576, 1, 'make_pool'),
      mapping('thread-stack', 8_192, 1, 'allocate_stack'),
      mapping('file', 4_096, 1, 'load_config'),
      mapping('loader', 106_496, 1, '_dl_map_object'),
    ],
  },
  invalidFrees: [
    { kind: 'double-free', address: '0x5581a0', frames: frames('release', 'main'), previousFree: { frames: frames('cleanup', 'main') } },
    { kind: 'unknown-pointer', address: '0x7ffd10', frames: frames('drop_stack_buffer', 'main'), previousFree: null },
  ],
  invalidFreesOmitted: 3,
};

/** The lines of the text report from `heading` to the next blank-line-separated heading. */
function section(text: string, heading: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.startsWith(heading));
  assert.ok(start >= 0, `no ${heading} section`);
  const end = lines.findIndex((line, i) => i > start && /^[a-z ]+: /.test(line));
  return lines.slice(start, end < 0 ? lines.length - 1 : end - 1);
}

test('text: descriptors by stack with their kinds and examples', () => {
  assert.deepEqual(section(renderText(report, { top: 5 }), 'descriptors:'), [
    'descriptors: 5 descriptors made while tracing still open (9 opened, 4 closed)',
    '',
    '#1  3 descriptors: 2 socket, 1 file',
    '    e.g. AF_INET 10.0.0.1:80, /etc/hosts',
    '    connect_all (app.c:10)',
    '    main (app.c:11)',
    '',
    '#2  2 descriptors: 2 pipe',
    '    e.g. pipe',
    '    spawn (app.c:10)',
    '    main (app.c:11)',
    '    [partial: through code without frame pointers, callers may be missing]',
  ]);
});

test('text: mappings that may leak first, the rest apart, each list cut at top', () => {
  const lines = section(renderText(report, { top: 1 }), 'mappings:');
  assert.deepEqual(
    lines.filter((line) => !line.startsWith('    ')),
    [
      'mappings: 2,220,032 bytes (2.1 MiB) made while tracing still mapped, in 6 mappings',
      '',
      '#1  1,048,576 bytes (1.0 MiB) in 1 anonymous mapping',
      '',
      '(1 more stack with 4,096 bytes not shown)',
      '',
      "shown apart, not leaks: the allocator's own (its blocks count as heap above), thread stacks, the loader's",
      '',
      '#1  1,052,672 bytes (1.0 MiB) in 2 allocator mappings',
      '',
      '(2 more stacks with 114,688 bytes not shown)',
    ],
  );
});

test('text: invalid frees with both stacks of a double free, and those not kept', () => {
  assert.deepEqual(section(renderText(report, { top: 5 }), 'invalid frees:'), [
    'invalid frees: 5',
    '',
    '#1  double free of 0x5581a0',
    '    release (app.c:10)',
    '    main (app.c:11)',
    '  freed first at:',
    '    cleanup (app.c:10)',
    '    main (app.c:11)',
    '',
    '#2  free of 0x7ffd10, a pointer the allocator never returned',
    '    drop_stack_buffer (app.c:10)',
    '    main (app.c:11)',
    '',
    '(3 more invalid frees not kept)',
  ]);
  assert.match(renderText(report, { top: 1 }), /\n\(4 more invalid frees not shown\)\n$/);
});

test('text and JSON say nothing of sections not traced', () => {
  const text = renderText(userReport, { top: 5 });
  assert.doesNotMatch(text, /^(descriptors|mappings|invalid frees):/m);
  const json = JSON.parse(renderJson(userReport)) as Record<string, unknown>;
  for (const key of ['fds', 'mappings', 'invalidFrees', 'invalidFreesOmitted']) assert.ok(!(key in json), key);
});

test('JSON: the sections after the stacks, with the contract\'s field names in order', () => {
  const json = JSON.parse(renderJson(report));
  assert.deepEqual(Object.keys(json).slice(-4), ['fds', 'mappings', 'invalidFrees', 'invalidFreesOmitted']);
  assert.deepEqual(Object.keys(json.fds), ['outstanding', 'opened', 'closed', 'stacks']);
  assert.deepEqual(Object.keys(json.fds.stacks[0]), ['count', 'kinds', 'examples', 'frames', 'truncated', 'partial']);
  assert.deepEqual(json.fds.stacks[0].kinds, { socket: 2, file: 1 });
  assert.deepEqual(Object.keys(json.mappings), ['outstandingBytes', 'outstanding', 'stacks']);
  assert.deepEqual(Object.keys(json.mappings.stacks[0]), ['bytes', 'count', 'kind', 'frames', 'truncated', 'partial']);
  assert.deepEqual(Object.keys(json.invalidFrees[0]), ['kind', 'address', 'frames', 'previousFree']);
  assert.deepEqual(json.invalidFrees[0].previousFree.frames.map((f: { symbol: string }) => f.symbol), ['cleanup', 'main']);
  assert.equal(json.invalidFrees[1].previousFree, null);
  assert.deepEqual(JSON.parse(renderJson(json)), json, 'a report read back renders the same');
});

test('folded: descriptors counted one each; only anonymous and file mappings, in bytes', () => {
  const [fds, mappings] = resourceGraphs(report);
  assert.equal(renderFolded(report, fds.graph.stacks), '[partial];main;spawn 2\nmain;connect_all 3\n');
  assert.equal(renderFolded(report, mappings.graph.stacks), 'main;load_config 4096\nmain;make_pool 1048576\n');
});

test('flame graphs: widths and tooltips in the graph\'s own units', () => {
  const [fds, mappings] = resourceGraphs(report);
  const tooltips = (svg: string) =>
    allElements(parseXml(svg))
      .filter((e) => e.name === 'title')
      .map(textOf);
  const fdTips = tooltips(renderFlamegraph(report, { title: fds.title }, fds.graph));
  assert.ok(fdTips.includes('connect_all — 3 descriptors (60.00%)'), fdTips.join('\n'));
  const mapTips = tooltips(renderFlamegraph(report, { title: mappings.title }, mappings.graph));
  assert.ok(mapTips.includes('make_pool — 1,048,576 bytes (99.61%), 1 mapping'), mapTips.join('\n'));
  assert.ok(!mapTips.some((tip) => tip.startsWith('sysmalloc')), 'the allocator\'s mappings are heap, drawn in flamegraph.svg');
  const empty = renderFlamegraph({ ...report, fds: { ...report.fds!, outstanding: 0, stacks: [] } }, { title: 't' }, resourceGraphs({ ...report, fds: { ...report.fds!, outstanding: 0, stacks: [] } })[0].graph);
  assert.match(empty, />no open descriptors to draw</);
});

let scratch: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'leakhound-resource-render-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** --json beside the --out directory: the text report would go to stdout, which the test runner reads. */
function options(out: string): CommonOptions {
  return { durationMs: null, intervalMs: null, top: 10, json: `${out}.json`, out, minSize: 0, maxSize: Number.MAX_SAFE_INTEGER, olderThanMs: 0, churnStacks: 100, maxStacks: 1 << 15, verbose: false };
}

test('--out holds the descriptors\' and mappings\' graphs only when they were traced', async () => {
  for (const [name, traced] of [['with', report], ['without', userReport]] as const) {
    const out = join(scratch, name);
    assert.deepEqual(await emitReport(traced, await checkOutputs(options(out), { launch: false })), { failed: 0 });
    const files = readdirSync(out).sort();
    const expected = ['flamegraph.html', 'flamegraph.svg', 'leaks.folded', 'profile.pb.gz', 'report.json'];
    assert.deepEqual(files, traced === report ? [...expected, 'fds.folded', 'fds.html', 'fds.svg', 'mappings.folded', 'mappings.html', 'mappings.svg'].sort() : expected);
  }
  assert.equal(readFileSync(join(scratch, 'with', 'fds.folded'), 'utf8'), '[partial];main;spawn 2\nmain;connect_all 3\n');
  parseXml(readFileSync(join(scratch, 'with', 'mappings.svg'), 'utf8'));
});
