// Debian's prometheus package: promtool for the rules, and a real server
// that scrapes leakhound. A developer's run without it skips; CI fails.
import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';

export const PROMTOOL = '/usr/bin/promtool';
export const PROMETHEUS = '/usr/bin/prometheus';

/** True when `tool` is installed; otherwise skips the test, or throws under CI. */
export function requirePrometheusTool(t: TestContext, tool: string): boolean {
  if (existsSync(tool)) return true;
  const reason = `${tool} is missing: install Debian's prometheus package (make deps)`;
  if (process.env.CI === 'true') throw new Error(`Prometheus test cannot run in CI: ${reason}`);
  t.skip(reason);
  return false;
}
