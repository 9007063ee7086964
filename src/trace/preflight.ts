// What must hold before any BPF is loaded; each failure is one clear line.
import { existsSync, readFileSync, realpathSync } from 'node:fs';

import { LeakhoundError } from '../errors.js';
import { runsInside } from '../target/cgroup-processes.js';
import { resolveCgroup } from './kernel-preflight.js';

const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;

function effectiveCapabilities(): bigint {
  const status = readFileSync('/proc/self/status', 'utf8');
  const match = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  return match ? BigInt(`0x${match[1]}`) : 0n;
}

export function checkPrivileges(): void {
  const caps = effectiveCapabilities();
  const has = (cap: bigint) => (caps >> cap) & 1n;
  if (has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON))) return;
  throw new LeakhoundError('EPERM', 'leakhound needs root, or CAP_BPF and CAP_PERFMON, to load BPF programs', 'run it with sudo');
}

export function checkBtf(path = '/sys/kernel/btf/vmlinux'): void {
  if (existsSync(path)) return;
  throw new LeakhoundError('NO_BTF', `this kernel has no BTF (${path} is missing)`, 'use a kernel built with CONFIG_DEBUG_INFO_BTF=y');
}

/** A cgroup v2 directory whose processes to trace, as a real path: not one
 * leakhound itself runs in, or it would trace itself. */
export function tracedCgroup(path: string): string {
  resolveCgroup(path);
  const dir = realpathSync(path);
  if (runsInside(dir)) throw new LeakhoundError('USAGE', `leakhound runs inside cgroup ${dir}, and would trace itself`, 'run leakhound from outside that cgroup');
  return dir;
}
