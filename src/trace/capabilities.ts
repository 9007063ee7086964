// What the running kernel offers, probed before anything is loaded, and the
// choices leakhound makes from it: which stack walk runs, and whether this
// kernel can run leakhound at all. Each choice carries its reason, for
// --verbose and the report's `capabilities`.
import { readFileSync } from 'node:fs';
import { release } from 'node:os';

import { LeakhoundError } from '../errors.js';
import type { KernelFeatures } from '../native/binding.js';

/** The oldest kernel leakhound runs on: the newest feature it cannot do
 * without is bpf_loop (5.17), which bounds the stack walk's verification. */
export const MINIMUM_KERNEL = '5.17';

/** Features every mode needs, and the kernel that brought each. */
const REQUIRED: Record<'user' | 'kernel', [keyof KernelFeatures, string][]> = {
  user: [
    ['btf', '5.4 built with CONFIG_DEBUG_INFO_BTF'],
    ['ringBuffer', '5.8'],
    ['taskStorage', '5.11'],
    ['attachCookie', '5.15'],
    ['bpfLoop', '5.17'],
  ],
  kernel: [
    ['btf', '5.4 built with CONFIG_DEBUG_INFO_BTF'],
    ['ringBuffer', '5.8'],
  ],
};

/** Refuses, in one line, a kernel that lacks what `mode` cannot do without. */
export function requireFeatures(features: KernelFeatures, mode: 'user' | 'kernel', kernel = release()): void {
  const missing = REQUIRED[mode].filter(([feature]) => !features[feature]);
  if (missing.length === 0) return;
  const named = missing.map(([feature, since]) => `${feature} (Linux ${since})`).join(', ');
  throw new LeakhoundError('OLD_KERNEL', `this kernel (${kernel}) lacks BPF features leakhound needs: ${named}`, `use Linux ${MINIMUM_KERNEL} or later`);
}

/** How the user-stack walk reads frame records: through the kernel's direct
 * map with plain loads (fast), or one bpf_probe_read_user per record. */
export type StackWalk = 'direct-map' | 'copy';

export interface Choice<T extends string> {
  chosen: T;
  reason: string;
}

/** CPU flags of guests whose memory is encrypted or must be accepted before
 * it is touched (AMD SEV, SEV-ES, SEV-SNP; Intel TDX): reading physical
 * memory the guest never accepted can end the guest. A host that merely
 * supports SEV shows the flags too, and takes the portable walk as well. */
const CONFIDENTIAL_FLAGS = ['sev', 'sev_es', 'sev_snp', 'tdx_guest'];

export function confidentialGuest(cpuinfo: string): string | null {
  const flags = /^flags\s*:(.*)$/m.exec(cpuinfo)?.[1].trim().split(/\s+/) ?? [];
  return CONFIDENTIAL_FLAGS.find((flag) => flags.includes(flag)) ?? null;
}

export interface StackWalkInput {
  features: KernelFeatures;
  cpuinfo: string;
  /** One past the end of RAM; 0 when it could not be read. */
  physEnd: number;
  /** LEAKHOUND_STACK_WALK: forces one walk (tests and benchmarks). */
  forced: string | undefined;
  /** Whether kallsyms lists page_offset_base; asked only when all else allows the direct map. */
  exportsPageOffsetBase: () => boolean;
}

/** The direct map's base is readable only where kallsyms lists its variable
 * (CONFIG_KALLSYMS_ALL): checked here, before a load that would fail. */
export function kallsymsHasPageOffsetBase(path = '/proc/kallsyms'): boolean {
  return readFileSync(path, 'latin1').includes(' page_offset_base\n');
}

/** The direct-map walk where it is safe and possible, the copy otherwise. */
export function chooseStackWalk(input: StackWalkInput): Choice<StackWalk> {
  if (input.forced === 'copy' || input.forced === 'direct-map') return { chosen: input.forced, reason: 'forced by LEAKHOUND_STACK_WALK' };
  if (input.forced !== undefined && input.forced !== '') {
    throw new LeakhoundError('USAGE', `LEAKHOUND_STACK_WALK=${input.forced} is not a stack walk`, 'use direct-map or copy');
  }
  const guest = confidentialGuest(input.cpuinfo);
  if (guest) return { chosen: 'copy', reason: `confidential guest (CPU flag ${guest}): no reads through the direct map` };
  if (!input.features.rdonlyCast) return { chosen: 'copy', reason: 'the kernel has no bpf_rdonly_cast (Linux 6.2+)' };
  if (input.physEnd === 0) return { chosen: 'copy', reason: 'the end of RAM is unknown (/proc/iomem, /sys/devices/system/memory)' };
  if (!input.exportsPageOffsetBase()) return { chosen: 'copy', reason: 'the kernel does not export page_offset_base (built without CONFIG_KALLSYMS_ALL)' };
  return { chosen: 'direct-map', reason: 'the kernel has bpf_rdonly_cast' };
}

/** Why find_direct_map gave up (bpf/user-memory.bpf.h, enum direct_map_status). */
export function directMapFailure(status: number): string {
  switch (status) {
    case 1:
      return 'the kernel does not export page_offset_base';
    case 2:
      return 'page_offset_base could not be read';
    case 3:
      return 'the page tables do not lead back through page_offset_base';
    default:
      return `find_direct_map returned ${status}`;
  }
}

export function readCpuinfo(): string {
  return readFileSync('/proc/cpuinfo', 'utf8');
}

/** What a report says of the kernel it ran on and the paths taken. */
export interface Capabilities {
  kernel: string;
  features: KernelFeatures;
  stackWalk?: Choice<StackWalk>;
  attach?: Choice<string>;
  /** What could not be used on this kernel, and what the report lacks for it. */
  missing: string[];
}
