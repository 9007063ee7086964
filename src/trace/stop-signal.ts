// SIGINT and SIGTERM, caught from the first moment of a trace: a Ctrl-C that
// lands while probes are being attached still ends in a report and a clean
// detach, instead of Node's default exit.
export class StopSignal {
  requested = false;
  private listener: (() => void) | null = null;
  private readonly onSignal = () => {
    this.requested = true;
    this.listener?.();
  };

  constructor() {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  /** Calls `listener` on the next signal, or at once if one already came. */
  whenRequested(listener: () => void): void {
    this.listener = listener;
    if (this.requested) listener();
  }

  dispose(): void {
    this.listener = null;
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
}
