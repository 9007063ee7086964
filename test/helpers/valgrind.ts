// Runs a fixture under valgrind's memcheck and reads its leak records, to
// cross-check the fixtures' expectations against a tool users trust.
// --run-cxx-freeres=no: libstdc++'s startup pool stays held, as it does
// outside valgrind.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { exited } from './process.js';

export interface LossRecord {
  /** The block's own bytes (for "N (D direct, I indirect)" records, D). */
  bytes: number;
  blocks: number;
  /** valgrind's class: definitely lost, indirectly lost, possibly lost or still reachable. */
  kind: string;
  /** Function names, the allocator's caller first (valgrind's own frames dropped). */
  frames: string[];
}

export interface MemcheckResult {
  exitCode: number | null;
  inUseAtExit: { bytes: number; blocks: number };
  records: LossRecord[];
}

export function valgrindMissing(): string | null {
  return spawnSync('valgrind', ['--version']).status === 0 ? null : 'valgrind is not installed';
}

const number = (text: string) => Number(text.replaceAll(',', ''));

export function parseMemcheck(log: string): Omit<MemcheckResult, 'exitCode'> {
  const inUse = log.match(/in use at exit: ([\d,]+) bytes in ([\d,]+) blocks/);
  if (!inUse) throw new Error(`no "in use at exit" line in valgrind's log:\n${log}`);
  const records: LossRecord[] = [];
  let current: LossRecord | null = null;
  for (const line of log.split('\n')) {
    const text = line.replace(/^==\d+== ?/, '');
    const record = text.match(/^([\d,]+)(?: \(([\d,]+) direct, [\d,]+ indirect\))? bytes in ([\d,]+) blocks are (\w+ \w+)/);
    if (record) {
      current = { bytes: number(record[2] ?? record[1]!), blocks: number(record[3]!), kind: record[4]!, frames: [] };
      records.push(current);
      continue;
    }
    const frame = text.match(/^\s+(?:at|by) 0x[0-9A-F]+: (.+?) \((.+)\)$/);
    if (frame && current) {
      const [, name, where] = frame;
      if (!/vg_replace_malloc\.c|vgpreload_/.test(where!)) current.frames.push(name!);
    } else if (text.trim() === '') {
      current = null;
    }
  }
  return { inUseAtExit: { bytes: number(inUse[1]!), blocks: number(inUse[2]!) }, records };
}

/**
 * Runs `command` under memcheck. `drive`, when given, gets the running child
 * (to signal it) and must resolve once it has done its part.
 */
export async function memcheck(
  command: string[],
  logDir: string,
  drive?: (child: ReturnType<typeof spawn>) => Promise<void>,
): Promise<MemcheckResult> {
  const log = path.join(logDir, 'memcheck.log');
  const child = spawn(
    'valgrind',
    [
      '--leak-check=full',
      '--show-leak-kinds=all',
      '--run-libc-freeres=no',
      '--run-cxx-freeres=no',
      `--log-file=${log}`,
      ...command,
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  if (drive) await drive(child);
  else child.stdout.resume();
  const { code } = await exited(child, 60_000);
  return { exitCode: code, ...parseMemcheck(readFileSync(log, 'utf8')) };
}
