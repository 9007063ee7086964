// Where the benchmarks find leakhound, their own programs and scripts.
// This file runs compiled from dist/bench/lib/: the repository is three up.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const cliPath = path.join(repoRoot, 'dist/src/cli/main.js');
export const runnerPath = path.join(repoRoot, 'dist/bench/tools/trace-runner.js');
export const benchSources = path.join(repoRoot, 'bench');
const benchBinaries = path.join(repoRoot, '.output/bench');
export const mallocLoop = path.join(benchBinaries, 'malloc-loop');
/** The same loop built as Debian builds its programs: no frame pointers (bench/Makefile). */
export const mallocLoopNoFp = path.join(benchBinaries, 'malloc-loop-nofp');
export const newLoop = path.join(benchBinaries, 'new-loop');
/** test/fixtures/libcetmalloc.c, built by `make build` with the fixtures. */
export const cetAllocator = path.join(repoRoot, '.output/fixtures/libcetmalloc.so');
export const resultsPath = path.join(benchSources, 'RESULTS.md');

/** A fresh scratch directory for one run of the suite. */
export function makeScratch(): string {
  return mkdtempSync(path.join(tmpdir(), 'leakhound-bench-'));
}

/** Paths as shown in RESULTS.md: relative to the repository where possible. */
export function shown(p: string): string {
  return p.startsWith(`${repoRoot}/`) ? p.slice(repoRoot.length + 1) : p;
}
