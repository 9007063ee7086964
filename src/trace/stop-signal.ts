// The signals that stop a trace (SIGINT, SIGTERM, SIGHUP for a dropped ssh
// session, SIGPIPE), caught from the first moment: a signal that lands while
// probes are being attached still ends in a report and a clean detach,
// instead of Node's default exit. Later signals go to their own listener.
import { constants } from 'node:os';

import { addon } from '../native/binding.js';

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGPIPE'] as const;
export type StopSignalName = (typeof STOP_SIGNALS)[number];

export interface ReceivedSignal {
  name: StopSignalName;
  /** Sent by the terminal (Ctrl-C, a hang-up) to its whole foreground
   * process group, so a command leakhound launched got it too. */
  fromTerminal: boolean;
}

/** include/uapi/asm-generic/siginfo.h: the kernel sent it (the tty layer does). */
const SI_KERNEL = 0x80;

type Listener = (signal: ReceivedSignal) => void;

/** What a trace needs of its stop: the process's signals (StopSignal), or a library caller's own stop. */
export type TraceStop = Pick<StopSignal, 'whenRequested' | 'onRepeat'>;

export class StopSignal {
  /** The signal that asked for the stop, once one came. */
  first: ReceivedSignal | null = null;
  #listener: Listener | null = null;
  #repeatListener: Listener | null = null;
  #repeats: ReceivedSignal[] = [];
  readonly #handlers = new Map<StopSignalName, () => void>();

  constructor() {
    for (const name of STOP_SIGNALS) {
      const handler = () => this.#received(name);
      this.#handlers.set(name, handler);
      process.on(name, handler);
    }
    addon().watchSignalOrigins(STOP_SIGNALS.map((name) => constants.signals[name]));
  }

  /** Calls `listener` on the first signal, or at once if it already came. */
  whenRequested(listener: Listener): void {
    this.#listener = listener;
    if (this.first) listener(this.first);
  }

  /** Calls `listener` on each signal after the first, including any that already came. */
  onRepeat(listener: Listener): void {
    this.#repeatListener = listener;
    for (const signal of this.#repeats.splice(0)) listener(signal);
  }

  dispose(): void {
    this.#listener = null;
    this.#repeatListener = null;
    for (const [name, handler] of this.#handlers) process.off(name, handler);
  }

  #received(name: StopSignalName): void {
    const origin = addon().signalOrigin(constants.signals[name]);
    // The kernel's answer to leakhound's own write into a closed pipe (a
    // reader of stderr gone): the write fails with EPIPE and is dealt with
    // there, and the trace goes on.
    if (name === 'SIGPIPE' && origin?.pid === process.pid) return;
    const signal = { name, fromTerminal: origin?.code === SI_KERNEL };
    if (this.first === null) {
      this.first = signal;
      this.#listener?.(signal);
    } else if (this.#repeatListener) {
      this.#repeatListener(signal);
    } else {
      this.#repeats.push(signal);
    }
  }
}
