// `leakhound diff BEFORE.json AFTER.json`: what changed between two reports.
import { join } from 'node:path';
import type { ArgumentsCamelCase, Argv } from 'yargs';

import { closeDestination, openDestination, STDOUT, writeDestination } from '../../output/destination.js';
import { prepareOutDir, removeEmptyDirs, writeFileSafely } from '../../output/safe-write.js';
import { renderDiffFlamegraph } from '../../render/diff-flamegraph.js';
import { renderDiffFolded } from '../../render/diff-folded.js';
import { renderDiffText } from '../../render/diff-text.js';
import { diffReports } from '../../report/diff.js';
import { readReport } from '../../report/read-report.js';
import { parseNumber } from '../options.js';

export const command = 'diff <before> <after>';
export const describe = 'compare two JSON reports: which stacks grew, shrank, appeared or went';

export function builder(yargs: Argv) {
  return yargs
    .positional('before', { type: 'string', describe: 'the earlier report.json' })
    .positional('after', { type: 'string', describe: 'the later report.json' })
    .option('top', { type: 'string', default: '10', describe: 'changed stacks shown in the text' })
    .option('json', { type: 'string', describe: 'write the diff as JSON to FILE, or - for stdout' })
    .option('out', { type: 'string', describe: 'write diff.folded and diff.svg (a differential flame graph) into DIR' });
}

export async function handler(argv: ArgumentsCamelCase<Record<string, unknown>>): Promise<number> {
  const top = parseNumber('top', String(argv.top), { integer: true, positive: true }) as number;
  const [beforeFile, afterFile] = [String(argv.before), String(argv.after)];
  // Both reports are read and matched before anything is created.
  const before = await readReport(beforeFile);
  const after = await readReport(afterFile);
  const diff = diffReports({ file: beforeFile, report: before }, { file: afterFile, report: after });
  const json = argv.json === undefined ? null : String(argv.json);
  const destination = json === null || json === '-' ? STDOUT : await openDestination(json, '--json');
  if (argv.out !== undefined) {
    const out = String(argv.out);
    // A directory made here goes again if nothing could be written into it.
    const created = await prepareOutDir(out);
    process.once('exit', () => removeEmptyDirs(created));
    await writeFileSafely(join(out, 'diff.folded'), renderDiffFolded(diff));
    await writeFileSafely(join(out, 'diff.svg'), renderDiffFlamegraph(diff, after));
  }
  try {
    await writeDestination(destination, json === null ? renderDiffText(diff, { top }) : `${JSON.stringify(diff, null, 2)}\n`);
  } finally {
    closeDestination(destination);
  }
  return 0;
}
