// Where a finished report goes: the text report on stdout unless --json names
// where the JSON report goes (a file, a device or pipe, or - for stdout), and
// the --out directory. Every destination is checked before the trace; one
// that fails anyway afterwards hands the report to a fallback file, named in
// one line on stderr, so a trace is never thrown away.
import { join, resolve } from 'node:path';

import { LeakhoundError } from '../errors.js';
import { closeDestination, openDestination, STDOUT, writeDestination, type Destination } from '../output/destination.js';
import { writeAllSync } from '../output/descriptor.js';
import { systemMessage } from '../output/errno.js';
import { saveFallback } from '../output/fallback.js';
import { prepareOutDir, probeWritable, removeEmptyDirs, writeFileSafely } from '../output/safe-write.js';
import { renderFlamegraph } from '../render/flamegraph.js';
import { renderFlamegraphHtml } from '../render/flamegraph-html.js';
import { renderFolded } from '../render/folded.js';
import { resourceGraphs } from '../render/graphs.js';
import { renderJson } from '../render/json.js';
import { leakGateLine, renderLeakGateStacks } from '../render/leak-gate-text.js';
import { renderPprof } from '../render/pprof.js';
import { renderText } from '../render/text.js';
import { LEAK_GATE_EXIT_CODE, type LeakGateVerdict } from '../report/leak-gate.js';
import type { Report } from '../report/types.js';
import type { CommonOptions } from './options.js';
import { say, stderrWorks } from './say.js';

/** The destinations, checked and held open where they are written in place. */
export interface Outputs {
  /** The JSON report's destination (--json), or null: then the text report goes to stdout. */
  json: Destination | null;
  /** The --out directory, checked and created. */
  out: string | null;
  top: number;
}

/** What became of the report. */
export interface Emitted {
  /** Destinations that could not be written (the report went to a fallback instead). */
  failed: number;
}

/**
 * Checks every destination before anything is traced: a bad one is a usage
 * error (exit 2) with nothing run. In launch mode `--json -` is refused: the
 * JSON would be mixed with the command's own stdout, unreadable by whatever
 * parses it; attach and kernel modes keep it.
 */
export async function checkOutputs(options: CommonOptions, mode: { launch: boolean }): Promise<Outputs> {
  const json = options.json === null ? null : options.json === '-' ? STDOUT : await openDestination(options.json, '--json');
  if (mode.launch && json === STDOUT) {
    throw new LeakhoundError('USAGE', `--json ${options.json} would mix the JSON report with the command's own stdout`, 'name a file, e.g. --json report.json');
  }
  if (options.out !== null) {
    const created = await prepareOutDir(options.out);
    // A directory leakhound made goes again if leakhound exits with it still empty (a bad pid, a failed attach).
    process.once('exit', () => removeEmptyDirs(created));
    await probeWritable(resolve(options.out));
  }
  return { json, out: options.out, top: options.top };
}

/** A destination that failed (the error line's start), and which form of the report it should have had. */
interface Failure {
  reason: string;
  form: 'json' | 'txt';
}

export async function emitReport(report: Report, outputs: Outputs): Promise<Emitted> {
  const json = outputs.json !== null || outputs.out !== null ? renderJson(report) : '';
  const text = outputs.json === null ? renderText(report, { top: outputs.top }) : '';
  const failures: Failure[] = [];
  if (outputs.out !== null) {
    try {
      await writeOutDir(outputs.out, report, json);
    } catch (error) {
      failures.push({ reason: (error as Error).message, form: 'json' });
    }
  }
  const main = outputs.json ?? STDOUT;
  try {
    await writeDestination(main, outputs.json ? json : text);
  } catch (error) {
    failures.push({ reason: (error as Error).message, form: outputs.json ? 'json' : 'txt' });
  } finally {
    closeDestination(main);
  }
  for (const form of new Set(failures.map((failure) => failure.form))) {
    await keepElsewhere(form === 'json' ? json : text, form, failures.filter((failure) => failure.form === form));
  }
  return { failed: failures.length };
}

async function writeOutDir(out: string, report: Report, json: string): Promise<void> {
  // Made again if it went away during the trace.
  await prepareOutDir(out);
  await writeFileSafely(join(out, 'report.json'), json);
  await writeFileSafely(join(out, 'leaks.folded'), renderFolded(report));
  await writeFileSafely(join(out, 'flamegraph.svg'), renderFlamegraph(report, { title: flameTitle(report) }));
  await writeFileSafely(join(out, 'profile.pb.gz'), renderPprof(report));
  await writeFileSafely(join(out, 'flamegraph.html'), renderFlamegraphHtml(report, { title: flameTitle(report) }));
  for (const { name, title, graph } of resourceGraphs(report)) {
    await writeFileSafely(join(out, `${name}.folded`), renderFolded(report, graph.stacks));
    await writeFileSafely(join(out, `${name}.svg`), renderFlamegraph(report, { title }, graph));
    await writeFileSafely(join(out, `${name}.html`), renderFlamegraphHtml(report, { title }, graph));
  }
}

/** Saves the report in a fallback file and says so, once per failed destination;
 * with no file to be had, the report itself goes to stderr. */
async function keepElsewhere(data: string, form: 'json' | 'txt', failures: Failure[]): Promise<void> {
  const reasons = failures.map((failure) => failure.reason);
  try {
    const path = await saveFallback(data, form);
    for (const reason of reasons) say(`${reason}: the report was saved in ${path}`);
  } catch (error) {
    for (const reason of reasons) say(`${reason}, nor in a fallback file (${systemMessage(error)}): the report follows on stderr`);
    if (!stderrWorks()) return;
    try {
      writeAllSync(2, data);
    } catch {
      // Nowhere left to put it.
    }
  }
}

/**
 * leakhound's exit code once a trace has run. In launch mode it is the
 * command's own (or 128 + its signal), whatever became of the report: a
 * failed destination is said on stderr and the report kept in a fallback
 * file, so wrapping a command never changes what its caller sees. In attach
 * and kernel modes it is 1 when any destination failed (the report is then
 * in the fallback file named on stderr), else 0.
 */
export function exitCodeAfterTrace(emitted: Emitted, commandCode: number | null): number {
  if (commandCode !== null) return commandCode;
  return emitted.failed > 0 ? 1 : 0;
}

/**
 * --fail-on-leak's verdict on stderr: one line, then the stacks over the
 * gate; when `code` (the exit code before the gate) is not 0 it stands, and
 * a line says so.
 */
export function tellLeakGate(verdict: LeakGateVerdict, mode: Report['mode'], top: number, code: number): void {
  say(leakGateLine(verdict));
  if (!verdict.failed) return;
  const stacks = renderLeakGateStacks(verdict, mode, top);
  if (stacks !== '' && stderrWorks()) {
    try {
      writeAllSync(2, stacks);
    } catch {
      // say() notices a broken stderr on its own.
    }
  }
  if (code !== 0) say(`the exit code stays ${code}: the gate's ${LEAK_GATE_EXIT_CODE} replaces only a 0 (the command failed, or a report destination did)`);
}

function flameTitle(report: Report): string {
  return report.mode === 'kernel' ? 'Unreleased kernel memory' : 'Unreleased memory';
}
