// Records carry the kernel's tick count (jiffies), not nanoseconds: reading
// the nanosecond clock cost ~100 ns per allocation on the VMs leakhound was
// measured on, ticks cost nothing. Ages are therefore known to a tick
// (4 ms at HZ=250), and --older-than is applied in ticks.

import type { KernelClock } from '../native/binding.js';

/** CONFIG_HZ choices on x86. */
const TICK_RATES = [100, 250, 300, 1000];

/** jiffies start five minutes short of wrapping 32 bits, so wrap bugs show early. */
const initialTicks = (hz: number) => 2 ** 32 - 300 * hz;

/** The kernel's tick rate: the one whose ticks since boot agree with the nanosecond clock. */
export function tickRate(clock: KernelClock): number {
  const drift = (hz: number) => Math.abs(clock.ticks - initialTicks(hz) - (clock.ns * hz) / 1e9);
  return TICK_RATES.reduce((best, hz) => (drift(hz) < drift(best) ? hz : best));
}

/**
 * The newest tick an allocation may carry and be at least `olderThanMs` old
 * for certain: a tick stamp places an allocation anywhere within its tick,
 * so one tick more is asked. Everything counts when olderThanMs is 0.
 */
export function bornBeforeTick(clock: KernelClock, olderThanMs: number): number {
  if (olderThanMs <= 0) return Infinity;
  return clock.ticks - 1 - Math.ceil((olderThanMs * tickRate(clock)) / 1000);
}
