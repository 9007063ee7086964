// Waiting on child processes: their exit, and lines on their streams, each
// with a deadline so a hung child fails the test instead of stalling it.
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Accumulates a stream's text; call the result to read what came so far. */
export function collect(stream: Readable | null): () => string {
  let text = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => (text += chunk));
  return () => text;
}

/** Resolves on the child's exit; kills it (SIGKILL) and rejects after `timeoutMs`. */
export function exited(child: ChildProcess, timeoutMs: number): Promise<Exit> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${child.spawnfile} (pid ${child.pid}) still running after ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

/**
 * Resolves with the first line of `stream` that matches `pattern`, rejecting
 * after `timeoutMs` or if the stream ends first (the message shows what came).
 */
export function lineMatching(stream: Readable, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    let pending = '';
    const finish = (error: Error | null, match?: RegExpMatchArray) => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      if (error) reject(error);
      else resolve(match!);
    };
    const onData = (chunk: Buffer | string) => {
      seen += chunk.toString();
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const match = line.match(pattern);
        if (match) return finish(null, match);
      }
    };
    const onEnd = () => finish(new Error(`stream ended without a line matching ${pattern}; got: ${JSON.stringify(seen)}`));
    const timer = setTimeout(
      () => finish(new Error(`no line matching ${pattern} within ${timeoutMs} ms; got: ${JSON.stringify(seen)}`)),
      timeoutMs,
    );
    stream.on('data', onData);
    stream.on('end', onEnd);
  });
}

/** Resolves once `condition()` holds (looked at every 20 ms); rejects after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms: ${condition}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
