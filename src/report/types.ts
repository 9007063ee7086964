// The report every renderer takes: the `leakhound.report/v1` schema, plus
// nothing a renderer would have to compute for itself.

import type { Capabilities } from '../trace/capabilities.js';

export const REPORT_SCHEMA = 'leakhound.report/v1';

export interface Frame {
  /** The return address as traced, `0x`-prefixed hex. */
  address: string;
  /** Plain function name, demangled for C++. */
  symbol: string | null;
  /** The object the address lies in (as mapped by the target), or `[kernel]`/a module name. */
  module: string | null;
  file: string | null;
  line: number | null;
  /** Offset from the symbol's start (or from the module's start when symbol is null); in an
   * inlined frame, the address's offset in the function it was inlined into. */
  offset: number;
  /** A function inlined at this address: it shares the address with the frames after it, down to
   * the first that is not inlined (the function the code lies in). Absent when not inlined. */
  inlined?: true;
}

export interface StackReport {
  bytes: number;
  allocations: number;
  /** Frames from the allocation site outwards: the allocator's caller first (after any
   * functions inlined into it there, innermost first). */
  frames: Frame[];
  /** The frame-pointer walk reached the depth limit. */
  truncated: boolean;
  /** The walk passed through, or ended in, code without frame pointers:
   * callers may be missing (always false in kernel mode). */
  partial: boolean;
  /** The slab cache the objects came from (kernel mode), when known. */
  cache?: string;
  /** The processes holding these blocks, ascending (when several may be traced). */
  pids?: number[];
}

/** Descriptors still open that one stack made. */
export interface FdStackReport {
  count: number;
  /** Kind (file, socket, pipe, eventfd, epoll, memfd, ...: report/fd-kinds.ts) -> how many. */
  kinds: Record<string, number>;
  /** A few of them, distinct: a file's path, a socket's family and peer, else the kind. */
  examples: string[];
  /** Frames from the call that made them outwards. */
  frames: Frame[];
  truncated: boolean;
  partial: boolean;
}

/** Descriptors made while tracing (those older are never counted). */
export interface FdReport {
  outstanding: number;
  opened: number;
  closed: number;
  /** By count, largest first. */
  stacks: FdStackReport[];
}

/** anonymous and file mappings may leak; the others are shown apart: the
 * allocator's own (arenas, large blocks already counted as heap), thread
 * stacks, and the dynamic loader's. */
export type MappingKind = 'anonymous' | 'file' | 'allocator' | 'thread-stack' | 'loader';

/** The kinds that may be leaks; the rest are shown apart. */
export const LEAK_MAPPING_KINDS: ReadonlySet<MappingKind> = new Set(['anonymous', 'file']);

export interface MappingStackReport {
  bytes: number;
  /** Ranges still mapped (one mapping split by a partial munmap is two). */
  count: number;
  kind: MappingKind;
  frames: Frame[];
  truncated: boolean;
  partial: boolean;
}

/** Mappings made while tracing and still mapped, of every kind. */
export interface MappingReport {
  outstandingBytes: number;
  outstanding: number;
  /** By bytes, largest first. */
  stacks: MappingStackReport[];
}

export interface InvalidFreeReport {
  kind: 'double-free' | 'unknown-pointer';
  address: string;
  /** From the free's caller outwards. */
  frames: Frame[];
  /** A double free's: where the block was freed first. */
  previousFree: { frames: Frame[] } | null;
}

/** One traced process, when several may be (children followed, a cgroup). */
export interface ProcessReport {
  pid: number;
  command: string[] | null;
  /** null while it runs, or when its end could not be seen. */
  exitCode: number | null;
  outstandingBytes: number;
  outstandingAllocations: number;
}

export interface Totals {
  outstandingBytes: number;
  outstandingAllocations: number;
  allocations: number;
  frees: number;
  lostEvents: number;
  /** Stacks that could not be captured or stored (their allocations still count). */
  failedStacks: number;
  /** Allocations the live table had no room for (not counted above). */
  tableFull: number;
  truncatedStacks: number;
  /** Stacks in this report whose walk stopped short of where the process or
   * thread begins: a page not present, a frame pointer off the thread's
   * stack (code without frame pointers, a signal stack). All are partial. */
  cutStacks: number;
  /** Stacks in this report marked partial. */
  partialStacks: number;
  /** Set when only one allocation in this many was kept: every figure above
   * and per stack is then scaled up by it, an estimate. */
  sampleEvery?: number;
}

export interface Report {
  schema: typeof REPORT_SCHEMA;
  mode: 'user' | 'kernel';
  target: {
    pid: number | null;
    command: string[] | null;
    exitCode: number | null;
    /** A launched command's CPU time (user + system, its waited-for children
     * included) when it exited before the report; null otherwise. */
    cpuMs: number | null;
  };
  durationMs: number;
  totals: Totals;
  /** The kernel's BPF features and which paths leakhound took on it. */
  capabilities?: Capabilities;
  /** Every process traced, by pid (when several may be). */
  processes?: ProcessReport[];
  stacks: StackReport[];
  /** Absent when descriptors, mappings or frees were not checked (kernel mode). */
  fds?: FdReport;
  mappings?: MappingReport;
  /** The first invalid frees, in the order seen. */
  invalidFrees?: InvalidFreeReport[];
  /** Invalid frees beyond those listed (the list is bounded). */
  invalidFreesOmitted?: number;
}
