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
  /** The GNU build-id of the module's file, lowercase hex (user mode, where the file has one):
   * what profile stores such as Pyroscope and Parca match debug files by. */
  buildId?: string;
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
  /** Its blocks by leak class, when --reachability scanned them. */
  reachability?: ReachabilityClasses;
  /** Its outstanding bytes at each interval (with --interval), for stacks
   * that grew while traced: at most 256 stacks and 256 points. */
  history?: StackHistoryReport;
  /** Everything the stack allocated while traced, freed or not (absent in
   * reports written before leakhound counted it). */
  allocated?: AllocatedReport;
}

export interface AllocatedReport {
  bytes: number;
  allocations: number;
}

/** The churn stacks beyond those listed: how many, and what they allocated. */
export interface ChurnOmittedReport extends AllocatedReport {
  stacks: number;
}

/** One stack's outstanding bytes over the trace: `bytes[i]` at `atMs[i]`
 * (ms since tracing began), from the interval when it was first seen to grow. */
export interface StackHistoryReport {
  atMs: number[];
  bytes: number[];
}

/** A stack whose outstanding bytes grew steadily over the trace: a likely leak. */
export interface SuspectReport {
  /** Index into `stacks`. */
  stack: number;
  /** Why it was flagged, in plain words. */
  reason: string;
  /** The least-squares slope of its history. */
  growthBytesPerSecond: number;
  /** How well a straight line fits its history (0-1). */
  rSquared: number;
  /** The share of intervals over which it grew (0-1). */
  grewShare: number;
}

/** The traced process's own memory at each interval (--interval, a single
 * target), beside the traced outstanding bytes; arrays indexed as `atMs`. */
export interface ProcessMemoryReport {
  pid: number;
  atMs: number[];
  /** Resident (smaps_rollup Rss). */
  rssBytes: number[];
  /** Anonymous resident memory (smaps_rollup Anonymous). */
  anonBytes: number[];
  /** The brk heap's size (the [heap] mapping; 0 when there is none). */
  heapBytes: number[];
  /** All traced outstanding bytes. */
  tracedBytes: number[];
  /** The process's cgroup v2 (null when not on cgroup v2). */
  cgroup: { path: string; currentBytes: number[]; maxBytes: number | null } | null;
  /** tracedBytes' growth over anonBytes' growth, first sample to last: how
   * much of the process's growth the trace explains. null when anonymous
   * memory did not grow. */
  explainedShare: number | null;
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

export interface ReachabilityCount {
  bytes: number;
  allocations: number;
}

/** valgrind's and LeakSanitizer's leak classes. */
export interface ReachabilityClasses {
  /** Nothing points to them. */
  definitelyLost: ReachabilityCount;
  /** Only lost blocks point to them. */
  indirectlyLost: ReachabilityCount;
  /** Only pointers into their middle reach them. */
  possiblyLost: ReachabilityCount;
  stillReachable: ReachabilityCount;
}

/** The scan of --reachability: the classes of all the process's blocks, and what it took. */
export interface ReachabilityReport extends ReachabilityClasses {
  pid: number;
  /** exit: a launched command, stopped as it called _exit; end: an attached process, at the trace's end. */
  when: 'exit' | 'end';
  /** Bytes of the process's memory read, in this many mappings. */
  bytesScanned: number;
  regions: number;
  /** Threads, and those of them whose stack was scanned whole (no stack pointer known: running). */
  threads: number;
  threadsRunning: number;
  /** Threads whose registers were not read as roots: ptrace refused or they were gone, or all of them when the process ran. */
  threadsWithoutRegisters: number;
  /** How long reading every thread's registers took (the process stopped); null when it ran on and none were read. */
  registersMs: number | null;
  scanMs: number;
  /** How long the process was held stopped for the scan; null when it ran on (attached without --pause). */
  pausedMs: number | null;
}

export interface Totals {
  outstandingBytes: number;
  outstandingAllocations: number;
  allocations: number;
  /** The bytes of those allocations (absent in reports written before leakhound counted it). */
  allocatedBytes?: number;
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

/** What one suppression rule (--suppressions) hid from `stacks` and the outstanding totals. */
export interface SuppressionReport {
  /** The rule as written, `KIND:PATTERN`. */
  pattern: string;
  file: string;
  line: number;
  stacks: number;
  bytes: number;
  allocations: number;
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
  /** Stacks that allocated while traced and hold nothing counted outstanding
   * (all freed, or all younger than --older-than), most bytes allocated
   * first, bounded: bytes and allocations 0, `allocated` set. Together with
   * `stacks` and `churnOmitted` they account for every allocation traced. */
  churnStacks?: StackReport[];
  /** What the churn stacks beyond those listed allocated. */
  churnOmitted?: ChurnOmittedReport;
  /** Absent when descriptors, mappings or frees were not checked (kernel mode). */
  fds?: FdReport;
  mappings?: MappingReport;
  /** The first invalid frees, in the order seen. */
  invalidFrees?: InvalidFreeReport[];
  /** Invalid frees beyond those listed (the list is bounded). */
  invalidFreesOmitted?: number;
  /** --reachability: the scan of the target's memory. */
  reachability?: ReachabilityReport;
  /** Stacks that grew steadily over the intervals, fastest first (with --interval). */
  suspects?: SuspectReport[];
  /** The target's memory over the intervals (with --interval, a single target). */
  process?: ProcessMemoryReport;
  /** Every suppression rule given, in order, with what it hid (absent without --suppressions). */
  suppressions?: SuppressionReport[];
  /** The OOM kill this report was written at (the flight recorder); absent otherwise. */
  oom?: OomReport;
}

/** The kernel's OOM killer chose a traced process (or, in kernel mode, any
 * process): the report holds what was outstanding at that moment. */
export interface OomReport {
  /** The pid oom:mark_victim named. */
  victimPid: number;
  /** Its command name (the kernel's comm), when it could be had. */
  command: string | null;
  /** The victim's cgroup as /proc/PID/cgroup names it, in the hierarchy of
   * the memory controller (cgroup v2, or v1's memory hierarchy); null when
   * the victim was gone before it could be read. */
  cgroup: string | null;
  /** When leakhound read the event (ISO 8601; within one drain, 50 ms, of the kill). */
  at: string;
  /** The cgroup's limit (v2 memory.max, v1 memory.limit_in_bytes); null when unlimited or unread. */
  memoryMaxBytes: number | null;
  /** Its usage when read (memory.current, v1 memory.usage_in_bytes): the victim may be freeing already. */
  memoryCurrentBytes: number | null;
  /** Its counters when read (v2 memory.events: max, oom, oom_kill...; v1 memory.oom_control). */
  memoryEvents: Record<string, number> | null;
  /** The victim's memory as the kernel's record gives it (kernels after 6.1; null on 6.1). */
  victim: OomVictimMemory | null;
}

export interface OomVictimMemory {
  totalVmBytes: number;
  anonRssBytes: number;
  fileRssBytes: number;
  shmemRssBytes: number;
  pageTablesBytes: number;
  oomScoreAdj: number;
}
