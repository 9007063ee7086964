// Inlined frames (issue 19): a function inlined at a return address is a
// frame of its own, innermost first, `"inlined": true` with its own file and
// line, in the JSON and in the text, folded and flame-graph outputs; the site
// it was inlined into is still the site, and a site with nothing inlined
// keeps a single frame. The fixture is built -O2 (test/fixtures/Makefile).
import assert from 'node:assert/strict';
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { fixtureBinaries, fixtureSources } from '../helpers/paths.js';
import { runCli } from '../helpers/cli.js';
import { readReport, type ReportFrame, siteFrame, siteFigures, stacksAt } from '../helpers/report.js';
import { scratchDir } from '../helpers/tmp.js';
import { traceCommand } from '../helpers/trace.js';

const binary = path.join(fixtureBinaries, 'inlined-frames');
const source = readFileSync(path.join(fixtureSources, 'inlined-frames.c'), 'utf8').split('\n');

/** 1-based line marked `line:<name>` in the fixture. */
function lineOf(name: string): number {
  const i = source.findIndex((line) => line.includes(`/* line:${name} */`));
  assert.ok(i >= 0, `no line:${name} in inlined-frames.c`);
  return i + 1;
}

/** What the test checks of a frame. */
function shape(frame: ReportFrame | undefined): object {
  return {
    symbol: frame?.symbol,
    file: path.basename(frame?.file ?? ''),
    line: frame?.line,
    inlined: frame !== undefined && 'inlined' in frame ? frame.inlined : 'absent',
  };
}

test('inlined functions are frames of their own in the JSON, with their lines; sites are still found', { timeout: 60_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const { run, report } = await traceCommand(t, [binary]);
  assert.equal(run.code, 0, `stderr: ${run.stderr}`);
  const module = realpathSync(binary);

  // JSON: alloc_filled <- make_record, both inlined, <- site_record. (-O2
  // unrolls main's loop: one stack per call of site_record.)
  const records = stacksAt(report, 'site_record');
  assert.ok(records.length >= 1, JSON.stringify(report.stacks.map((s) => s.frames.map((f) => f.symbol))));
  for (const record of records) {
    assert.deepEqual(record.frames.slice(0, 3).map(shape), [
      { symbol: 'alloc_filled', file: 'inlined-frames.c', line: lineOf('alloc_filled'), inlined: true },
      { symbol: 'make_record', file: 'inlined-frames.c', line: lineOf('make_record'), inlined: true },
      { symbol: 'site_record', file: 'inlined-frames.c', line: lineOf('site_record'), inlined: 'absent' },
    ]);
    const { address } = record.frames[0]!;
    for (const frame of record.frames.slice(0, 3)) assert.deepEqual([frame.address, frame.module], [address, module], 'one return address');
    assert.equal(record.frames[3]?.symbol, 'main');
    assert.ok(!record.frames.slice(3).some((f) => f.inlined), 'the callers are not inlined');
    assert.equal(record.partial, false);
  }

  // The site is found by the function the code lies in, and by the inlined one.
  assert.deepEqual(siteFigures(report, 'site_record'), { bytes: 4 * 72, allocations: 4 });
  assert.deepEqual(siteFigures(report, 'alloc_filled'), { bytes: 4 * 72, allocations: 4 });
  assert.deepEqual(siteFigures(report, 'site_plain'), { bytes: 3 * 40, allocations: 3 });
  for (const plain of stacksAt(report, 'site_plain')) {
    assert.deepEqual(shape(plain.frames[0]), { symbol: 'site_plain', file: 'inlined-frames.c', line: lineOf('site_plain'), inlined: 'absent' });
    assert.equal(siteFrame(plain), plain.frames[0]);
  }
});

test('text, folded stacks and the flame graph show inlined frames as frames', { timeout: 60_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const out = path.join(scratchDir(t), 'out');
  const run = await runCli(['trace', '--out', out, '--', binary], '', 60_000);
  assert.equal(run.code, 0, `stderr: ${run.stderr}`);
  const report = readReport(path.join(out, 'report.json'));
  assert.ok(stacksAt(report, 'site_record').every((s) => s.frames[0]?.inlined === true && s.frames[1]?.inlined === true));

  // Text: one line per frame, the inlined ones marked.
  const at = (name: string) => `/inlined-frames\\.c:${lineOf(name)}`;
  const lines = run.stdout.split('\n').map((line) => line.trim());
  const first = lines.findIndex((line) => line.startsWith('alloc_filled '));
  assert.ok(first >= 0, run.stdout);
  assert.match(lines[first]!, new RegExp(`^alloc_filled \\(.*${at('alloc_filled')}\\) \\[inlined\\]$`));
  assert.match(lines[first + 1]!, new RegExp(`^make_record \\(.*${at('make_record')}\\) \\[inlined\\]$`));
  assert.match(lines[first + 2]!, new RegExp(`^site_record \\(.*${at('site_record')}\\)$`));

  // Folded: root first, inlined frames with FlameGraph's `_[i]`.
  const folded = readFileSync(path.join(out, 'leaks.folded'), 'utf8').split('\n');
  const recordLine = folded.find((line) => line.includes('site_record'));
  assert.match(recordLine ?? '', /;main;site_record;make_record_\[i\];alloc_filled_\[i\] 288$/, folded.join('\n'));
  assert.match(folded.find((line) => line.includes('site_plain')) ?? '', /;main;site_plain 120$/);

  // The SVG: the names as drawn, the tooltip saying inlined.
  const svg = readFileSync(path.join(out, 'flamegraph.svg'), 'utf8');
  assert.match(svg, /<title>alloc_filled — 288 bytes \([\d.]+%\), 4 allocations, inlined<\/title>/);
  assert.match(svg, /<title>site_record — 288 bytes \([\d.]+%\), 4 allocations<\/title>/);
});
