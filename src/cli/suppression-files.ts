// --suppressions FILE (repeatable), read and checked before anything is traced.
import { readFileSync } from 'node:fs';

import type { Argv } from 'yargs';

import { LeakhoundError } from '../errors.js';
import { systemMessage } from '../output/errno.js';
import { parseSuppressions, type Suppression } from '../report/suppressions.js';

export function withSuppressionsOption<T>(yargs: Argv<T>) {
  return yargs.option('suppressions', {
    type: 'string',
    describe: 'hide heap stacks matched by the rules in FILE (leak:, fun:, obj:, src: patterns; repeatable)',
  });
}

/** Every rule of every file given, in the order given; a bad file is a usage error naming it (and the line). */
export function readSuppressionFiles(argv: Record<string, unknown>): Suppression[] {
  const given = argv.suppressions;
  const files = given === undefined ? [] : (Array.isArray(given) ? given : [given]).map(String);
  return files.flatMap((file) => {
    if (file === '') throw new LeakhoundError('USAGE', '--suppressions needs a file', 'e.g. --suppressions leaks.supp');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new LeakhoundError('USAGE', `--suppressions ${file}: ${systemMessage(error)}`, 'name a readable suppression file');
    }
    return parseSuppressions(text, file);
  });
}
