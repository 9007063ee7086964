// The ring-buffer record and counter layout TypeScript decodes; checked at
// load time against the offsets the addon was compiled with (bpf/leakhound.h).

export const EVENT = {
  recordSize: 40,
  kind: 0,
  flags: 4,
  addr: 8,
  size: 16,
  stackId: 24,
  ticks: 32,
} as const;

export const EventKind = { alloc: 1, free: 2, exec: 3 } as const;

export const EventFlag = { stackTruncated: 1 << 0, restored: 1 << 1, realloc: 1 << 2 } as const;

/** enum lh_alloc_fn: the cookie that tells the entry program which function it is in. */
export const AllocFn = {
  malloc: 0,
  calloc: 1,
  realloc: 2,
  reallocarray: 3,
  posixMemalign: 4,
  memalign: 5,
  valloc: 6,
  pvalloc: 7,
  operatorNew: 8,
} as const;

/** enum lh_counter, in order. */
export const COUNTERS = [
  'ringbufDrops',
  'stackFailures',
  'stacksFull',
  'allocsFull',
  'stateFailures',
  'truncated',
] as const;

export type CounterName = (typeof COUNTERS)[number];
/** The BPF counters, and the program runs the kernel skipped. */
export type Counters = Record<CounterName, number> & { missedRuns: number };

export interface AddonLayout {
  eventSize: number;
  kind: number;
  flags: number;
  addr: number;
  size: number;
  stackId: number;
  ticks: number;
  maxStackDepth: number;
  counters: number;
  allocFunctions: number;
}

export const MAX_STACK_DEPTH = 64;

/** Every mismatch between the addon's layout and ours, as readable lines. */
export function layoutMismatches(addon: AddonLayout): string[] {
  const ours: AddonLayout = {
    eventSize: EVENT.recordSize,
    kind: EVENT.kind,
    flags: EVENT.flags,
    addr: EVENT.addr,
    size: EVENT.size,
    stackId: EVENT.stackId,
    ticks: EVENT.ticks,
    maxStackDepth: MAX_STACK_DEPTH,
    counters: COUNTERS.length,
    allocFunctions: Object.keys(AllocFn).length,
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
