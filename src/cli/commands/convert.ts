// `leakhound convert report.json --to pprof|speedscope|folded`: a report in
// the format another tool reads.
import { basename } from 'node:path';
import type { ArgumentsCamelCase, Argv } from 'yargs';

import { LeakhoundError } from '../../errors.js';
import { closeDestination, openDestination, STDOUT, writeDestination } from '../../output/destination.js';
import { renderFolded } from '../../render/folded.js';
import { renderPprof } from '../../render/pprof.js';
import { renderSpeedscope } from '../../render/speedscope.js';
import { readReport } from '../../report/read-report.js';
import type { Report } from '../../report/types.js';

const FORMATS = {
  pprof: (report: Report) => renderPprof(report),
  speedscope: (report: Report, name: string) => renderSpeedscope(report, name),
  folded: (report: Report) => renderFolded(report),
} as const;

type Format = keyof typeof FORMATS;
const FORMAT_NAMES = Object.keys(FORMATS) as Format[];

export const command = 'convert <report>';
export const describe = 'write a JSON report as a pprof profile (gzipped), speedscope JSON or folded stacks';

export function builder(yargs: Argv) {
  return yargs
    .positional('report', { type: 'string', describe: 'a report.json' })
    .option('to', { type: 'string', demandOption: true, describe: `the format: ${FORMAT_NAMES.join(', ')}` })
    .option('output', { type: 'string', describe: 'write to FILE instead of stdout' });
}

export async function handler(argv: ArgumentsCamelCase<Record<string, unknown>>): Promise<number> {
  const to = String(argv.to) as Format;
  if (!FORMAT_NAMES.includes(to)) {
    throw new LeakhoundError('USAGE', `--to ${JSON.stringify(String(argv.to))} is not a format leakhound writes`, `use one of ${FORMAT_NAMES.join(', ')}`);
  }
  const file = String(argv.report);
  const output = argv.output === undefined ? null : String(argv.output);
  // Gzip on a terminal is noise; a pipe or a file takes it.
  if (to === 'pprof' && output === null && process.stdout.isTTY) {
    throw new LeakhoundError('USAGE', 'a pprof profile is binary (gzip) and stdout is a terminal', 'name a file, e.g. --output profile.pb.gz, or pipe it');
  }
  const report = await readReport(file);
  const destination = output === null || output === '-' ? STDOUT : await openDestination(output, '--output');
  try {
    await writeDestination(destination, FORMATS[to](report, basename(file)));
  } finally {
    closeDestination(destination);
  }
  return 0;
}
