// Runs bench/programs/malloc-loop under a tool and reads what it printed.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import type { Report } from '../../src/report/types.js';
import type { Bench } from './bench.js';
import { mallocLoop } from './paths.js';
import { CommandFailed, run, type Finished } from './proc.js';
import type { Tool } from './tools.js';

export interface LoopRun {
  /** Wall ns per pair (per allocation with -l), one value per thread. */
  nsPerPair: number[];
  /** The thread's own CPU time per pair, one value per thread. */
  cpuNsPerPair: number[];
  finished: Finished;
  /** leakhound's (or the floor's) report, when the tool writes one. */
  report: Report | null;
}

/** `program`: malloc-loop, or the same loop built otherwise (malloc-loop-nofp). */
export function loopCommand(args: string[], program = mallocLoop): string[] {
  return [program, ...args];
}

interface ThreadLine {
  ns_per_pair: number;
  cpu_ns_per_pair: number;
}

/** The per-thread lines malloc-loop prints: {"thread":i,"pairs":n,"ns_per_pair":x,"cpu_ns_per_pair":y}. */
export function threadLines(stdout: string): ThreadLine[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{"thread"'))
    .map((line) => JSON.parse(line) as ThreadLine);
}

export function readReport(path: string): Report | null {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Report) : null;
}

export async function runLoop(bench: Bench, tool: Tool, args: string[], timeoutMs: number, program = mallocLoop): Promise<LoopRun> {
  const out = bench.out(`loop-${tool.id}`);
  const finished = await run(tool.wrap(loopCommand(args, program), out), timeoutMs);
  const lines = threadLines(finished.stdout);
  if (finished.code !== 0 || lines.length === 0) {
    throw new CommandFailed(`${tool.label}: ${path.basename(program)} ${args.join(' ')} exited ${finished.code ?? finished.signal}: ${finished.stderr.slice(-1500)}`);
  }
  return {
    nsPerPair: lines.map((line) => line.ns_per_pair),
    cpuNsPerPair: lines.map((line) => line.cpu_ns_per_pair),
    finished,
    report: readReport(`${out}.json`),
  };
}
