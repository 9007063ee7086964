// The text report leads with the suspects and the process's growth; the JSON
// carries history, suspects and process in the schema's order.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { renderJson } from '../../src/render/json.js';
import { renderText } from '../../src/render/text.js';
import type { Report } from '../../src/report/types.js';
import { userReport } from '../fixtures/render-reports.js';

function grown(): Report {
  const report = structuredClone(userReport);
  report.stacks[0].history = { atMs: [200, 400, 600, 800], bytes: [1000, 2000, 3000, 4000] };
  report.suspects = [{ stack: 0, reason: 'grew 3000 bytes over 0.6 s', growthBytesPerSecond: 5000, rSquared: 1, grewShare: 1 }];
  report.process = {
    pid: 42,
    atMs: [200, 800],
    rssBytes: [10_240, 14_336],
    anonBytes: [8192, 12_288],
    heapBytes: [4096, 8192],
    tracedBytes: [1000, 4072],
    cgroup: { path: '/app', currentBytes: [20_480, 24_576], maxBytes: null },
    explainedShare: 0.75,
  };
  return report;
}

test('text: the process line and the suspects come before the stacks', () => {
  const text = renderText(grown(), { top: 5 });
  const lines = text.split('\n');
  const processAt = lines.indexOf('process 42: anonymous memory grew 4.0 KiB over 600 ms (RSS 4.0 KiB); the traced outstanding bytes grew 3.0 KiB: they explain 75% of it; cgroup /app: 24.0 KiB of no limit');
  const suspectAt = lines.findIndex((line) => line.startsWith('S1  growing 4.9 KiB/s, '));
  assert.ok(processAt > 0 && suspectAt > processAt, text);
  assert.ok(lines.findIndex((line) => line.startsWith('#1  ')) > suspectAt, 'the stacks after the suspects');
  assert.match(lines[suspectAt], /: grew 3000 bytes over 0\.6 s$/);
});

test('text: intervals with no suspect say so; no intervals, no word', () => {
  const none = { ...grown(), suspects: [] };
  assert.ok(renderText(none, { top: 5 }).includes('\nno leak suspects: no stack grew steadily over the intervals\n'));
  assert.ok(!renderText(userReport, { top: 5 }).includes('suspect'));
});

test('json: history, suspects and process as the contract has them', () => {
  const json = JSON.parse(renderJson(grown())) as Report;
  assert.deepEqual(json.stacks[0].history, grown().stacks[0].history);
  assert.deepEqual(json.suspects, grown().suspects);
  assert.deepEqual(json.process, grown().process);
  assert.deepEqual(Object.keys(json.process!), ['pid', 'atMs', 'rssBytes', 'anonBytes', 'heapBytes', 'tracedBytes', 'cgroup', 'explainedShare']);
  assert.equal(JSON.parse(renderJson(userReport)).suspects, undefined);
});
