// Runs a fixture under `valgrind --track-fds=yes` and reads the descriptors
// it lists as open at exit, to cross-check leakhound's descriptor figures
// against a tool users trust. Inherited descriptors (stdin, stdout, stderr,
// valgrind's own) are listed without a stack and left out.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { collect, exited } from './process.js';

export interface OpenDescriptor {
  /** "Open file descriptor 5: /tmp/x", "Open AF_INET socket 6: 127.0.0.1:80 <-> unbound". */
  heading: string;
  /** Function names and where each is, innermost first. */
  frames: Array<{ name: string; where: string }>;
}

export function parseOpenDescriptors(log: string): OpenDescriptor[] {
  const found: OpenDescriptor[] = [];
  let current: OpenDescriptor | null = null;
  for (const line of log.split('\n')) {
    const text = line.replace(/^==\d+== ?/, '');
    if (/^Open .*\d+:/.test(text)) {
      current = { heading: text, frames: [] };
      found.push(current);
      continue;
    }
    const frame = text.match(/^\s+(?:at|by) 0x[0-9A-F]+: (.+?) \((.+)\)$/);
    if (frame && current) current.frames.push({ name: frame[1]!, where: frame[2]! });
    else if (text.trim() === '') current = null;
  }
  return found.filter((d) => d.frames.length > 0);
}

/**
 * Open descriptors per site: the first frame in `sourceFile` (a fixture's
 * source, by its base name as valgrind prints it, "fds.c:58").
 */
export function descriptorsBySite(descriptors: OpenDescriptor[], sourceFile: string): Map<string, number> {
  const sites = new Map<string, number>();
  for (const d of descriptors) {
    const site = d.frames.find((f) => f.where.startsWith(`${sourceFile}:`))?.name ?? `(outside ${sourceFile}: ${d.heading})`;
    sites.set(site, (sites.get(site) ?? 0) + 1);
  }
  return sites;
}

export interface TrackFdsResult {
  exitCode: number | null;
  stdout: string;
  descriptors: OpenDescriptor[];
}

export async function trackFds(command: string[], logDir: string): Promise<TrackFdsResult> {
  const log = path.join(logDir, 'track-fds.log');
  const child = spawn('valgrind', ['--track-fds=yes', '--num-callers=12', `--log-file=${log}`, ...command], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const stdout = collect(child.stdout);
  const { code } = await exited(child, 60_000);
  return { exitCode: code, stdout: stdout(), descriptors: parseOpenDescriptors(readFileSync(log, 'utf8')) };
}
