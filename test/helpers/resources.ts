// The report's resource sections (issue 20) as the e2e tests read them:
// descriptors and mappings held by the stack that made them, and invalid
// frees. Written from the contract, independently of src/.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Report, ReportFrame } from './report.js';
import { isSymbol } from './symbols.js';

export interface FdStack {
  count: number;
  /** Descriptors per kind (file, socket, pipe, eventfd, ...). */
  kinds: Record<string, number>;
  /** A few of the descriptors' names: paths, "AF_INET 127.0.0.1:80". */
  examples: string[];
  /** Innermost first: the libc wrapper, then its caller. */
  frames: ReportFrame[];
  partial?: boolean;
}

export interface MappingStack {
  bytes: number;
  count: number;
  kind: 'anonymous' | 'file' | 'allocator' | 'thread-stack' | 'loader';
  frames: ReportFrame[];
  partial?: boolean;
}

export interface InvalidFree {
  kind: 'double-free' | 'unknown-pointer';
  address: string;
  /** From free's caller outwards. */
  frames: ReportFrame[];
  previousFree: { frames: ReportFrame[] } | null;
}

export interface ResourceReport extends Report {
  fds?: { outstanding: number; opened: number; closed: number; stacks: FdStack[] } | null;
  mappings?: { outstandingBytes: number; outstanding: number; stacks: MappingStack[] } | null;
  invalidFrees?: InvalidFree[];
  /** Invalid frees beyond those listed. */
  invalidFreesOmitted?: number;
}

/** The report with the sections a test needs, each checked to be there. */
export function withFds(report: Report): NonNullable<ResourceReport['fds']> {
  const fds = (report as ResourceReport).fds;
  assert.ok(fds && Array.isArray(fds.stacks), `the report has an fds section: ${JSON.stringify(fds)}`);
  return fds;
}

export function withMappings(report: Report): NonNullable<ResourceReport['mappings']> {
  const mappings = (report as ResourceReport).mappings;
  assert.ok(mappings && Array.isArray(mappings.stacks), `the report has a mappings section: ${JSON.stringify(mappings)}`);
  return mappings;
}

export function invalidFrees(report: Report): InvalidFree[] {
  const frees = (report as ResourceReport).invalidFrees;
  assert.ok(Array.isArray(frees), `the report has invalidFrees: ${JSON.stringify(frees)}`);
  return frees;
}

/**
 * The site of a resource's stack: the first frame, not inlined, in `module`
 * (the fixture), past the C library's wrapper and whatever it calls. Null
 * when no frame is in the fixture.
 */
export function siteIn(frames: ReportFrame[], module: string): string | null {
  return frames.find((f) => f.inlined !== true && f.module === module)?.symbol ?? null;
}

export function describeFrames(frames: ReportFrame[]): string {
  return frames.length === 0 ? '(no frames)' : frames.map((f) => f.symbol ?? f.address).join(' <- ');
}

export interface FdSite {
  count: number;
  kinds: Record<string, number>;
  examples: string[];
}

/** Descriptors by site: counts and kinds summed over the site's stacks, zero kinds left out. */
export function fdSites(stacks: FdStack[], module: string): Map<string, FdSite> {
  const sites = new Map<string, FdSite>();
  for (const stack of stacks) {
    const site = siteIn(stack.frames, module) ?? `(outside ${module}: ${describeFrames(stack.frames)})`;
    const entry = sites.get(site) ?? { count: 0, kinds: {}, examples: [] };
    entry.count += stack.count;
    for (const [kind, n] of Object.entries(stack.kinds)) if (n !== 0) entry.kinds[kind] = (entry.kinds[kind] ?? 0) + n;
    entry.examples.push(...stack.examples);
    sites.set(site, entry);
  }
  return sites;
}

export interface MappingSite {
  bytes: number;
  count: number;
  kinds: string[];
}

/** Mappings by site: bytes and counts summed, the kinds seen there (sorted). */
export function mappingSites(stacks: MappingStack[], module: string): Map<string, MappingSite> {
  const sites = new Map<string, MappingSite>();
  for (const stack of stacks) {
    const site = siteIn(stack.frames, module);
    if (site === null) continue;
    const entry = sites.get(site) ?? { bytes: 0, count: 0, kinds: [] };
    entry.bytes += stack.bytes;
    entry.count += stack.count;
    if (!entry.kinds.includes(stack.kind)) entry.kinds = [...entry.kinds, stack.kind].sort();
    sites.set(site, entry);
  }
  return sites;
}

/** The stacks with `symbol` in any frame. */
export function mentioning<S extends { frames: ReportFrame[] }>(stacks: S[], symbol: string): S[] {
  return stacks.filter((s) => s.frames.some((f) => isSymbol(f.symbol, symbol)));
}

/** The first frame not inlined: the function that called free. */
export function callerOf(frames: ReportFrame[]): string | null {
  return frames.find((f) => f.inlined !== true)?.symbol ?? null;
}

/** A folded file's lines (`a;b;c 123`) as frames and count; every line must be one. */
export function readFolded(file: string): Array<{ frames: string[]; count: number }> {
  const text = readFileSync(file, 'utf8');
  const lines = [...text.matchAll(/^(.+) (\d+)$/gm)].map((m) => ({ frames: m[1]!.split(';'), count: Number(m[2]) }));
  assert.equal(lines.length, text.split('\n').filter((line) => line !== '').length, `every line of ${file} is folded: ${text}`);
  return lines;
}
