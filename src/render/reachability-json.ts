// The reachability objects of the JSON report, rebuilt field by field as
// json.ts does every other.
import type { ReachabilityClasses, ReachabilityCount, ReachabilityReport } from '../report/types.js';

const count = (c: ReachabilityCount): ReachabilityCount => ({ bytes: c.bytes, allocations: c.allocations });

export function classesJson(classes: ReachabilityClasses): ReachabilityClasses {
  return {
    definitelyLost: count(classes.definitelyLost),
    indirectlyLost: count(classes.indirectlyLost),
    possiblyLost: count(classes.possiblyLost),
    stillReachable: count(classes.stillReachable),
  };
}

export function reachabilityJson(scan: ReachabilityReport): ReachabilityReport {
  return {
    pid: scan.pid,
    when: scan.when,
    ...classesJson(scan),
    bytesScanned: scan.bytesScanned,
    regions: scan.regions,
    threads: scan.threads,
    threadsRunning: scan.threadsRunning,
    threadsWithoutRegisters: scan.threadsWithoutRegisters,
    registersMs: scan.registersMs,
    scanMs: scan.scanMs,
    pausedMs: scan.pausedMs,
  };
}
