// Suppression files (--suppressions): which heap stacks a user has judged not
// to be leaks, in lines modelled on LeakSanitizer's (`leak:PATTERN`) with
// valgrind's frame kinds (`fun:`, `obj:`) and a source-file kind (`src:`).
// Parsing, matching and applying to a report are pure; reading the file is
// the CLI's.

import { LeakhoundError } from '../errors.js';
import type { Frame, ReachabilityClasses, ReachabilityReport, Report, StackReport, SuppressionReport } from './types.js';

/** What a pattern is matched against in each frame. */
export type SuppressionKind = 'leak' | 'fun' | 'obj' | 'src';

export const SUPPRESSION_KINDS: readonly SuppressionKind[] = ['leak', 'fun', 'obj', 'src'];

export interface Suppression {
  kind: SuppressionKind;
  /** As written after the colon. */
  pattern: string;
  file: string;
  /** 1-based. */
  line: number;
  /** The pattern, whole-name, `*` any run of characters, `?` one character. */
  regex: RegExp;
}

function wildcardRegex(pattern: string): RegExp {
  const body = [...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, 's');
}

function badLine(file: string, line: number, what: string, hint: string): never {
  throw new LeakhoundError('USAGE', `${file}:${line}: ${what}`, hint);
}

const FORMAT_HINT = 'write one KIND:PATTERN a line, KIND one of leak, fun, obj, src (see the README)';

/**
 * The rules of one suppression file's text, in order. Blank lines and lines
 * starting with `#` are skipped; any other line must be KIND:PATTERN.
 */
export function parseSuppressions(text: string, file: string): Suppression[] {
  const rules: Suppression[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const entry = raw.trim();
    if (entry === '' || entry.startsWith('#')) return;
    if (entry === '{' || entry === '}') {
      badLine(file, line, "valgrind's { ... } blocks are not read", 'write each frame rule as its own fun:PATTERN or obj:PATTERN line');
    }
    const colon = entry.indexOf(':');
    if (colon < 0) badLine(file, line, `${JSON.stringify(entry)} is not KIND:PATTERN`, FORMAT_HINT);
    const kind = entry.slice(0, colon).trim();
    const pattern = entry.slice(colon + 1).trim();
    if (!(SUPPRESSION_KINDS as readonly string[]).includes(kind)) {
      badLine(file, line, `unknown suppression kind ${JSON.stringify(kind)}`, FORMAT_HINT);
    }
    if (pattern === '') badLine(file, line, `${kind}: has no pattern`, 'e.g. fun:my_cache_* or obj:*/libfoo.so*');
    rules.push({ kind: kind as SuppressionKind, pattern, file, line, regex: wildcardRegex(pattern) });
  });
  return rules;
}

/** A path matches by its whole text or by its last component alone. */
function pathMatches(regex: RegExp, path: string | null): boolean {
  if (path === null) return false;
  return regex.test(path) || regex.test(path.slice(path.lastIndexOf('/') + 1));
}

function frameMatches(rule: Suppression, frame: Frame): boolean {
  const fun = rule.kind === 'fun' || rule.kind === 'leak';
  const obj = rule.kind === 'obj' || rule.kind === 'leak';
  const src = rule.kind === 'src' || rule.kind === 'leak';
  return (fun && frame.symbol !== null && rule.regex.test(frame.symbol)) || (obj && pathMatches(rule.regex, frame.module)) || (src && pathMatches(rule.regex, frame.file));
}

/** The first rule that matches any frame of the stack, or null. */
export function matchSuppression(rules: readonly Suppression[], stack: Pick<StackReport, 'frames'>): Suppression | null {
  return rules.find((rule) => stack.frames.some((frame) => frameMatches(rule, frame))) ?? null;
}

/**
 * The report without the heap stacks a rule matches, its outstanding totals
 * and partial-stack count lowered by theirs, and what each rule hid (every
 * rule listed, in order, those that hid nothing with zeros: a stale rule
 * shows). A stack is counted once, by the first rule that matches it.
 * Suspects keep pointing at their stacks; a hidden stack's suspect goes too,
 * and the reachability scan's class totals lose its blocks. Churn stacks a
 * rule matches go too, untallied (they hold nothing). Per-process figures,
 * the allocation totals, descriptors and mappings are left as traced.
 */
export function applySuppressions(report: Report, rules: readonly Suppression[]): Report {
  if (rules.length === 0) return report;
  const hidden = new Map<Suppression, SuppressionReport>(
    rules.map((rule) => [rule, { pattern: `${rule.kind}:${rule.pattern}`, file: rule.file, line: rule.line, stacks: 0, bytes: 0, allocations: 0 }]),
  );
  const kept: StackReport[] = [];
  const dropped: StackReport[] = [];
  /** Old stack index -> new, for what refers to stacks by index. */
  const moved = new Map<number, number>();
  let partial = 0;
  for (const [i, stack] of report.stacks.entries()) {
    const rule = matchSuppression(rules, stack);
    if (rule === null) {
      moved.set(i, kept.length);
      kept.push(stack);
      continue;
    }
    dropped.push(stack);
    const tally = hidden.get(rule)!;
    tally.stacks += 1;
    tally.bytes += stack.bytes;
    tally.allocations += stack.allocations;
    if (stack.partial) partial += 1;
  }
  const suppressions = [...hidden.values()];
  const bytes = suppressions.reduce((sum, s) => sum + s.bytes, 0);
  const allocations = suppressions.reduce((sum, s) => sum + s.allocations, 0);
  return {
    ...report,
    totals: {
      ...report.totals,
      outstandingBytes: report.totals.outstandingBytes - bytes,
      outstandingAllocations: report.totals.outstandingAllocations - allocations,
      partialStacks: report.totals.partialStacks - partial,
    },
    stacks: kept,
    ...(report.churnStacks ? { churnStacks: report.churnStacks.filter((stack) => matchSuppression(rules, stack) === null) } : {}),
    ...(report.reachability ? { reachability: reachabilityWithout(report.reachability, dropped) } : {}),
    ...(report.suspects ? { suspects: report.suspects.filter((s) => moved.has(s.stack)).map((s) => ({ ...s, stack: moved.get(s.stack)! })) } : {}),
    suppressions,
  };
}

const CLASSES: readonly (keyof ReachabilityClasses)[] = ['definitelyLost', 'indirectlyLost', 'possiblyLost', 'stillReachable'];

/** The scan's class totals without the blocks of the stacks given. */
function reachabilityWithout(scan: ReachabilityReport, stacks: StackReport[]): ReachabilityReport {
  const without = { ...scan };
  for (const name of CLASSES) {
    const hidden = (key: 'bytes' | 'allocations') => stacks.reduce((sum, stack) => sum + (stack.reachability?.[name][key] ?? 0), 0);
    without[name] = { bytes: scan[name].bytes - hidden('bytes'), allocations: scan[name].allocations - hidden('allocations') };
  }
  return without;
}
