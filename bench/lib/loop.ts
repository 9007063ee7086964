// Runs bench/programs/malloc-loop under a tool and reads what it printed.
import { existsSync, readFileSync } from 'node:fs';

import type { Report } from '../../src/report/types.js';
import type { Bench } from './bench.js';
import { mallocLoop } from './paths.js';
import { CommandFailed, run, type Finished } from './proc.js';
import type { Tool } from './tools.js';

export interface LoopRun {
  /** ns per pair (per allocation with -l), one value per thread. */
  nsPerPair: number[];
  finished: Finished;
  /** leakhound's (or the floor's) report, when the tool writes one. */
  report: Report | null;
}

export function loopCommand(args: string[]): string[] {
  return [mallocLoop, ...args];
}

/** The per-thread lines malloc-loop prints: {"thread":i,"pairs":n,"ns_per_pair":x}. */
export function threadTimes(stdout: string): number[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{"thread"'))
    .map((line) => (JSON.parse(line) as { ns_per_pair: number }).ns_per_pair);
}

export function readReport(path: string): Report | null {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Report) : null;
}

export async function runLoop(bench: Bench, tool: Tool, args: string[], timeoutMs: number): Promise<LoopRun> {
  const out = bench.out(`loop-${tool.id}`);
  const finished = await run(tool.wrap(loopCommand(args), out), timeoutMs);
  const nsPerPair = threadTimes(finished.stdout);
  if (finished.code !== 0 || nsPerPair.length === 0) {
    throw new CommandFailed(`${tool.label}: malloc-loop ${args.join(' ')} exited ${finished.code ?? finished.signal}: ${finished.stderr.slice(-1500)}`);
  }
  return { nsPerPair, finished, report: readReport(`${out}.json`) };
}
