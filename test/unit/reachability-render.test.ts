// The reachability section of the text report and the JSON objects, from a
// hand-built report: userReport with its first two stacks scanned.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { renderJson } from '../../src/render/json.js';
import { renderText } from '../../src/render/text.js';
import type { ReachabilityClasses, Report } from '../../src/report/types.js';
import { userReport } from '../fixtures/render-reports.js';

function classes(definitely: number, indirectly: number, possibly: number, reachable: number): ReachabilityClasses {
  const count = (bytes: number) => ({ bytes, allocations: bytes === 0 ? 0 : 1 });
  return { definitelyLost: count(definitely), indirectlyLost: count(indirectly), possiblyLost: count(possibly), stillReachable: count(reachable) };
}

const scanned: Report = {
  ...userReport,
  stacks: userReport.stacks.map((stack, i) => (i === 0 ? { ...stack, reachability: classes(0, 0, 0, 24_000) } : i === 1 ? { ...stack, reachability: classes(48, 80, 96, 0) } : stack)),
  reachability: { pid: 4242, when: 'exit', ...classes(48, 80, 96, 24_000), bytesScanned: 378_184, regions: 10, threads: 2, threadsRunning: 0, threadsWithoutRegisters: 0, registersMs: 0.12, scanMs: 13.8, pausedMs: 26.6 },
};

test('text: the scan, the four classes, and only the stacks with lost blocks', () => {
  const text = renderText(scanned, { top: 5 });
  const lines = text.split('\n');
  const at = lines.findIndex((line) => line.startsWith('reachability: '));
  assert.deepEqual(lines.slice(at, at + 8), [
    'reachability: scanned PID 4242 as it exited (stopped 26.6 ms): 369.3 KiB in 10 mappings read in 13.8 ms, 2 threads, registers read in 0.12 ms',
    '  definitely lost: 48 bytes in 1 allocation',
    '  indirectly lost: 80 bytes in 1 allocation',
    '  possibly lost: 96 bytes in 1 allocation',
    '  still reachable: 24,000 bytes in 1 allocation',
    '',
    '#1  definitely lost 48 bytes in 1 allocation, indirectly lost 80 bytes in 1 allocation, possibly lost 96 bytes in 1 allocation',
    '    std::vector<Widget, std::allocator<Widget> >::push_back(Widget const&) (stl_vector.h:1198)',
  ]);
  assert.equal(lines.filter((line) => /^#\d+ {2}(definitely|indirectly|possibly)/.test(line)).length, 1);
  assert.equal(renderText(userReport, { top: 5 }).includes('reachability'), false);
  const running = renderText({ ...scanned, reachability: { ...scanned.reachability!, when: 'end', pausedMs: null, threadsRunning: 1, threadsWithoutRegisters: 2, registersMs: null } }, { top: 5 });
  assert.match(running, /^reachability: scanned PID 4242 at the trace's end \(running\): .*, 2 threads \(the stacks of 1 running thread read whole\), registers not read \(running\)$/m);
  const refused = renderText({ ...scanned, reachability: { ...scanned.reachability!, threadsWithoutRegisters: 1 } }, { top: 5 });
  assert.match(refused, /^reachability: .*, 2 threads, registers read in 0\.12 ms \(not those of 1 thread: ptrace refused, or gone\)$/m);
});

test('JSON: reachability on each scanned stack and the summary, field by field', () => {
  const json = JSON.parse(renderJson(scanned)) as Report;
  assert.deepEqual(json.stacks[1].reachability, classes(48, 80, 96, 0));
  assert.equal(json.stacks[2].reachability, undefined);
  assert.deepEqual(json.reachability, scanned.reachability);
  assert.deepEqual(Object.keys(json.reachability!), ['pid', 'when', 'definitelyLost', 'indirectlyLost', 'possiblyLost', 'stillReachable', 'bytesScanned', 'regions', 'threads', 'threadsRunning', 'threadsWithoutRegisters', 'registersMs', 'scanMs', 'pausedMs']);
});
