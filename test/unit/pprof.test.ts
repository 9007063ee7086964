// The pprof profile, decoded back with pprof-format: the totals, inlined
// frames as one location's lines, files and lines on functions, modules as
// mappings, kernel stacks too.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';

import { renderPprof } from '../../src/render/pprof.js';
import type { Report } from '../../src/report/types.js';
import { kernelReport, userFrame, userReport } from '../fixtures/render-reports.js';

function decode(report: Report): { profile: Profile; text: (i: number | bigint) => string } {
  const profile = Profile.decode(gunzipSync(renderPprof(report)));
  return { profile, text: (i) => profile.stringTable.strings[Number(i)]! };
}

/** Each sample's frames, leaf first, as `function file:line`; an inlined run joined by ` < `. */
function stacksOf(report: Report): string[][] {
  const { profile, text } = decode(report);
  const functions = new Map(profile.function.map((fn) => [Number(fn.id), fn]));
  const locations = new Map(profile.location.map((location) => [Number(location.id), location]));
  return profile.sample.map((sample) =>
    sample.locationId.map((id) =>
      locations
        .get(Number(id))!
        .line.map((line) => {
          const fn = functions.get(Number(line.functionId))!;
          return `${text(fn.name)} ${text(fn.filename)}:${line.line}`;
        })
        .join(' < '),
    ),
  );
}

test('pprof: inuse_objects and inuse_space per stack add up to the report totals', () => {
  for (const report of [userReport, kernelReport]) {
    const { profile, text } = decode(report);
    assert.deepEqual(profile.sampleType.map((type) => `${text(type.type)}/${text(type.unit)}`), ['inuse_objects/count', 'inuse_space/bytes']);
    assert.equal(text(profile.defaultSampleType), 'inuse_space');
    const sum = (i: number) => profile.sample.reduce((total, sample) => total + Number(sample.value[i]), 0);
    assert.equal(sum(0), report.totals.outstandingAllocations);
    assert.equal(sum(1), report.totals.outstandingBytes);
  }
});

test('pprof: functions carry file and line; truncated, partial and frameless stacks get the flame graph markers at the root', () => {
  const stacks = stacksOf(userReport);
  assert.deepEqual(stacks[0], ['leak_small leaky.c:12', 'do_work leaky.c:30', 'main leaky.c:55', '__libc_start_call_main :0']);
  assert.deepEqual(stacks[2], ['libfoo.so.1+0x1a2b :0', 'main :0', '[partial] :0']);
  assert.deepEqual(stacks[3]!.at(-1), '[truncated] :0');
  assert.deepEqual(stacks[5], ['[unknown] :0']);
});

test('pprof: functions inlined at an address are lines of one location, innermost first, and its mapping is the module with its build-id', () => {
  const report: Report = {
    ...userReport,
    stacks: [
      {
        bytes: 64,
        allocations: 1,
        frames: [
          { ...userFrame('make_node', 'tree.h', 7, 0x10, '0x5555000011f0'), inlined: true, buildId: 'b5f1d3c2a4e6' },
          { ...userFrame('insert', 'tree.c', 40, 0x10, '0x5555000011f0'), buildId: 'b5f1d3c2a4e6' },
          { ...userFrame('main', 'main.c', 9, 0x20, '0x555500001300'), buildId: 'b5f1d3c2a4e6' },
        ],
        truncated: false,
        partial: false,
        pids: [4242],
      },
    ],
  };
  assert.deepEqual(stacksOf(report), [['make_node tree.h:7 < insert tree.c:40', 'main main.c:9']]);
  const { profile, text } = decode(report);
  assert.deepEqual(profile.mapping.map((mapping) => [text(mapping.filename), text(mapping.buildId)]), [['/opt/leaky/leaky', 'b5f1d3c2a4e6']]);
  assert.equal(BigInt(profile.location[0]!.address), 0x5555000011f0n);
  assert.deepEqual(profile.sample[0]!.label.map((label) => [text(label.key), Number(label.num)]), [['pid', 4242]]);
});

test('pprof: kernel addresses above 2^53 survive, modules are mappings, slab caches are labels', () => {
  const { profile, text } = decode(kernelReport);
  assert.equal(BigInt(profile.location[0]!.address), 0xffffffff8132b0aan);
  assert.deepEqual(profile.mapping.map((mapping) => text(mapping.filename)), ['[kernel]', 'nf_conntrack']);
  assert.deepEqual(profile.sample[0]!.label.map((label) => [text(label.key), text(label.str)]), [['cache', 'kmalloc-64']]);
  assert.deepEqual(stacksOf(kernelReport)[1], ['[kernel]+0x234567 :0', '__alloc_pages :0']);
});

test('pprof: alloc_objects and alloc_space where the report counted them, churn stacks and the sum of those not listed included', () => {
  const stacks = userReport.stacks.map((stack) => ({ ...stack, allocated: { bytes: 3 * stack.bytes, allocations: 2 * stack.allocations } }));
  const churn = { bytes: 0, allocations: 0, frames: [userFrame('parse_line', 'parse.c', 88, 0x14, '0x555500001400')], truncated: false, partial: false, allocated: { bytes: 32_000, allocations: 1000 } };
  const churnOmitted = { stacks: 7, bytes: 700, allocations: 70 };
  const listed = [...stacks, churn];
  const report: Report = {
    ...userReport,
    totals: {
      ...userReport.totals,
      allocations: listed.reduce((sum, stack) => sum + stack.allocated.allocations, 0) + churnOmitted.allocations,
      allocatedBytes: listed.reduce((sum, stack) => sum + stack.allocated.bytes, 0) + churnOmitted.bytes,
    },
    stacks,
    churnStacks: [churn],
    churnOmitted,
  };
  const { profile, text } = decode(report);
  assert.deepEqual(
    profile.sampleType.map((type) => `${text(type.type)}/${text(type.unit)}`),
    ['alloc_objects/count', 'alloc_space/bytes', 'inuse_objects/count', 'inuse_space/bytes'],
  );
  assert.equal(text(profile.defaultSampleType), 'inuse_space');
  const sum = (i: number) => profile.sample.reduce((total, sample) => total + Number(sample.value[i]), 0);
  assert.deepEqual([sum(0), sum(1), sum(2), sum(3)], [report.totals.allocations, report.totals.allocatedBytes, report.totals.outstandingAllocations, report.totals.outstandingBytes]);
  const paths = stacksOf(report);
  assert.deepEqual(paths.at(-2), ['parse_line parse.c:88']);
  assert.deepEqual(paths.at(-1), ['[7 more churn stacks] :0']);
  assert.deepEqual(profile.sample.at(-1)!.value.map(Number), [70, 700, 0, 0]);
});
