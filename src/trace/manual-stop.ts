// A trace's stop for a library caller: no signal handlers are installed in
// the caller's process; `request` ends the trace as a SIGTERM would.
import type { ReceivedSignal, TraceStop } from './stop-signal.js';

type Listener = (signal: ReceivedSignal) => void;

export class ManualStop implements TraceStop {
  #requested = false;
  #listener: Listener | null = null;

  whenRequested(listener: Listener): void {
    this.#listener = listener;
    if (this.#requested) listener(REQUEST);
  }

  /** A second request changes nothing: a caller's stop is never a kill. */
  onRepeat(): void {}

  request(): void {
    if (this.#requested) return;
    this.#requested = true;
    this.#listener?.(REQUEST);
  }
}

/** Passed on to a launched command as SIGTERM, the signal a service manager's stop sends. */
const REQUEST: ReceivedSignal = { name: 'SIGTERM', fromTerminal: false };
