// Tick stamps -> the --older-than cut.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { bornBeforeTick, tickRate } from '../../src/report/ticks.js';

const boot = (hz: number, seconds: number, lagTicks = 0) => ({ ticks: 2 ** 32 - 300 * hz + seconds * hz - lagTicks, ns: seconds * 1e9 });

test('the tick rate is the one whose ticks since boot match the nanosecond clock', () => {
  // Read on the development VM: HZ=250, jiffies 80 ticks behind the clock.
  assert.equal(tickRate({ ticks: 4_297_481_306, ns: 10_356_363_880_513 }), 250);
  for (const hz of [100, 250, 300, 1000]) {
    assert.equal(tickRate(boot(hz, 30)), hz, `${hz} Hz, 30 s after boot`);
    assert.equal(tickRate(boot(hz, 86_400 * 40, 500)), hz, `${hz} Hz, 40 days after boot`);
  }
});

test('--older-than asks a tick more than the age, so nothing younger counts', () => {
  const clock = boot(250, 1000);
  // 1 s = 250 ticks; a stamp places an allocation anywhere within its tick.
  assert.equal(bornBeforeTick(clock, 1000), clock.ticks - 251);
  assert.equal(bornBeforeTick(clock, 1), clock.ticks - 2);
  assert.equal(bornBeforeTick(clock, 0), Infinity);
});
