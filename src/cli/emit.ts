// Where a finished report goes: the text report on stdout unless --json names
// where the report goes (a file, or - for stdout), and the --out directory.
// Files appear whole or not at all.
import { join } from 'node:path';

import { prepareOutDir, writeFileSafely } from '../output/safe-write.js';
import { renderFlamegraph } from '../render/flamegraph.js';
import { renderFolded } from '../render/folded.js';
import { renderJson } from '../render/json.js';
import { renderText } from '../render/text.js';
import type { Report } from '../report/types.js';
import type { CommonOptions } from './options.js';

export async function emitReport(report: Report, options: CommonOptions): Promise<void> {
  const json = options.json !== null || options.out !== null ? renderJson(report) : '';
  if (options.out !== null) {
    await prepareOutDir(options.out);
    await writeFileSafely(join(options.out, 'report.json'), json);
    await writeFileSafely(join(options.out, 'leaks.folded'), renderFolded(report));
    await writeFileSafely(join(options.out, 'flamegraph.svg'), renderFlamegraph(report, { title: flameTitle(report) }));
  }
  if (options.json === '-') process.stdout.write(json);
  else if (options.json !== null) await writeFileSafely(options.json, json);
  else process.stdout.write(renderText(report, { top: options.top }));
}

/** Output locations are checked before tracing starts, so a trace is never
 * thrown away for want of a directory. */
export async function checkOutputs(options: CommonOptions): Promise<void> {
  if (options.out !== null) await prepareOutDir(options.out);
}

function flameTitle(report: Report): string {
  return report.mode === 'kernel' ? 'Unreleased kernel memory' : 'Unreleased memory';
}

