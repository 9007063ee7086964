// The only place that loads the addon. Everything native is typed here, and
// an addon built from a different record layout is refused.
import { createRequire } from 'node:module';

import { LeakhoundError } from '../errors.js';
import { type AddonLayout, type Counters, layoutMismatches, nameCounters } from './layout.js';
import type { Instruction } from '../target/probe-site.js';
import type { ElfReaderAddon } from './elf-types.js';

export interface TracerOptions {
  /** .rodata settings of the BPF object, by variable name. */
  knobs: Record<string, number>;
  /** Table sizes by map name. */
  maxEntries: Record<string, number>;
  /** Largest batch one drain() hands over. */
  batchBytes: number;
  /** Try uprobe_multi links (kernel 6.6+) before one link per probe; default true. */
  uprobeMulti?: boolean;
  /** Programs of the object not to load (another one does their job). */
  skipPrograms?: string[];
}

/** What the running kernel offers BPF programs (native/kernel-features.cc). */
export interface KernelFeatures {
  btf: boolean;
  ringBuffer: boolean;
  taskStorage: boolean;
  bpfLoop: boolean;
  attachCookie: boolean;
  rdonlyCast: boolean;
  uprobeMulti: boolean;
}

/** Both kernel clocks, read together by the object's read_clock program. */
export interface KernelClock {
  /** jiffies: what BPF stamps records with. */
  ticks: number;
  /** CLOCK_MONOTONIC nanoseconds. */
  ns: number;
}

/** Which BPF object a Tracer loads: user-space allocators, or the kernel's by tracepoints or by kprobes. */
export type TracerKind = 'user' | 'kernel' | 'kernel-kprobe';

export interface NativeTracer {
  /** Probes `program` at each offset of one object; each probe's cookie reaches the program. */
  attachUprobes(program: string, path: string, fileOffsets: number[], cookies: number[], pid: number, isReturn: boolean): void;
  attachTracepoint(program: string, category: string, name: string): void;
  /** One kprobe (or kretprobe) per kernel function, each with its cookie, which reaches the program. */
  attachKprobes(program: string, functions: string[], cookies: number[], isReturn: boolean): void;
  /** Whole ring-buffer records, or null when none are waiting. */
  drain(): Buffer | null;
  /** The summed per-CPU counters, in enum lh_counter order. */
  counters(): number[];
  /** Runs of our programs the kernel skipped (another BPF program was running on that CPU). */
  missedRuns(): number;
  /** Runs one of the object's unattached programs once; returns its return value. */
  run(program: string): number;
  /** The kernel's tick count and CLOCK_MONOTONIC, read together. */
  clock(): KernelClock;
  /** A stack's return addresses, innermost first; empty when unknown. */
  stack(id: number): BigUint64Array;
  /** The value under a key of a (not per-CPU) BPF map, or null: a number, or the key's bytes. */
  lookup(mapName: string, key: number | Buffer): Buffer | null;
  /** Writes `value` (the map's value size) under a key: a number, or the key's bytes. */
  update(mapName: string, key: number | Buffer, value: Buffer): void;
  /** Copies whole values into an mmap-able array map from entry `index` on. */
  writeArray(mapName: string, index: number, bytes: Buffer): void;
  /** Takes every probe off; the maps stay readable until close(). */
  detach(): void;
  close(): void;
}

export interface ExitStatus {
  /** As a shell reports it: the exit code, or 128 + the signal. */
  code: number;
  signal: number | null;
  /** CPU time (user + system) of the command and of the children it waited for. */
  cpuMs: number;
}

export type RunToTlsResult =
  | { state: 'ready'; syscalls: number }
  | { state: 'limit'; syscalls: number }
  | ({ state: 'exited' } & ExitStatus);

export interface ProcessControlAddon {
  spawnStopped(path: string, argv: string[], envp: string[]): number;
  runToTlsSetup(pid: number, maxSyscalls: number): RunToTlsResult;
  release(pid: number): void;
  /** Takes a stopped process as a tracee (for runToTlsSetup; release lets it go). */
  seize(pid: number): void;
  reap(pid: number): ExitStatus | null;
  /** Notes where each of these signals comes from (after process.on installed Node's handler). */
  watchSignalOrigins(signals: number[]): void;
  /** si_code and si_pid of the signal's last delivery. */
  signalOrigin(signal: number): { code: number; pid: number } | null;
}

/** [fileOffset, fileOffset + size) of a file. */
export interface FileExtent {
  fileOffset: number;
  size: number;
}

/** Why one extent of a decodeFunctions call was not decoded; the others were. */
export interface DecodeFailure {
  /** OUTSIDE_FILE: the extent does not lie wholly within the file. READ_FAILED: reading it failed (`errno`). */
  code: 'OUTSIDE_FILE' | 'READ_FAILED';
  errno?: number;
}

export interface InstructionDecoderAddon {
  /** Capstone's decoding of [fileOffset, fileOffset + size) of an object, at
   * most its first 64 KiB. Throws code ELF_INVALID for a missing or
   * unreadable file (or not a regular one), OUTSIDE_FILE or READ_FAILED as a
   * DecodeFailure names them. */
  decodeFunction(path: string, fileOffset: number, size: number): Instruction[];
  /** decodeFunction of each extent, in order, from one open of the file: an
   * extent that cannot be read gives a DecodeFailure instead. At most 4096
   * extents of 64 KiB in all (RangeError beyond). Throws code ELF_INVALID for
   * a missing or unreadable file. */
  decodeFunctions(path: string, extents: FileExtent[]): (Instruction[] | DecodeFailure)[];
}

/** An object's unwinding table (native/unwind-table.cc), as bpf/leakhound.h lays it out. */
export interface UnwindTable {
  /** Packed `struct lh_unwind_row`s (8 bytes each, little-endian), ascending
   * by `start`, a file offset; each rule holds up to the next row's start. */
  rows: Buffer;
  /** Packed `struct lh_unwind_page`s, one per 4 KiB of the file up to the end
   * of its last executable segment; `first` indexes this object's `rows`. */
  pages: Buffer;
  /** FDEs read from .eh_frame (or .debug_frame without one). */
  fdes: number;
  /** Rows of the CFI whose rule the BPF unwinder cannot follow (made LH_CFA_UNKNOWN). */
  unsupportedRows: number;
}

export interface UnwindTableAddon {
  /** Rows derived from the object's .eh_frame for unwinding x86-64 code without
   * frame pointers, and their page index. A malformed table gives what could be
   * read of it. Throws code ELF_INVALID for a missing, unreadable or non-ELF file. */
  unwindTable(path: string): UnwindTable;
}

export interface ThreadRegistersAddon {
  /** A thread's struct user_regs_struct (27 little-endian u64s), read by
   * ptrace seize/interrupt/getregs/detach; null when ptrace refused or the
   * thread is gone. For a thread of a stopped process only: it stays stopped. */
  threadRegisters(tid: number): Buffer | null;
}

export interface Addon extends ProcessControlAddon, ThreadRegistersAddon, ElfReaderAddon, InstructionDecoderAddon, UnwindTableAddon {
  layout: AddonLayout;
  /** Native failures are then thrown as `new cls(code, message)`, with `errno` and libbpf's `log` set. */
  setErrorClass(cls: typeof LeakhoundError): void;
  kernelFeatures(): KernelFeatures;
  Tracer: new (kind: TracerKind, options: TracerOptions) => NativeTracer;
}

/** The tracer's loss counters, named. */
export function readCounters(tracer: NativeTracer): Counters {
  return nameCounters(tracer.counters(), tracer.missedRuns());
}

let loaded: Addon | undefined;

export function addon(): Addon {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  let candidate: Addon;
  try {
    candidate = require('bindings')('leakhound') as Addon;
  } catch (error) {
    throw new LeakhoundError('NO_ADDON', `cannot load the native addon: ${(error as Error).message}`, 'run `make build`');
  }
  const mismatches = layoutMismatches(candidate.layout);
  if (mismatches.length > 0) {
    throw new LeakhoundError('LAYOUT_MISMATCH', `native addon was built for another event layout (${mismatches.join('; ')})`, 'run `make build`');
  }
  candidate.setErrorClass(LeakhoundError);
  loaded = candidate;
  return loaded;
}

/** A 32-bit map value, as tracer.update takes it. */
export function u32Value(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32LE(value);
  return buffer;
}
