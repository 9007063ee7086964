// What `leakhound kernel` needs from this kernel and from its arguments,
// checked before anything is loaded; each failure is one clear line.
import { existsSync, readFileSync, realpathSync, statfsSync, statSync } from 'node:fs';
import { relative } from 'node:path';

import { LeakhoundError } from '../errors.js';

export type AttachMethod = 'tracepoint' | 'kprobe';
export const ATTACH_CHOICES = ['auto', 'tracepoint', 'kprobe'] as const;
export type AttachChoice = (typeof ATTACH_CHOICES)[number];

const KPROBE_PMU = '/sys/bus/event_source/devices/kprobe';
const CGROUP2_SUPER_MAGIC = 0x63677270;

/** Those of the `category:name` tracepoints this kernel lacks. Tracepoint
 * `x` exists when the kernel's BTF has its `btf_trace_x` typedef, which the
 * kernel declares for every tracepoint; the name is looked up whole in BTF's
 * string table. */
export function missingTracepoints(tracepoints: readonly string[], btfPath = '/sys/kernel/btf/vmlinux'): string[] {
  const btf = readFileSync(btfPath);
  return tracepoints.filter((tracepoint) => btf.indexOf(`\0btf_trace_${tracepoint.split(':')[1]}\0`, 0, 'latin1') < 0);
}

/** The kprobe PMU is registered only when the kernel has CONFIG_KPROBES. */
export function kprobesAvailable(pmuPath = KPROBE_PMU): boolean {
  return existsSync(pmuPath);
}

/** The slab allocator's tracepoints where the kernel has them all (a stable
 * interface, and cheap), else kprobes on the slab allocator's functions;
 * refuses what this kernel cannot do. `missing` are the slab tracepoints
 * the kernel lacks (pages and per-CPU blocks are optional either way). */
export function chooseAttach(choice: AttachChoice, missing: string[], hasKprobes: boolean): AttachMethod {
  const lacks = `this kernel lacks the tracepoints ${missing.join(', ')}`;
  if (choice === 'tracepoint' || (choice === 'auto' && missing.length === 0)) {
    if (missing.length > 0) throw new LeakhoundError('NO_TRACEPOINTS', lacks, hasKprobes ? 'try --attach kprobe' : undefined);
    return 'tracepoint';
  }
  if (!hasKprobes) {
    const noKprobes = 'has no kprobes (it was built without CONFIG_KPROBES)';
    if (missing.length === 0) throw new LeakhoundError('NO_KPROBES', `this kernel ${noKprobes}`, 'use --attach tracepoint');
    throw new LeakhoundError('NO_KPROBES', `${lacks} and ${noKprobes}`);
  }
  return 'kprobe';
}

export function checkPid(pid: number): void {
  if (!existsSync(`/proc/${pid}`)) throw new LeakhoundError('NO_PROCESS', `process ${pid} does not exist`, 'check the PID with ps');
}

export interface CgroupTarget {
  /** What bpf_get_current_ancestor_cgroup_id() returns for it: its inode number. */
  id: number;
  /** Its depth below the cgroup v2 root (the root is 0). */
  level: number;
}

/** A cgroup v2 directory, as its id and depth; tasks in it or below it match.
 * The depth counts from the mount's root, which is the hierarchy's root
 * unless leakhound runs inside a cgroup namespace. */
export function resolveCgroup(path: string, mountinfo = '/proc/self/mountinfo'): CgroupTarget {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw new LeakhoundError('USAGE', `cgroup ${path} does not exist`, 'give a directory under /sys/fs/cgroup');
  }
  const stat = statSync(real, { bigint: true });
  if (!stat.isDirectory() || statfsSync(real).type !== CGROUP2_SUPER_MAGIC) {
    throw new LeakhoundError('USAGE', `${path} is not a cgroup v2 directory`, 'give a directory under /sys/fs/cgroup');
  }
  if (stat.ino > BigInt(Number.MAX_SAFE_INTEGER)) throw new LeakhoundError('USAGE', `cgroup ${path} has an id too large to filter on`);
  const mount = cgroup2Mounts(mountinfo)
    .filter((point) => real === point || real.startsWith(point === '/' ? '/' : `${point}/`))
    .sort((a, b) => b.length - a.length)[0];
  const below = relative(mount ?? real, real);
  return { id: Number(stat.ino), level: below === '' ? 0 : below.split('/').length };
}

/** Mount points of cgroup2 file systems (mountinfo's fifth field). */
function cgroup2Mounts(mountinfo: string): string[] {
  return readFileSync(mountinfo, 'utf8')
    .split('\n')
    .map((line) => line.split(' - '))
    .filter(([, after]) => after?.startsWith('cgroup2 '))
    .map(([before]) => before.split(' ')[4].replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))));
}
