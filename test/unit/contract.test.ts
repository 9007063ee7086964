// The names TypeScript hands the addon (knobs, programs, maps) against the
// contract generated from the BPF objects themselves (tools/gen-contract.mjs):
// a knob renamed or dropped in BPF fails here, not at load time on a user's
// machine.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { defines, enums, objects, structs } from '../../src/native/contract.generated.js';
import { AllocFn, COUNTERS, EVENT, EventFlag, EventKind, MAX_STACK_DEPTH } from '../../src/native/layout.js';
import { type KernelTraceOptions, knobs as kernelKnobs, TRACEPOINTS } from '../../src/trace/kernel-trace.js';
import { type UserTraceOptions, userKnobs } from '../../src/trace/user-trace.js';

type ObjectContract = { programs: readonly string[]; maps: readonly string[]; knobs: Readonly<Record<string, number>> };
const contract = objects as unknown as Record<string, ObjectContract>;

/** `target_comm_2` is the third 32-bit word of the `target_comm` array (native/kernel-loader.cc). */
function knobProblem(object: string, name: string, value: number): string | null {
  const knobs = contract[object]!.knobs;
  const word = /^(.*)_(\d)$/.exec(name);
  if (!(name in knobs) && word && word[1]! in knobs) {
    return (Number(word[2]) + 1) * 4 <= knobs[word[1]!]! ? null : `${object}: ${name} lies beyond ${word[1]} (${knobs[word[1]!]} bytes)`;
  }
  const size = knobs[name];
  if (size === undefined) return `${object} has no knob ${name} (it has ${Object.keys(knobs).join(', ')})`;
  return size >= 8 || value < 2 ** (8 * size) ? null : `${object}: ${name} = ${value} does not fit its ${size} bytes`;
}

function problems(object: string, values: Record<string, number>): string[] {
  return Object.entries(values)
    .map(([name, value]) => knobProblem(object, name, value))
    .filter((problem): problem is string => problem !== null);
}

const userOptions = { minSize: 0, maxSize: Number.MAX_SAFE_INTEGER, stackDepth: MAX_STACK_DEPTH, floorOnly: false, sampleEvery: 1 } as UserTraceOptions;
const kernelOptions = { minSize: 0, maxSize: Number.MAX_SAFE_INTEGER, pid: 4242, comm: 'kworker/u8:1', cgroup: { id: 7, level: 2 } } as KernelTraceOptions;
/** The kernel tracers share their knobs; the kprobe object joins when it exists. */
const kernelObjects = Object.keys(contract).filter((name) => name.startsWith('kernel-'));

test('contract: every knob the user tracer sets is a .rodata variable of user-alloc', () => {
  assert.deepEqual(problems('user-alloc', userKnobs(userOptions, { physEnd: 2 ** 40, pagingLevels: 5 })), []);
});

test('contract: every knob the kernel tracer sets is a .rodata variable of each kernel object', () => {
  assert.ok(kernelObjects.includes('kernel-alloc'));
  for (const object of kernelObjects) assert.deepEqual(problems(object, kernelKnobs(kernelOptions)), [], object);
});

test('contract: a knob BPF does not have is reported', () => {
  assert.match(knobProblem('user-alloc', 'no_such_knob', 1) ?? '', /user-alloc has no knob no_such_knob/);
  assert.match(knobProblem('kernel-alloc', 'target_comm_4', 1) ?? '', /beyond target_comm/);
  assert.match(knobProblem('user-alloc', 'floor_only', 256) ?? '', /does not fit/);
});

test('contract: the programs and maps TypeScript and the addon name by string exist', () => {
  for (const program of ['read_clock', 'find_direct_map', 'alloc_enter', 'alloc_exit', 'free_enter', 'note_fork', 'hold_at_exec']) {
    assert.ok(objects['user-alloc'].programs.includes(program as never), `user-alloc has no program ${program}`);
  }
  for (const map of ['followed', 'exec_hold']) assert.ok(objects['user-alloc'].maps.includes(map as never), `user-alloc has no map ${map}`);
  for (const tracepoint of TRACEPOINTS) {
    const program = tracepoint.split(':')[1]!;
    assert.ok(objects['kernel-alloc'].programs.includes(program as never), `kernel-alloc has no program ${program}`);
  }
  // The session opens events, counters and stacks in every object (native/tracer.cc); the tracers size these.
  const sized: Record<string, string[]> = { 'user-alloc': ['stacks', 'events'], 'kernel-alloc': ['allocs', 'stacks', 'stack_caches', 'events'] };
  for (const [object, { maps }] of Object.entries(contract)) {
    for (const map of ['events', 'counters', 'stacks', ...(sized[object] ?? [])]) assert.ok(maps.includes(map), `${object} has no map ${map}`);
  }
});

test('contract: layout.ts is the generated record layout', () => {
  const event = structs.lh_event;
  assert.equal(EVENT.recordSize, event.size);
  assert.deepEqual(
    [EVENT.kind, EVENT.flags, EVENT.tgid, EVENT.addr, EVENT.size, EVENT.stackId, EVENT.ticks],
    [event.fields.kind.offset, event.fields.flags.offset, event.fields.tgid.offset, event.fields.addr.offset, event.fields.size.offset, event.fields.stack_id.offset, event.fields.ticks.offset],
  );
  assert.equal(MAX_STACK_DEPTH, structs.lh_stack.fields.ips.count);
  assert.equal(MAX_STACK_DEPTH, defines.LH_MAX_STACK_DEPTH);
  assert.equal(COUNTERS.length, enums.lh_counter.LH_CNT__MAX);
  assert.equal(COUNTERS[enums.lh_counter.LH_CNT_RINGBUF_DROPS], 'ringbufDrops');
  assert.equal(EventKind.alloc, enums.lh_event_kind.LH_EVENT_ALLOC);
  assert.equal(EventKind.fork, enums.lh_event_kind.LH_EVENT_FORK);
  assert.equal(EventFlag.realloc, enums.lh_event_flags.LH_FLAG_REALLOC);
  assert.equal(AllocFn.operatorNew, enums.lh_alloc_fn.LH_FN_NEW);
  assert.equal(AllocFn.posixMemalign, enums.lh_alloc_fn.LH_FN_POSIX_MEMALIGN);
  // Flags are bits: no two share one.
  const flags = Object.values(EventFlag) as number[];
  assert.equal(flags.reduce((all, flag) => all | flag, 0), flags.reduce((sum, flag) => sum + flag, 0));
});
