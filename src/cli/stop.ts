// The signals that stop a trace, caught for the whole run: the first stops
// the trace and the report is written; a later one only says so (a launched
// command's trace kills the command instead: src/trace/user-trace.ts).
import { StopSignal } from '../trace/stop-signal.js';
import { say } from './say.js';

export function catchStopSignals(): StopSignal {
  const stop = new StopSignal();
  stop.onRepeat((signal) => say(`${signal.name}: already stopping; writing the report (SIGKILL ends leakhound at once, and nothing stays attached)`));
  return stop;
}
