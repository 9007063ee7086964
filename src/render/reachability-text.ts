// The text report's reachability section: the scan, the four classes, and
// the stacks with lost blocks, most lost bytes first.
import type { ReachabilityClasses, ReachabilityReport, Report, StackReport } from '../report/types.js';
import { countOf, humanBytes } from './format.js';
import { stackFrameLines } from './frame-text.js';
import { moreStacks, rankedBlocks } from './ranked.js';

const CLASS_NAMES: [keyof ReachabilityClasses, string][] = [
  ['definitelyLost', 'definitely lost'],
  ['indirectlyLost', 'indirectly lost'],
  ['possiblyLost', 'possibly lost'],
  ['stillReachable', 'still reachable'],
];

function lostBytes(classes: ReachabilityClasses): number {
  return classes.definitelyLost.bytes + classes.indirectlyLost.bytes + classes.possiblyLost.bytes;
}

/** `definitely lost 48 bytes in 1 allocation, possibly lost ...`: the classes that hold any. */
function describeClasses(classes: ReachabilityClasses): string {
  const held = CLASS_NAMES.filter(([key]) => classes[key].allocations > 0);
  return held.map(([key, name]) => `${name} ${countOf(classes[key].bytes, 'byte')} in ${countOf(classes[key].allocations, 'allocation')}`).join(', ') || 'no blocks';
}

function describeScan(scan: ReachabilityReport): string {
  const when = scan.when === 'exit' ? 'as it exited' : "at the trace's end";
  const held = scan.pausedMs === null ? 'running' : `stopped ${scan.pausedMs} ms`;
  const running = scan.threadsRunning > 0 ? ` (the stacks of ${countOf(scan.threadsRunning, 'running thread')} read whole)` : '';
  return `scanned PID ${scan.pid} ${when} (${held}): ${humanBytes(scan.bytesScanned)} in ${countOf(scan.regions, 'mapping')} read in ${scan.scanMs} ms, ${countOf(scan.threads, 'thread')}${running}, ${describeRegisters(scan)}`;
}

function describeRegisters(scan: ReachabilityReport): string {
  if (scan.registersMs === null) return 'registers not read (running)';
  const unread = scan.threadsWithoutRegisters > 0 ? ` (not those of ${countOf(scan.threadsWithoutRegisters, 'thread')}: ptrace refused, or gone)` : '';
  return `registers read in ${scan.registersMs} ms${unread}`;
}

function stackBlock(stack: StackReport & { reachability: ReachabilityClasses }, rank: number, mode: Report['mode']): string[] {
  return [`#${rank}  ${describeClasses(stack.reachability)}`, ...stackFrameLines(stack, mode)];
}

export function reachabilityTextLines(report: Report, top: number): string[] {
  const scan = report.reachability;
  if (!scan) return [];
  const lines = ['', `reachability: ${describeScan(scan)}`];
  for (const [key, name] of CLASS_NAMES) lines.push(`  ${name}: ${countOf(scan[key].bytes, 'byte')} in ${countOf(scan[key].allocations, 'allocation')}`);
  const lost = report.stacks
    .filter((stack): stack is StackReport & { reachability: ReachabilityClasses } => stack.reachability !== undefined && lostBytes(stack.reachability) > 0)
    .sort((a, b) => lostBytes(b.reachability) - lostBytes(a.reachability));
  lines.push(...rankedBlocks(lost, top, (stack, rank) => stackBlock(stack, rank, report.mode), (hidden) => moreStacks(hidden, (stack) => lostBytes(stack.reachability), 'lost byte')));
  return lines;
}
