// Running the commands under measurement: wall time from spawn to exit, the
// output kept, and a deadline so one stuck tool cannot hang `make bench`.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import type { Readable } from 'node:stream';

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  wallMs: number;
}

export class CommandFailed extends Error {}

/** Everything a stream has said so far, as one string. */
export function collect(stream: Readable | null): () => string {
  const chunks: Buffer[] = [];
  stream?.on('data', (chunk: Buffer) => chunks.push(chunk));
  return () => Buffer.concat(chunks).toString('utf8');
}

/** Resolves when the child has exited and its streams are closed. */
export function finished(child: ChildProcess, timeoutMs: number, started = performance.now()): Promise<Finished> {
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new CommandFailed(`${child.spawnfile} still running after ${timeoutMs} ms: killed`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: stdout(), stderr: stderr(), wallMs: performance.now() - started });
    });
  });
}

/** Runs argv to its end; stdin is /dev/null. */
export function run(argv: string[], timeoutMs: number, options: SpawnOptions = {}): Promise<Finished> {
  const started = performance.now();
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  return finished(child, timeoutMs, started);
}

/** Like run(), but a non-zero exit is an error carrying the output. */
export async function runOk(argv: string[], timeoutMs: number, options: SpawnOptions = {}): Promise<Finished> {
  const result = await run(argv, timeoutMs, options);
  if (result.code !== 0) {
    throw new CommandFailed(`${argv.join(' ')} exited ${result.code ?? result.signal}\n${result.stderr.slice(-2000)}`);
  }
  return result;
}

/** Calls `onLine` for every whole line the stream writes; returns a function
 * that stops listening. */
export function eachLine(stream: Readable, onLine: (line: string) => void): () => void {
  let pending = '';
  const onData = (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    lines.forEach(onLine);
  };
  stream.on('data', onData);
  return () => stream.off('data', onData);
}

/** The first line matching `pattern` (its match), or an error after `timeoutMs`. */
export function lineMatching(stream: Readable, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new CommandFailed(`no line matching ${pattern} within ${timeoutMs} ms`));
    }, timeoutMs);
    const stop = eachLine(stream, (line) => {
      const match = line.match(pattern);
      if (!match) return;
      stop();
      clearTimeout(timer);
      resolve(match);
    });
  });
}

/** Shell-quoted, for commands shown in RESULTS.md and for bpftrace -c. */
export function shellJoin(argv: string[]): string {
  return argv.map((arg) => (/^[\w@%+=:,./$-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`)).join(' ');
}

export function sleep(msToWait: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, msToWait));
}

/** The last non-empty line of a tool's stderr: usually its error message. */
export function lastLine(text: string): string {
  return text.trim().split('\n').pop()?.slice(0, 300) ?? '';
}

/** Runs that failed, for the end of a section; nothing when none did. */
export function failureLines(failures: string[]): string[] {
  return failures.length === 0 ? [] : ['**Failed runs** (left out of the medians):', '', ...failures.map((f) => `- ${f}`), ''];
}
