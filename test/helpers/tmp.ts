// A scratch directory per test, removed when the test ends.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';

export function scratchDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leakhound-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
