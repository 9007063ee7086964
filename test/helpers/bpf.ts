// The gate for every test that loads BPF. Where BPF cannot load, a developer's
// run skips with the reason, but CI fails: a green CI must mean these ran.
// Only root and BTF are checked; a real load failure fails the test anyway.
import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';

export function bpfUnavailable(): string | null {
  if (process.geteuid?.() !== 0) return 'loading BPF programs needs root';
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'this kernel has no BTF (/sys/kernel/btf/vmlinux)';
  return null;
}

/** True when the test may go on; otherwise skips it, or throws under CI. */
export function requireBpf(t: TestContext): boolean {
  const reason = bpfUnavailable();
  if (reason === null) return true;
  if (process.env.CI === 'true') throw new Error(`BPF test cannot run in CI: ${reason}`);
  t.skip(reason);
  return false;
}
