// Options shared by `trace` and `kernel`, validated before anything is loaded.
import type { Argv } from 'yargs';

import { LeakhoundError } from '../errors.js';
import { groupDigits } from '../render/format.js';
import { DEFAULT_CHURN_STACKS, MAX_CHURN_STACKS } from '../report/build.js';

export interface CommonOptions {
  durationMs: number | null;
  intervalMs: number | null;
  top: number;
  json: string | null;
  out: string | null;
  minSize: number;
  maxSize: number;
  olderThanMs: number;
  /** Stacks that hold nothing listed with what they allocated (the rest summed). */
  churnStacks: number;
  /** Distinct stacks the BPF stack table holds. */
  maxStacks: number;
  verbose: boolean;
}

/** `maxStacks`: the default of --max-stacks, which the commands size differently. */
export function withCommonOptions<T>(yargs: Argv<T>, maxStacks: number) {
  return yargs
    .option('duration', { type: 'string', describe: 'stop after this many seconds' })
    .option('interval', { type: 'string', describe: 'print a summary line every this many seconds' })
    .option('top', { type: 'string', default: '10', describe: 'stacks shown in the text report' })
    .option('json', { type: 'string', describe: 'write the JSON report to FILE, or - for stdout' })
    .option('out', { type: 'string', describe: 'write report.json, leaks.folded and flamegraph.svg into DIR' })
    .option('min-size', { type: 'string', describe: 'ignore allocations smaller than this many bytes' })
    .option('max-size', { type: 'string', describe: 'ignore allocations larger than this many bytes' })
    .option('older-than', { type: 'string', describe: 'only allocations at least this many milliseconds old count as outstanding' })
    .option('churn-stacks', { type: 'string', default: String(DEFAULT_CHURN_STACKS), describe: 'stacks that allocated but hold nothing, listed with what they allocated (pprof alloc_*); the rest are summed' })
    .option('max-stacks', { type: 'string', default: String(maxStacks), describe: 'distinct stacks the BPF table holds (taken as they come)' })
    .option('verbose', { type: 'boolean', default: false, describe: 'say what was attached where' });
}

function badOption(name: string, value: string, expected: string): never {
  throw new LeakhoundError('USAGE', `--${name} ${JSON.stringify(value)} is not ${expected}`, `see leakhound --help`);
}

export interface NumberRule {
  integer?: boolean;
  positive?: boolean;
  /** The largest value the kernel or the BPF side can hold. */
  max?: number;
}

/** A non-negative number (or positive, when `positive`), in the option's own
 * unit, written plainly or with an exponent (1e9), at most `max`. */
export function parseNumber(name: string, value: string | undefined, rule: NumberRule = {}): number | null {
  if (value === undefined) return null;
  const trimmed = String(value).trim();
  const n = /^\d+(\.\d+)?(e\+?\d+)?$/i.test(trimmed) ? Number(trimmed) : NaN;
  const expected = `a ${rule.positive ? 'positive' : 'non-negative'} ${rule.integer ? 'whole number' : 'number'}`;
  if (!Number.isFinite(n) || (rule.integer && !Number.isInteger(n)) || (rule.positive && n <= 0)) return badOption(name, trimmed, expected);
  const max = rule.max ?? Number.MAX_SAFE_INTEGER;
  if (n > max) {
    const low = rule.positive ? (rule.integer ? 1 : 'more than 0') : 0;
    throw new LeakhoundError('USAGE', `--${name} ${trimmed} is out of range`, `use ${low} to ${groupDigits(max)}`);
  }
  return n;
}

/** Entries a BPF hash map can be sized for: the kernel rounds the count up
 * to a power of two buckets of 16 bytes and refuses (E2BIG) a bucket array
 * of 4 GiB or more. */
export const MAX_BPF_TABLE_ENTRIES = 2 ** 27;

/** The kernel's PID_MAX_LIMIT: no pid or thread id is larger. */
export const MAX_PID = 2 ** 22;

export function readCommonOptions(argv: Record<string, unknown>): CommonOptions {
  const text = (key: string) => (argv[key] === undefined ? undefined : String(argv[key]));
  const seconds = (key: string) => {
    const value = parseNumber(key, text(key), { positive: true });
    return value === null ? null : value * 1000;
  };
  const minSize = parseNumber('min-size', text('min-size'), { integer: true }) ?? 0;
  const maxSize = parseNumber('max-size', text('max-size'), { integer: true }) ?? Number.MAX_SAFE_INTEGER;
  if (minSize > maxSize) throw new LeakhoundError('USAGE', `--min-size ${minSize} is larger than --max-size ${maxSize}`, 'swap them');
  const optionalPath = (key: string) => {
    const value = text(key);
    if (value === '') badOption(key, value, 'a path');
    return value ?? null;
  };
  return {
    durationMs: seconds('duration'),
    intervalMs: seconds('interval'),
    top: parseNumber('top', text('top'), { integer: true, positive: true }) ?? 10,
    json: optionalPath('json'),
    out: optionalPath('out'),
    minSize,
    maxSize,
    olderThanMs: parseNumber('older-than', text('older-than')) ?? 0,
    churnStacks: parseNumber('churn-stacks', text('churn-stacks'), { integer: true, max: MAX_CHURN_STACKS }) as number,
    maxStacks: parseNumber('max-stacks', text('max-stacks'), { integer: true, positive: true, max: MAX_BPF_TABLE_ENTRIES }) as number,
    verbose: Boolean(argv.verbose),
  };
}
