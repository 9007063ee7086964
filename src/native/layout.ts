// The ring-buffer record and counter layout TypeScript decodes, from the
// contract generated out of bpf/leakhound.h (tools/gen-contract.mjs); checked
// at load time against the offsets the addon was compiled with.

import { defines, enumNames, structs } from './contract.generated.js';

const event = structs.lh_event.fields;

export const EVENT = {
  recordSize: structs.lh_event.size,
  kind: event.kind.offset,
  flags: event.flags.offset,
  tgid: event.tgid.offset,
  addr: event.addr.offset,
  size: event.size.offset,
  stackId: event.stack_id.offset,
  ticks: event.ticks.offset,
} as const;

/** enum lh_event_kind. */
export const EventKind = enumNames.lh_event_kind;

/** enum lh_event_flags. */
export const EventFlag = enumNames.lh_event_flags;

const { new: operatorNew, ...plainAllocFns } = enumNames.lh_alloc_fn;

/** enum lh_alloc_fn: the cookie that tells the entry program which function it is in. */
export const AllocFn = { ...plainAllocFns, operatorNew } as const;

type CounterKey = keyof typeof enumNames.lh_counter;

/** enum lh_counter, in order. */
export const COUNTERS: readonly CounterKey[] = (Object.keys(enumNames.lh_counter) as CounterKey[]).sort(
  (a, b) => enumNames.lh_counter[a] - enumNames.lh_counter[b],
);

export type CounterName = CounterKey;
/** The BPF counters, and the program runs the kernel skipped. */
export type Counters = Record<CounterName, number> & { missedRuns: number };

export interface AddonLayout {
  eventSize: number;
  kind: number;
  flags: number;
  tgid: number;
  addr: number;
  size: number;
  stackId: number;
  ticks: number;
  maxStackDepth: number;
  counters: number;
  allocFunctions: number;
}

export const MAX_STACK_DEPTH = defines.LH_MAX_STACK_DEPTH;

/** Every mismatch between the addon's layout and ours, as readable lines. */
export function layoutMismatches(addon: AddonLayout): string[] {
  const ours: AddonLayout = {
    eventSize: EVENT.recordSize,
    kind: EVENT.kind,
    flags: EVENT.flags,
    tgid: EVENT.tgid,
    addr: EVENT.addr,
    size: EVENT.size,
    stackId: EVENT.stackId,
    ticks: EVENT.ticks,
    maxStackDepth: MAX_STACK_DEPTH,
    counters: COUNTERS.length,
    allocFunctions: Object.keys(enumNames.lh_alloc_fn).length,
  };
  return (Object.keys(ours) as (keyof AddonLayout)[])
    .filter((key) => ours[key] !== addon[key])
    .map((key) => `${key}: addon ${addon[key]}, TypeScript ${ours[key]}`);
}

/** Events dropped by a full ring buffer, or never seen: the kernel skips a
 * program while another BPF program runs on the same CPU. */
export function lostEvents(counters: Counters): number {
  return counters.ringbufDrops + counters.missedRuns;
}

/** Names the addon's counter array. */
export function nameCounters(values: number[], missedRuns: number): Counters {
  return { ...(Object.fromEntries(COUNTERS.map((name, i) => [name, values[i] ?? 0])) as Record<CounterName, number>), missedRuns };
}
