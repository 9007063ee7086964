// Renderers against golden files, plus properties that must hold for any report.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { REPORT_SCHEMA, type Frame, type ProcessReport, type Report, type StackReport } from '../../src/report/types.js';
import { renderFlamegraph } from '../../src/render/flamegraph.js';
import { renderFolded } from '../../src/render/folded.js';
import { renderJson } from '../../src/render/json.js';
import { renderText } from '../../src/render/text.js';
import { kernelReport, userFrame, userReport } from '../fixtures/render-reports.js';
import { allElements, parseXml, textOf, type XmlElement } from '../helpers/xml-wellformed.js';

// Golden files stay in the source tree; this file runs from dist/test/unit/.
const GOLDEN = new URL('../../../test/golden/', import.meta.url);

function golden(name: string): string {
  return readFileSync(new URL(name, GOLDEN), 'utf8');
}

const FLAME_OPTIONS = { title: 'Unreleased memory: leaky & friends <test>' };

for (const [name, report] of [['user', userReport], ['kernel', kernelReport]] as const) {
  test(`${name} report matches the golden text`, () => {
    assert.equal(renderText(report, { top: 5 }), golden(`${name}.txt`));
  });
  test(`${name} report matches the golden JSON`, () => {
    assert.equal(renderJson(report), golden(`${name}.json`));
  });
  test(`${name} report matches the golden folded stacks`, () => {
    assert.equal(renderFolded(report), golden(`${name}.folded`));
  });
  test(`${name} report matches the golden flame graph`, () => {
    const svg = renderFlamegraph(report, FLAME_OPTIONS);
    parseXml(svg);
    assert.equal(svg, golden(`${name}.svg`));
  });
}

test('JSON keeps the schema key order whatever order the report was built in', () => {
  const shuffled = JSON.parse(JSON.stringify(userReport), (_key, value: unknown) =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).reverse())
      : value,
  ) as Report;
  assert.equal(renderJson(shuffled), renderJson(userReport));
});

/** userReport as if its children were followed: two processes, the first stack in both. */
const familyReport: Report = {
  ...userReport,
  processes: [
    { pid: 4242, command: ['./leaky', 'two words'], exitCode: 0, outstandingBytes: 90_000, outstandingAllocations: 9 },
    { pid: 4250, command: null, exitCode: null, outstandingBytes: 5_244, outstandingAllocations: 3 },
  ],
  stacks: userReport.stacks.map((stack, i) => ({ ...stack, pids: i === 0 ? [4242, 4250] : [4242] })),
};

test('JSON lists the processes before the stacks, and each stack its pids last', () => {
  const json = JSON.parse(renderJson(familyReport)) as Record<string, unknown> & { stacks: Record<string, unknown>[] };
  const keys = Object.keys(json);
  assert.equal(keys.indexOf('processes'), keys.indexOf('stacks') - 1);
  assert.deepEqual(json.processes, familyReport.processes);
  assert.deepEqual(Object.keys(json.stacks[0]!).at(-1), 'pids');
  assert.deepEqual(json.stacks.map((stack) => stack.pids), familyReport.stacks.map((stack) => stack.pids));
});

test('text: a processes block after the totals, and the pids on each stack header', () => {
  const lines = renderText(familyReport, { top: 2 }).split('\n');
  const at = lines.indexOf('processes:');
  assert.equal(at, 3);
  assert.deepEqual(lines.slice(at + 1, at + 3), [
    "  pid 4242: 90,000 bytes (87.9 KiB) in 9 allocations, ./leaky 'two words', exit code 0",
    '  pid 4250: 5,244 bytes (5.1 KiB) in 3 allocations',
  ]);
  const pids = renderText(familyReport, { top: 20 })
    .split('\n')
    .filter((line) => line.startsWith('#'))
    .map((line) => / \[(pids? [\d, ]+)\]$/.exec(line)?.[1]);
  assert.deepEqual(pids.sort(), [...Array<string>(userReport.stacks.length - 1).fill('pid 4242'), 'pids 4242, 4250']);
});

/** userReport's first stack with two functions inlined at its allocation site. */
const inlinedReport: Report = {
  ...userReport,
  stacks: userReport.stacks.map((stack, i) =>
    i > 0
      ? stack
      : {
          ...stack,
          frames: [
            { ...userFrame('fill_block', 'block.h', 7, 0x1c, '0x55d4c3a0119c'), inlined: true },
            { ...userFrame('make_block', 'block.h', 19, 0x1c, '0x55d4c3a0119c'), inlined: true },
            ...stack.frames,
          ],
        },
  ),
};

test('inlined frames: marked in JSON only where inlined, and in text, folded and the flame graph', () => {
  const json = JSON.parse(renderJson(inlinedReport)) as { stacks: Array<{ frames: Array<Record<string, unknown>> }> };
  const frames = json.stacks[0]!.frames;
  assert.deepEqual(frames.map((frame) => frame.inlined), [true, true, undefined, undefined, undefined, undefined]);
  assert.deepEqual(Object.keys(frames[0]!), ['address', 'symbol', 'module', 'file', 'line', 'offset', 'inlined']);
  assert.ok(json.stacks.slice(1).every((stack) => stack.frames.every((frame) => !('inlined' in frame))));

  const text = renderText(inlinedReport, { top: 20 }).split('\n');
  const at = text.indexOf('    fill_block (block.h:7) [inlined]');
  assert.ok(at > 0, text.join('\n'));
  assert.deepEqual(text.slice(at + 1, at + 3), ['    make_block (block.h:19) [inlined]', '    leak_small (leaky.c:12)']);
  const unfiled = { ...inlinedReport, stacks: [{ ...inlinedReport.stacks[0]!, frames: [{ ...userFrame('fill_block', null, null, 0x1c, '0x1'), inlined: true as const }] }] };
  assert.ok(renderText(unfiled, { top: 1 }).includes('\n    fill_block (/opt/leaky/leaky) [inlined]\n'), 'no offset into another function');

  const folded = renderFolded(inlinedReport);
  assert.match(folded, /;main;do_work;leak_small;make_block_\[i\];fill_block_\[i\] \d+\n/);

  const svg = renderFlamegraph(inlinedReport, FLAME_OPTIONS);
  parseXml(svg);
  assert.match(svg, /<title>fill_block — [^<]*, inlined<\/title>/);
  assert.match(svg, /<title>leak_small — [^<]*allocations?<\/title>/);
});

test('text lists no stacks with top 0 and rejects a bad top', () => {
  assert.match(renderText(userReport, { top: 0 }), /\(6 more stacks with 95,244 bytes not shown\)\n$/);
  assert.throws(() => renderText(userReport, { top: -1 }), RangeError);
  assert.throws(() => renderText(userReport, { top: 1.5 }), RangeError);
});

/** The `<g class="frame">` whose tooltip names `name`. */
function frameNamed(svg: XmlElement, name: string): { rect: XmlElement; tooltip: string } {
  for (const g of allElements(svg)) {
    if (g.name !== 'g' || g.attributes.class !== 'frame') continue;
    const title = g.children.find((c): c is XmlElement => typeof c !== 'string' && c.name === 'title');
    const tooltip = title ? textOf(title) : '';
    if (tooltip.startsWith(`${name} — `)) {
      const rect = g.children.find((c): c is XmlElement => typeof c !== 'string' && c.name === 'rect');
      assert.ok(rect, `frame ${name} has a rect`);
      return { rect, tooltip };
    }
  }
  return assert.fail(`no frame named ${name}`);
}

function twoStackReport(a: number, b: number): Report {
  const stack = (symbol: string, bytes: number): StackReport => ({
    bytes,
    allocations: 1,
    frames: [userFrame(symbol, null, null, 0, '0x1000')],
    truncated: false,
    partial: false,
  });
  return {
    ...userReport,
    totals: { ...userReport.totals, outstandingBytes: a + b, outstandingAllocations: 2, failedStacks: 0, truncatedStacks: 0, partialStacks: 0 },
    stacks: [stack('alpha', a), stack('beta', b)],
  };
}

test('flame graph widths are proportional to bytes', () => {
  const svg = parseXml(renderFlamegraph(twoStackReport(3_000, 1_000), { title: 't' }));
  const width = (name: string): number => Number(frameNamed(svg, name).rect.attributes.width);
  assert.ok(Math.abs(width('alpha') / width('beta') - 3) < 0.01, `alpha ${width('alpha')} beta ${width('beta')}`);
  assert.ok(Math.abs(width('alpha') + width('beta') - width('all')) < 0.02);
  assert.equal(frameNamed(svg, 'alpha').tooltip, 'alpha — 3,000 bytes (75.00%), 1 allocation');
  // No losses in this report: no warning line.
  assert.ok(!allElements(svg).some((e) => e.attributes.class === 'warning'));
});

test('flame graph of an empty report is still a well-formed picture', () => {
  const empty: Report = { ...userReport, stacks: [], totals: { ...userReport.totals, outstandingBytes: 0 } };
  const svg = parseXml(renderFlamegraph(empty, { title: 'nothing' }));
  assert.ok(allElements(svg).every((e) => e.attributes.class !== 'frame'));
  assert.equal(renderFolded(empty), '');
});

test('the XML checker rejects what is not well-formed', () => {
  for (const bad of ['<a>&</a>', '<a>&amp</a>', '<a>&nbsp;</a>', '<a><b></a></b>', '<a x="<"/>', '<a x="1" x="2"/>', '<a/><b/>', '<a>\u0001</a>', '<a>&#0;</a>', '<a>\ud800</a>', '<a>', 'text']) {
    assert.throws(() => parseXml(bad), /not well-formed/, bad);
  }
  assert.equal(textOf(parseXml('<?xml version="1.0"?><a t=\'&quot;\'>x &lt; &#x1F525;<![CDATA[&]]></a>')), 'x < \u{1F525}&');
});

// Names as hostile as a traced binary can make them.
const hostileChar = fc.oneof(
  fc.constantFrom('<', '>', '&', '"', "'", ';', ' ', '\n', '\r', '\t', '\u0000', '\u001b', '\u007f', '\ud800', '\udfff', '\ufffe', '\u202e', 'ü', '中', '🔥', ']]>', '&amp;', '_[k]'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
);
const hostileName = fc.string({ unit: hostileChar, maxLength: 12 });

const frameArb: fc.Arbitrary<Frame> = fc.record({
  address: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((n) => `0x${n.toString(16)}`),
  symbol: fc.option(hostileName),
  module: fc.option(hostileName),
  file: fc.option(hostileName),
  line: fc.option(fc.nat()),
  offset: fc.nat(),
  inlined: fc.boolean(),
}).map(({ inlined, ...frame }) => (inlined ? { ...frame, inlined: true as const } : frame));

const stackArb: fc.Arbitrary<StackReport> = fc
  .record({
    bytes: fc.nat({ max: 1 << 30 }),
    allocations: fc.nat({ max: 1 << 20 }),
    frames: fc.array(frameArb, { maxLength: 8 }),
    truncated: fc.boolean(),
    partial: fc.boolean(),
    cache: fc.option(hostileName, { nil: undefined }),
    pids: fc.option(fc.uniqueArray(fc.nat(), { maxLength: 4 }), { nil: undefined }),
  })
  .map(({ cache, pids, ...stack }) => ({ ...stack, ...(cache === undefined ? {} : { cache }), ...(pids === undefined ? {} : { pids }) }));

const processArb: fc.Arbitrary<ProcessReport> = fc.record({
  pid: fc.nat(),
  command: fc.option(fc.array(hostileName, { minLength: 1, maxLength: 3 })),
  exitCode: fc.option(fc.integer({ min: -1, max: 255 })),
  outstandingBytes: fc.nat({ max: 1 << 30 }),
  outstandingAllocations: fc.nat({ max: 1 << 20 }),
});

const reportArb: fc.Arbitrary<Report> = fc
  .record({
    mode: fc.constantFrom('user' as const, 'kernel' as const),
    pid: fc.option(fc.nat()),
    command: fc.option(fc.array(hostileName, { minLength: 1, maxLength: 3 })),
    exitCode: fc.option(fc.integer({ min: -1, max: 255 })),
    cpuMs: fc.option(fc.nat({ max: 1e8 })),
    durationMs: fc.nat({ max: 1e8 }),
    lostEvents: fc.nat({ max: 10 }),
    stacks: fc.array(stackArb, { maxLength: 12 }),
    processes: fc.option(fc.array(processArb, { maxLength: 4 }), { nil: undefined }),
  })
  .map(({ mode, pid, command, exitCode, cpuMs, durationMs, lostEvents, stacks, processes }) => ({
    schema: REPORT_SCHEMA,
    mode,
    target: { pid, command, exitCode, cpuMs },
    durationMs,
    totals: {
      outstandingBytes: stacks.reduce((sum, s) => sum + s.bytes, 0),
      outstandingAllocations: stacks.reduce((sum, s) => sum + s.allocations, 0),
      allocations: 0,
      frees: 0,
      lostEvents,
      failedStacks: 0,
      tableFull: 0,
      truncatedStacks: stacks.filter((s) => s.truncated).length,
      cutStacks: 0,
      partialStacks: stacks.filter((s) => s.partial).length,
    },
    ...(processes === undefined ? {} : { processes }),
    stacks,
  }));

test('property: folded totals equal the report total, one well-formed line per stack', () => {
  fc.assert(
    fc.property(reportArb, (report) => {
      const folded = renderFolded(report);
      let sum = 0;
      for (const line of folded.split('\n').slice(0, -1)) {
        const match = /^([^\n]+) (\d+)$/.exec(line);
        assert.ok(match, `line ${JSON.stringify(line)}`);
        sum += Number(match[2]);
      }
      assert.equal(sum, report.totals.outstandingBytes);
      assert.ok(folded === '' || folded.endsWith('\n'));
      // No name may split into two frames: each stack alone folds to exactly its depth.
      for (const stack of report.stacks.filter((s) => s.bytes > 0)) {
        const line = renderFolded({ ...report, stacks: [stack] });
        const depth = Math.max(stack.frames.length, 1) + (stack.truncated ? 1 : 0) + (stack.partial ? 1 : 0);
        assert.equal(line.slice(0, line.lastIndexOf(' ')).split(';').length, depth, line);
      }
    }),
  );
});

test('property: the flame graph stays well-formed XML with hostile names', () => {
  fc.assert(
    fc.property(reportArb, hostileName, fc.option(hostileName, { nil: undefined }), (report, title, subtitle) => {
      const svg = parseXml(renderFlamegraph(report, { title, subtitle }));
      if (report.totals.outstandingBytes > 0) {
        assert.ok(Math.abs(Number(frameNamed(svg, 'all').rect.attributes.width) - 1180) < 0.01);
      }
    }),
  );
});

test('property: JSON round-trips the report', () => {
  fc.assert(
    fc.property(reportArb, (report) => {
      // Through JSON on both sides: fast-check's records have no prototype, parsed objects do.
      assert.deepEqual(JSON.parse(renderJson(report)), JSON.parse(JSON.stringify(report)));
    }),
  );
});

test('property: text puts no control characters on the terminal', () => {
  fc.assert(
    fc.property(reportArb, (report) => {
      assert.doesNotMatch(renderText(report, { top: 20 }), /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
    }),
  );
});
