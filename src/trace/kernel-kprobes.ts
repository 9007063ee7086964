// `leakhound kernel --attach kprobe`: which slab allocator functions this
// kernel has, how bpf/kernel-kprobe.bpf.c must read each one's arguments
// (the attach cookie), and which must be there for the figures to be whole.
import { readFileSync } from 'node:fs';

import { LeakhoundError } from '../errors.js';

/** How the entry program sizes a call (enum kprobe_kind in bpf/kernel-kprobe.bpf.c). */
export const KprobeKind = {
  /** kmem_cache_alloc*: the cache's object size and its name. */
  cache: 1,
  /** kmalloc from a kmalloc cache the caller chose: the cache's object size. */
  kmallocCache: 2,
  /** kmalloc by byte count: the size of SLUB's bucket for it. */
  kmalloc: 3,
  /** kmalloc beyond the caches: whole pages (left to the page allocator's tracepoint). */
  large: 4,
} as const;
export type KprobeKindName = keyof typeof KprobeKind;

export interface AllocFunction {
  name: string;
  kind: KprobeKindName;
  /** The parameter the BPF program reads: the struct kmem_cache * (`s`) or the byte count (`size`). */
  param: 's' | 'size';
  /** Its position when the kernel's BTF does not say. */
  position: number;
}

/** Allocation entry points of SLUB, before 6.1, in 6.1-6.9, and with the
 * `_noprof` names of 6.10+ (memory allocation profiling). Each fires the
 * kmem:kmalloc or kmem:kmem_cache_alloc tracepoint itself. */
export const ALLOC_FUNCTIONS: readonly AllocFunction[] = [
  // 6.1-6.9
  { name: 'kmalloc_trace', kind: 'kmallocCache', param: 's', position: 0 },
  { name: 'kmalloc_node_trace', kind: 'kmallocCache', param: 's', position: 0 },
  { name: '__kmalloc', kind: 'kmalloc', param: 'size', position: 0 },
  { name: '__kmalloc_node', kind: 'kmalloc', param: 'size', position: 0 },
  { name: '__kmalloc_node_track_caller', kind: 'kmalloc', param: 'size', position: 0 },
  { name: 'kmalloc_large', kind: 'large', param: 'size', position: 0 },
  { name: 'kmalloc_large_node', kind: 'large', param: 'size', position: 0 },
  { name: 'kmem_cache_alloc', kind: 'cache', param: 's', position: 0 },
  { name: 'kmem_cache_alloc_lru', kind: 'cache', param: 's', position: 0 },
  { name: 'kmem_cache_alloc_node', kind: 'cache', param: 's', position: 0 },
  // before 6.1
  { name: 'kmem_cache_alloc_trace', kind: 'kmallocCache', param: 's', position: 0 },
  { name: 'kmem_cache_alloc_node_trace', kind: 'kmallocCache', param: 's', position: 0 },
  // 6.10+
  { name: '__kmalloc_cache_noprof', kind: 'kmallocCache', param: 's', position: 0 },
  { name: '__kmalloc_cache_node_noprof', kind: 'kmallocCache', param: 's', position: 0 },
  { name: '__kmalloc_noprof', kind: 'kmalloc', param: 'size', position: 0 },
  { name: '__kmalloc_node_noprof', kind: 'kmalloc', param: 'size', position: 0 },
  { name: '__kmalloc_node_track_caller_noprof', kind: 'kmalloc', param: 'size', position: 0 },
  { name: '__kmalloc_large_noprof', kind: 'large', param: 'size', position: 0 },
  { name: '__kmalloc_large_node_noprof', kind: 'large', param: 'size', position: 0 },
  { name: 'kmem_cache_alloc_noprof', kind: 'cache', param: 's', position: 0 },
  { name: 'kmem_cache_alloc_lru_noprof', kind: 'cache', param: 's', position: 0 },
  { name: 'kmem_cache_alloc_node_noprof', kind: 'cache', param: 's', position: 0 },
];

export interface FreeFunction {
  name: string;
  /** Where the freed pointer is. */
  position: number;
}

/** Each fires kmem:kfree or kmem:kmem_cache_free itself. */
export const FREE_FUNCTIONS: readonly FreeFunction[] = [
  { name: 'kfree', position: 0 },
  { name: 'kmem_cache_free', position: 1 },
];

/** Each group needs one function this kernel has: kmalloc from a cache and
 * by byte count, kmem_cache_alloc, and both frees. */
export const REQUIRED: readonly (readonly string[])[] = [
  ['kmalloc_trace', '__kmalloc_cache_noprof', 'kmem_cache_alloc_trace'],
  ['__kmalloc', '__kmalloc_noprof'],
  ['kmem_cache_alloc', 'kmem_cache_alloc_noprof'],
  ['kfree'],
  ['kmem_cache_free'],
];

/** The raw tracepoints the kprobe object keeps: pages and per-CPU blocks. */
export const KPROBE_OBJECT_TRACEPOINTS = [
  'kmem:mm_page_alloc',
  'kmem:mm_page_free',
  'kmem:mm_page_free_batched',
  'percpu:percpu_alloc_percpu',
  'percpu:percpu_free_percpu',
] as const;

/** One program's probes, ready for NativeTracer.attachKprobes. */
export interface KprobeSet {
  program: 'alloc_entry' | 'alloc_return' | 'free_entry';
  functions: string[];
  cookies: number[];
  isReturn: boolean;
}

/** The attach cookie of an allocation function: kind in bits 0-3, the
 * argument's position in bits 4-7 (the cache) or 8-11 (the byte count). */
export function allocCookie(kind: KprobeKindName, param: 's' | 'size', position: number): number {
  if (!Number.isInteger(position) || position < 0 || position > 4) throw new RangeError(`argument position ${position} is out of range 0-4`);
  return KprobeKind[kind] | (position << (param === 's' ? 4 : 8));
}

/** Names of the kernel's own text symbols (no modules). Local clones the
 * compiler made (`.cold`, `.isra.0`, `.constprop.0`) are not the function. */
export function kernelFunctions(kallsyms: string): Set<string> {
  const names = new Set<string>();
  for (const line of kallsyms.split('\n')) {
    const [, type, name, module] = line.split(/\s+/);
    if (name === undefined || module !== undefined || !/^[tTwW]$/.test(type ?? '') || name.includes('.')) continue;
    names.add(name);
  }
  return names;
}

/** Where each function's parameter is, from the kernel's BTF; unknown
 * functions or parameters are absent. */
export type ParamPositions = (fn: string, param: string) => number | undefined;

/** The probes for a kernel with these functions; refuses a kernel that
 * lacks a required one. */
export function planKprobes(functions: Set<string>, positions: ParamPositions = () => undefined): KprobeSet[] {
  const missing = REQUIRED.filter((group) => !group.some((name) => functions.has(name)));
  if (missing.length > 0) {
    throw new LeakhoundError(
      'NO_KPROBE_TARGETS',
      `this kernel has none of the allocator functions ${missing.map((group) => group.join('/')).join(', ')} to probe`,
      'use --attach tracepoint',
    );
  }
  const allocs = ALLOC_FUNCTIONS.filter((fn) => functions.has(fn.name));
  const cookies = allocs.map((fn) => allocCookie(fn.kind, fn.param, positions(fn.name, fn.param) ?? fn.position));
  const frees = FREE_FUNCTIONS.filter((fn) => functions.has(fn.name));
  const names = allocs.map((fn) => fn.name);
  return [
    { program: 'alloc_entry', functions: names, cookies, isReturn: false },
    { program: 'alloc_return', functions: names, cookies, isReturn: true },
    { program: 'free_entry', functions: frees.map((fn) => fn.name), cookies: frees.map((fn) => fn.position), isReturn: false },
  ];
}

/** planKprobes for the running kernel: /proc/kallsyms and its BTF. */
export function planRunningKernel(kallsymsPath = '/proc/kallsyms', btfPath = '/sys/kernel/btf/vmlinux'): KprobeSet[] {
  const functions = kernelFunctions(readFileSync(kallsymsPath, 'latin1'));
  let params: Map<string, string[]> | undefined;
  try {
    params = functionParams(readFileSync(btfPath), new Set(ALLOC_FUNCTIONS.map((fn) => fn.name)));
  } catch {
    params = undefined; // the table's positions stand
  }
  return planKprobes(functions, (fn, param) => {
    const at = params?.get(fn)?.indexOf(param);
    return at === undefined || at < 0 ? undefined : at;
  });
}

const BTF_MAGIC = 0xeb9f;
const BTF_KIND_FUNC = 12;
const BTF_KIND_FUNC_PROTO = 13;

/** Bytes that follow a type's 12-byte header, by kind (include/uapi/linux/btf.h). */
function extraBytes(kind: number, vlen: number): number {
  switch (kind) {
    case 1: // INT
    case 14: // VAR
    case 17: // DECL_TAG
      return 4;
    case 3: // ARRAY
      return 12;
    case 4: // STRUCT
    case 5: // UNION
    case 15: // DATASEC
    case 19: // ENUM64
      return 12 * vlen;
    case 6: // ENUM
    case 13: // FUNC_PROTO
      return 8 * vlen;
    default: // PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FLOAT, TYPE_TAG
      return 0;
  }
}

/** The parameter names of the wanted functions, from a raw BTF blob
 * (/sys/kernel/btf/vmlinux). */
export function functionParams(btf: Buffer, wanted: Set<string>): Map<string, string[]> {
  if (btf.readUInt16LE(0) !== BTF_MAGIC) throw new Error('not BTF (or not little-endian)');
  const headerLength = btf.readUInt32LE(4);
  const typeStart = headerLength + btf.readUInt32LE(8);
  const typeEnd = typeStart + btf.readUInt32LE(12);
  const stringStart = headerLength + btf.readUInt32LE(16);
  const string = (offset: number) => {
    const start = stringStart + offset;
    return btf.toString('latin1', start, btf.indexOf(0, start));
  };
  // Offsets of every FUNC_PROTO by type id, and the FUNCs wanted.
  const protos = new Map<number, number>();
  const funcs: [string, number][] = [];
  for (let at = typeStart, id = 1; at < typeEnd; id++) {
    const info = btf.readUInt32LE(at + 4);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    if (kind === BTF_KIND_FUNC_PROTO) protos.set(id, at);
    else if (kind === BTF_KIND_FUNC) {
      const name = string(btf.readUInt32LE(at));
      if (wanted.has(name)) funcs.push([name, btf.readUInt32LE(at + 8)]);
    }
    at += 12 + extraBytes(kind, vlen);
  }
  const out = new Map<string, string[]>();
  for (const [name, protoId] of funcs) {
    const at = protos.get(protoId);
    if (at === undefined) continue;
    const vlen = btf.readUInt32LE(at + 4) & 0xffff;
    out.set(name, Array.from({ length: vlen }, (_, i) => string(btf.readUInt32LE(at + 12 + 8 * i))));
  }
  return out;
}
