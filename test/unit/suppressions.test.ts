// Suppression files: parse errors name file:line, patterns match whole names
// with * and ?, and applying them moves exactly the matched stacks' figures
// out of the report and into the counts of the rule that matched first.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { readSuppressionFiles } from '../../src/cli/suppression-files.js';
import { LeakhoundError } from '../../src/errors.js';
import { renderJson } from '../../src/render/json.js';
import { renderText } from '../../src/render/text.js';
import { applySuppressions, matchSuppression, parseSuppressions } from '../../src/report/suppressions.js';
import type { Report } from '../../src/report/types.js';
import { userReport } from '../fixtures/render-reports.js';

function usageError(message: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof LeakhoundError, String(error));
    assert.equal(error.code, 'USAGE');
    assert.equal(error.message, message);
    return true;
  };
}

test('comments, blank lines and CRLF are skipped; each rule keeps its file and line', () => {
  const rules = parseSuppressions('# third-party\r\n\r\n  fun:leak_*  \r\nobj:*/libfoo.so*\n   # indented comment\nsrc:cache.cpp\nleak:recurse\n', 'app.supp');
  assert.deepEqual(
    rules.map(({ kind, pattern, file, line }) => ({ kind, pattern, file, line })),
    [
      { kind: 'fun', pattern: 'leak_*', file: 'app.supp', line: 3 },
      { kind: 'obj', pattern: '*/libfoo.so*', file: 'app.supp', line: 4 },
      { kind: 'src', pattern: 'cache.cpp', file: 'app.supp', line: 6 },
      { kind: 'leak', pattern: 'recurse', file: 'app.supp', line: 7 },
    ],
  );
  assert.deepEqual(parseSuppressions('', 'empty.supp'), []);
});

test('a bad line is one usage error naming file:line', () => {
  assert.throws(() => parseSuppressions('fun:a\n\nframe:b\n', 'x.supp'), usageError('x.supp:3: unknown suppression kind "frame"'));
  assert.throws(() => parseSuppressions('# c\nmalloc\n', 'x.supp'), usageError('x.supp:2: "malloc" is not KIND:PATTERN'));
  assert.throws(() => parseSuppressions('fun:\n', 'x.supp'), usageError('x.supp:1: fun: has no pattern'));
  assert.throws(() => parseSuppressions('fun:a\n{\n', 'x.supp'), usageError("x.supp:2: valgrind's { ... } blocks are not read"));
});

/** Whether a one-rule file matches a stack of one frame. */
function matches(rule: string, frame: { symbol?: string; module?: string; file?: string }): boolean {
  const stack = { frames: [{ address: '0x1', symbol: frame.symbol ?? null, module: frame.module ?? null, file: frame.file ?? null, line: null, offset: 0 }] };
  return matchSuppression(parseSuppressions(rule, 't.supp'), stack) !== null;
}

test('patterns match whole names: * any run, ? one character, everything else literally', () => {
  assert.ok(matches('fun:leak_*', { symbol: 'leak_small' }));
  assert.ok(!matches('fun:leak', { symbol: 'leak_small' }), 'no substring match');
  assert.ok(!matches('fun:small', { symbol: 'leak_small' }));
  assert.ok(matches('fun:*small', { symbol: 'leak_small' }));
  assert.ok(matches('fun:leak_smal?', { symbol: 'leak_small' }));
  assert.ok(!matches('fun:leak_smal?', { symbol: 'leak_smal' }));
  assert.ok(matches('fun:std::vector<*>::push_back(*)', { symbol: 'std::vector<Widget, std::allocator<Widget> >::push_back(Widget const&)' }));
  assert.ok(matches('fun:Cache::grow(unsigned long)', { symbol: 'Cache::grow(unsigned long)' }), 'parentheses are literal');
  assert.ok(!matches('src:leaky.c', { file: 'leakyXc' }), 'a dot is literal');
  assert.ok(!matches('fun:a|b', { symbol: 'a' }), 'a bar is literal');
});

test('obj: and src: match the whole path or its last component; leak: any of function, module, file', () => {
  const lib = '/usr/lib/x86_64-linux-gnu/libfoo.so.1';
  assert.ok(matches('obj:libfoo.so.1', { module: lib }));
  assert.ok(matches('obj:*/libfoo.so*', { module: lib }));
  assert.ok(matches(`obj:${lib}`, { module: lib }));
  assert.ok(!matches('obj:libfoo', { module: lib }));
  assert.ok(!matches('obj:libfoo.so.1', { symbol: 'libfoo.so.1' }), 'obj: is not a function');
  assert.ok(matches('src:cache.cpp', { file: '/src/app/cache.cpp' }));
  assert.ok(matches('src:*/app/*', { file: '/src/app/cache.cpp' }));
  assert.ok(!matches('src:cache.cpp', { symbol: 'cache.cpp' }), 'src: is not a function');
  assert.ok(!matches('fun:cache.cpp', { file: 'cache.cpp' }), 'fun: is not a file');
  for (const frame of [{ symbol: 'libfoo.so.1' }, { module: lib }, { file: '/x/libfoo.so.1' }]) {
    assert.ok(matches('leak:libfoo.so.1', frame), JSON.stringify(frame));
  }
  assert.ok(!matches('leak:*', {}), 'a frame with no names matches nothing');
});

test('any frame of the stack matches, not only the allocation site', () => {
  const report = applySuppressions(userReport, parseSuppressions('fun:do_work\n', 'a.supp'));
  assert.ok(report.stacks.every((stack) => stack.frames.every((frame) => frame.symbol !== 'do_work')));
  assert.equal(report.stacks.length, userReport.stacks.length - 2);
});

test('a suppression hides exactly its stacks and counts what it hid', () => {
  const rules = parseSuppressions('fun:leak_small\nobj:libfoo.so.1\nleak:no_such_thing\n', 'a.supp');
  const report = applySuppressions(userReport, rules);
  // leak_small: 24,000 + 1,000 bytes in 1,000 + 10 blocks; libfoo: 4,096 in 4, marked partial.
  assert.deepEqual(report.suppressions, [
    { pattern: 'fun:leak_small', file: 'a.supp', line: 1, stacks: 2, bytes: 25_000, allocations: 1_010 },
    { pattern: 'obj:libfoo.so.1', file: 'a.supp', line: 2, stacks: 1, bytes: 4_096, allocations: 4 },
    { pattern: 'leak:no_such_thing', file: 'a.supp', line: 3, stacks: 0, bytes: 0, allocations: 0 },
  ]);
  assert.deepEqual(report.stacks, [userReport.stacks[1], userReport.stacks[3], userReport.stacks[5]]);
  assert.equal(report.totals.outstandingBytes, userReport.totals.outstandingBytes - 25_000 - 4_096);
  assert.equal(report.totals.outstandingAllocations, userReport.totals.outstandingAllocations - 1_014);
  assert.equal(report.totals.partialStacks, 0);
  assert.deepEqual({ ...report.totals, outstandingBytes: 0, outstandingAllocations: 0, partialStacks: 0 }, { ...userReport.totals, outstandingBytes: 0, outstandingAllocations: 0, partialStacks: 0 }, 'other counters as traced');
  assert.equal(userReport.stacks.length, 6, 'the input report is left alone');
});

test('a stack two rules match is counted once, by the first', () => {
  const report = applySuppressions(userReport, parseSuppressions('src:leaky.c\nfun:main\n', 'a.supp'));
  const [first, second] = report.suppressions!;
  // leaky.c: every stack with a frame in it (the C++ one's main too); main then takes libfoo's.
  assert.deepEqual([first!.stacks, first!.bytes, second!.stacks, second!.bytes], [4, 91_048, 1, 4_096]);
  assert.deepEqual(report.stacks, [userReport.stacks[5]]);
});

test('no rules: the report is unchanged and says nothing of suppressions', () => {
  assert.equal(applySuppressions(userReport, []), userReport);
  assert.doesNotMatch(renderJson(userReport), /suppressions/);
});

test('suspects keep pointing at their stacks, and a hidden stack takes its suspect along', () => {
  const suspect = (stack: number) => ({ stack, reason: 'grew', growthBytesPerSecond: 1, rSquared: 1, grewShare: 1 });
  const withSuspects: Report = { ...userReport, suspects: [suspect(4), suspect(1), suspect(2)] };
  const report = applySuppressions(withSuspects, parseSuppressions('fun:Cache::grow*\n', 'a.supp'));
  assert.deepEqual(report.suspects!.map((s) => s.stack), [3, 1]);
  assert.equal(report.stacks[3], userReport.stacks[4]);
  assert.equal(report.stacks[1], userReport.stacks[2]);
});

test('the JSON lists every rule; the text says what was hidden and by which rule', () => {
  const report = applySuppressions(userReport, parseSuppressions('fun:leak_small\nfun:unused\n', 'ci/app.supp'));
  assert.deepEqual(JSON.parse(renderJson(report)).suppressions, report.suppressions);
  const text = renderText(report, { top: 5 });
  assert.match(text, /^suppressed 25,000 bytes \(24\.4 KiB\) in 1,010 allocations, 2 stacks \(not in the figures above or below\):$/m);
  assert.match(text, /^ {2}fun:leak_small \(ci\/app\.supp:1\): 25,000 bytes \(24\.4 KiB\) in 1,010 allocations, 2 stacks$/m);
  assert.match(text, /^ {2}fun:unused \(ci\/app\.supp:2\): nothing$/m);
  assert.match(text, /^70,244 bytes \(68\.6 KiB\) outstanding in 15 allocations;/m);
  assert.doesNotMatch(text, /leak_small \(leaky\.c/);
});

test("a hidden stack's blocks leave the reachability scan's class totals too", () => {
  const count = (bytes: number, allocations: number) => ({ bytes, allocations });
  const classes = (lost: number, reachable: number) => ({ definitelyLost: count(lost, lost > 0 ? 1 : 0), indirectlyLost: count(0, 0), possiblyLost: count(0, 0), stillReachable: count(reachable, reachable > 0 ? 1 : 0) });
  const [a, b, ...rest] = userReport.stacks;
  const scan = { ...classes(24_000, 65_536), pid: 4242, when: 'exit' as const, bytesScanned: 1 << 20, regions: 9, threads: 1, threadsRunning: 0, threadsWithoutRegisters: 1, registersMs: null, scanMs: 3, pausedMs: null };
  const report: Report = { ...userReport, stacks: [{ ...a!, reachability: classes(24_000, 0) }, { ...b!, reachability: classes(0, 65_536) }, ...rest], reachability: scan };
  const hidden = applySuppressions(report, parseSuppressions('fun:Cache::grow*\n', 'a.supp'));
  assert.deepEqual(hidden.reachability, { ...scan, stillReachable: count(0, 0) });
  assert.equal(report.reachability, scan, 'the input report is left alone');
});

test('--suppressions given twice reads both files, rules in the order given; a missing one is a usage error', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leakhound-supp-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const [first, second] = ['first.supp', 'second.supp'].map((name) => path.join(dir, name));
  writeFileSync(first!, 'fun:a\n');
  writeFileSync(second!, '# b\nobj:b.so\n');
  assert.deepEqual(readSuppressionFiles({ suppressions: [second, first] }).map((rule) => [rule.file, rule.line, rule.pattern]), [[second, 2, 'b.so'], [first, 1, 'a']]);
  assert.deepEqual(readSuppressionFiles({ suppressions: first }).length, 1);
  assert.deepEqual(readSuppressionFiles({}), []);
  assert.throws(() => readSuppressionFiles({ suppressions: path.join(dir, 'none.supp') }), usageError(`--suppressions ${path.join(dir, 'none.supp')}: ENOENT: no such file or directory`));
  assert.throws(() => readSuppressionFiles({ suppressions: dir }), usageError(`--suppressions ${dir}: EISDIR: illegal operation on a directory`));
});
