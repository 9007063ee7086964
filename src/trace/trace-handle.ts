// A running trace as a library caller holds it: its snapshots (a callback
// and an async iterator), its stop, and its result.
import type { Report } from '../report/types.js';
import type { LiveSnapshot } from './live-snapshot.js';
import { ManualStop } from './manual-stop.js';
import type { StopReason } from './pump.js';
import type { TraceStop } from './stop-signal.js';

export interface TraceResult {
  report: Report;
  reason: StopReason;
  /** A launched command's exit code (128 + the signal's number when a signal ended it); null otherwise. */
  exitCode: number | null;
}

export interface TraceHandle extends AsyncIterable<LiveSnapshot> {
  /** Ends the trace: an attached one at once, a launched command's once the command, sent SIGTERM, exits. */
  stop(): void;
  /** The report, once the trace has ended (rejects with a LeakhoundError where it could not run). */
  readonly result: Promise<TraceResult>;
}

/** What the trace is run with: the stop, and where each interval goes. */
export interface HandleWiring {
  stop: TraceStop;
  onInterval: (snapshot: LiveSnapshot) => void;
}

/** Starts `run` and hands back its handle; `onInterval` is the caller's own callback, if any. */
export function startHandle(run: (wiring: HandleWiring) => Promise<TraceResult>, onInterval?: (snapshot: LiveSnapshot) => void): TraceHandle {
  const stop = new ManualStop();
  const queued: LiveSnapshot[] = [];
  const waiting: ((next: IteratorResult<LiveSnapshot>) => void)[] = [];
  let ended = false;
  const push = (snapshot: LiveSnapshot) => {
    onInterval?.(snapshot);
    const reader = waiting.shift();
    if (reader) reader({ value: snapshot, done: false });
    else queued.push(snapshot);
  };
  // Started on the next turn, so that a bad option rejects `result` rather than throwing here.
  const result = Promise.resolve().then(() => run({ stop, onInterval: push }));
  const end = () => {
    ended = true;
    for (const reader of waiting.splice(0)) reader({ value: undefined, done: true });
  };
  result.then(end, end);
  return {
    stop: () => stop.request(),
    result,
    [Symbol.asyncIterator]: () => ({
      next: () => {
        const snapshot = queued.shift();
        if (snapshot) return Promise.resolve({ value: snapshot, done: false });
        if (ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => waiting.push(resolve));
      },
    }),
  };
}
