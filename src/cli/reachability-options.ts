// --reachability and --pause for `leakhound trace`: what they apply to.
import type { Argv } from 'yargs';

import { LeakhoundError } from '../errors.js';

export function withReachabilityOptions<T>(yargs: Argv<T>) {
  return yargs
    .option('reachability', { type: 'boolean', default: false, describe: 'sort the outstanding blocks into leak classes (definitely, indirectly or possibly lost, still reachable) by scanning the target\'s memory for pointers to them: a launched command as it exits, an attached process at the trace\'s end' })
    .option('pause', { type: 'boolean', default: false, describe: 'with --reachability and --pid: stop the process (SIGSTOP) for the scan, then continue it, so that its memory holds still while read' });
}

export interface ReachabilityChoice {
  reachability: boolean;
  pause: boolean;
}

/** The scan needs one process, every block of it seen. */
export function readReachabilityOptions(argv: Record<string, unknown>, target: ReachabilityTarget): ReachabilityChoice {
  return checkReachability({ reachability: Boolean(argv.reachability), pause: Boolean(argv.pause) }, target);
}

export interface ReachabilityTarget {
  launched: boolean;
  cgroup: boolean;
  sampleEvery: number;
}

/** The choice, when it fits the target (for the CLI and the library alike). */
export function checkReachability(choice: ReachabilityChoice, target: ReachabilityTarget): ReachabilityChoice {
  const { reachability, pause } = choice;
  if (pause && !reachability) throw new LeakhoundError('USAGE', '--pause holds the process still for the --reachability scan, which was not asked for', 'add --reachability, or leave out --pause');
  if (!reachability) return { reachability, pause };
  if (target.cgroup) throw new LeakhoundError('USAGE', '--reachability scans one process, not a cgroup', 'give --pid PID or a command after --');
  if (pause && target.launched) throw new LeakhoundError('USAGE', '--pause is for an attached process: a launched command is already stopped at its exit for the scan', 'leave out --pause, or use --pid');
  if (target.sampleEvery > 1) throw new LeakhoundError('USAGE', '--reachability needs every block seen, and --sample-every keeps only some', 'leave out --sample-every');
  return { reachability, pause };
}
