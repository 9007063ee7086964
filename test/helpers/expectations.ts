// A fixture's expected figures, from test/fixtures/<name>.expect.json (or
// demo/<name>.expect.json): written by hand from the fixture's source and
// cross-checked with valgrind, never derived from leakhound's output.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fixtureBinaries, fixtureSources } from './paths.js';

export interface ExpectedSite {
  /** The allocator's caller; C++ names without their parameter list. */
  symbol: string;
  /** Bytes of each block (every block of a site has the same size). */
  size: number;
  /** Blocks still held at exit. */
  blocks: number;
}

export interface Expectation {
  binary: string;
  args: string[];
  exitCode: number;
  sites: ExpectedSite[];
  /** Functions that appear in no reported stack: everything they made was freed. */
  absent: string[];
  /** Attach fixture: sites held from before the attach, which valgrind sees and leakhound must not. */
  beforeAttach?: ExpectedSite[];
  /** Lower bounds: blocks made (realloc of an existing block not counted) and non-NULL frees. */
  ownCalls: { allocations: number; frees: number };
  /** Everything held at exit that the tracer could see, libc's and libstdc++'s blocks included. */
  inUseAtExit: { bytes: number; blocks: number };
}

export function loadExpectation(name: string, dir = fixtureSources): Expectation {
  return JSON.parse(readFileSync(path.join(dir, `${name}.expect.json`), 'utf8')) as Expectation;
}

export function fixtureBinary(e: Pick<Expectation, 'binary'>): string {
  return path.join(fixtureBinaries, e.binary);
}

export function siteBytes(site: ExpectedSite): number {
  return site.size * site.blocks;
}
