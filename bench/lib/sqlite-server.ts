// sqlite3 as a long-running server: it answers queries written to its stdin,
// one at a time, each one allocating a few thousand times.
import { readFileSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';

import type { Timing } from './live.js';
import { lineMatching } from './proc.js';

/** -interactive: the shell flushes its output before each prompt, so every
 * answer arrives as soon as it is computed, even through a pipe. */
export const SQLITE_SERVER = ['/usr/bin/sqlite3', '-interactive', ':memory:'];

export interface Server {
  stdin: Writable;
  stdout: Readable;
}

/** One request: a query that builds, sorts and sums 500 strings, then a
 * marker whose echo says the answer is complete. */
function query(k: number): string {
  return [
    'SELECT count(*), sum(length(x)) FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)',
    ` SELECT printf('%.*c', (i * ${k + 7}) % 300, 'x') AS x FROM n ORDER BY x || i);`,
    `SELECT 'done-${k}';`,
    '',
  ].join('\n');
}

/** Sends requests `first`..`first + count - 1` one after another; ms per request. */
export async function requests(server: Server, first: number, count: number): Promise<number> {
  const started = performance.now();
  for (let k = first; k < first + count; k++) {
    const answered = lineMatching(server.stdout, new RegExp(`done-${k}\\b`), 120_000);
    server.stdin.write(query(k));
    await answered;
  }
  return (performance.now() - started) / count;
}

/** CPU time the process's main thread has had, in ns (the first field of
 * /proc/PID/schedstat): uprobe traps and BPF programs run on it, a tracer's
 * reader and the rest of a shared machine do not. */
function cpuNs(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
}

/** As `requests`: wall and the server's own CPU ms per request. */
export async function timedRequests(server: Server, pid: number, first: number, count: number): Promise<Timing> {
  const cpu0 = cpuNs(pid);
  const wall = await requests(server, first, count);
  return { wall, cpu: (cpuNs(pid) - cpu0) / 1e6 / count };
}

/** Keeps the server answering, request after request, until the returned
 * function is called; that resolves once the request in flight is answered. */
export function keepBusy(server: Server, first: number): () => Promise<number> {
  let stopping = false;
  let next = first;
  const loop = (async () => {
    while (!stopping) await requests(server, next++, 1);
  })();
  return async () => {
    stopping = true;
    await loop;
    return next - first;
  };
}
