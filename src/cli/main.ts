#!/usr/bin/env node
// leakhound's entry point: parse, run one command, map failures to one line
// and an exit code (2: bad usage, 1: leakhound failed; a launched command's
// own exit code otherwise).
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';

import { LeakhoundError } from '../errors.js';
import { describeNativeFailure } from '../native/libbpf-log.js';
import * as convert from './commands/convert.js';
import * as diff from './commands/diff.js';
import * as kernel from './commands/kernel.js';
import * as trace from './commands/trace.js';
import { say } from './say.js';

function fail(error: unknown): never {
  const failure = (error instanceof Error ? error : new Error(String(error))) as Error & { log?: unknown };
  const log = typeof failure.log === 'string' && failure.log !== '' ? failure.log : undefined;
  const verbose = wantsVerbose(hideBin(process.argv));
  // --verbose: libbpf's whole output (a verifier log, say) first, the one line last.
  if (verbose && log) process.stderr.write(log.endsWith('\n') ? log : `${log}\n`);
  const line = log ? describeNativeFailure(failure.message, log, verbose) : failure.message;
  const hint = error instanceof LeakhoundError ? error.hint : undefined;
  say(hint ? `${line}: ${hint}` : line);
  process.exit(error instanceof LeakhoundError && error.code === 'USAGE' ? 2 : 1);
}

/** --verbose among leakhound's own options (not the traced command's); read
 * from argv itself, since a failure may come before yargs has finished. */
function wantsVerbose(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((arg) => arg === '--verbose' || arg === '--verbose=true');
}

/** yargs reads a lone `-` as a positional, not as an option's value:
 * `--json -` becomes `--json=-` (before any `--`, which starts the command). */
function joinDashValues(args: string[]): string[] {
  const end = args.indexOf('--');
  const options = end < 0 ? args : args.slice(0, end);
  const joined = options.flatMap((arg, i) => (options[i + 1] === '-' && arg.startsWith('--') ? [`${arg}=-`] : arg === '-' && options[i - 1]?.startsWith('--') ? [] : [arg]));
  return end < 0 ? joined : [...joined, ...args.slice(end)];
}

async function main(): Promise<void> {
  let exitCode = 0;
  await yargs(joinDashValues(hideBin(process.argv)))
    .scriptName('leakhound')
    .parserConfiguration({ 'populate--': true })
    .command(trace.command, trace.describe, trace.builder, async (argv) => {
      exitCode = await trace.handler(argv);
    })
    .command(kernel.command, kernel.describe, kernel.builder, async (argv) => {
      exitCode = await kernel.handler(argv);
    })
    .command(diff.command, diff.describe, diff.builder, async (argv) => {
      exitCode = await diff.handler(argv);
    })
    .command(convert.command, convert.describe, convert.builder, async (argv) => {
      exitCode = await convert.handler(argv);
    })
    .demandCommand(1, 'give a command: trace, kernel, diff or convert')
    .strict()
    .fail((message, error) => {
      if (error) throw error;
      throw new LeakhoundError('USAGE', message.split('\n')[0], 'see leakhound --help');
    })
    .help()
    .parseAsync();
  process.exitCode = exitCode;
}

main().catch(fail);
