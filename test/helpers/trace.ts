// Traces a command to its end with `leakhound trace --json FILE` and reads the report.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { runCli, type CliRun } from './cli.js';
import { readReport, type Report } from './report.js';
import { scratchDir } from './tmp.js';

export async function traceCommand(
  t: TestContext,
  command: string[],
  options: string[] = [],
  input = '',
): Promise<{ run: CliRun; report: Report }> {
  const json = path.join(scratchDir(t), 'report.json');
  // A minute: in the kernel matrix's emulated VMs, attaching and removing
  // one link per probe (6.1) takes seconds per dozen probes.
  const run = await runCli(['trace', '--json', json, ...options, '--', ...command], input, 60_000);
  assert.ok(existsSync(json), `no report; leakhound exited ${run.code} (${run.signal}); stderr: ${run.stderr}`);
  return { run, report: readReport(json) };
}
