// `leakhound trace --pid PID | --cgroup DIR | -- COMMAND...`
import type { ArgumentsCamelCase, Argv } from 'yargs';

import { LeakhoundError } from '../../errors.js';
import { tracedCgroup } from '../../trace/preflight.js';
import { LEAK_GATE_EXIT_CODE, exitCodeWithGate, judgeLeakGate } from '../../report/leak-gate.js';
import { applySuppressions } from '../../report/suppressions.js';
import { DEFAULT_RING_BYTES } from '../../trace/pump.js';
import { DEFAULT_MAX_STACKS, DEFAULT_STACK_DEPTH, DEFAULT_UNWIND_ROWS, traceUser } from '../../trace/user-trace.js';
import { checkOutputs, emitReport, exitCodeAfterTrace, tellLeakGate } from '../emit.js';
import { MAX_BPF_TABLE_ENTRIES, MAX_PID, parseNumber, readCommonOptions, withCommonOptions } from '../options.js';
import { openMetrics, withMetricsOptions } from '../metrics-options.js';
import { readReachabilityOptions, withReachabilityOptions } from '../reachability-options.js';
import { liveTracing, withLiveOption } from '../live-terminal.js';
import { catchStopSignals } from '../stop.js';
import { readSuppressionFiles, withSuppressionsOption } from '../suppression-files.js';

export const command = 'trace';
export const describe = 'trace the malloc family of a running process (--pid), of the processes of a cgroup (--cgroup), or of a command it starts';

export function builder(yargs: Argv) {
  return withLiveOption(withSuppressionsOption(withCommonOptions(withMetricsOptions(withReachabilityOptions(yargs)).usage('$0 trace [options] (--pid PID | --cgroup DIR | -- COMMAND [ARGS...])'), DEFAULT_MAX_STACKS)))
    .option('fail-on-leak', { type: 'string', describe: `exit ${LEAK_GATE_EXIT_CODE} when more than BYTES are still held at the end (after --suppressions), and list their stacks on stderr` })
    .option('pid', { type: 'string', describe: 'attach to this running process' })
    .option('cgroup', { type: 'string', describe: 'trace every process in this cgroup v2 directory or below it, now and later (a container, a service)' })
    .option('allocator', { type: 'string', describe: 'probe this object instead of the allocator found in the target' })
    .option('stack-depth', { type: 'string', default: String(DEFAULT_STACK_DEPTH), describe: 'frames kept per stack (1-64)' })
    .option('follow-children', { type: 'boolean', default: false, describe: 'also trace every process the target forks or execs from now on (each from its first allocation)' })
    .option('unwind-rows', { type: 'string', default: String(DEFAULT_UNWIND_ROWS), describe: 'room for rows of unwind tables from .eh_frame (8 bytes each, taken at start); 0: walk frame pointers alone' })
    .option('sample-every', { type: 'string', default: '1', describe: 'keep each allocation with probability 1/N and scale the figures by N (cheaper; an estimate)' })
    .option('fds', { type: 'boolean', default: true, describe: 'trace file descriptors by the stack that made them (--no-fds: not)' })
    .option('mappings', { type: 'boolean', default: true, describe: 'trace mmap, mremap and brk mappings by the stack that made them (--no-mappings: not)' })
    .option('free-stacks', { type: 'boolean', default: true, describe: "take each free's stack, to name both frees of a block freed twice (--no-free-stacks: cheaper frees)" });
}

export async function handler(argv: ArgumentsCamelCase<Record<string, unknown>>): Promise<number> {
  const common = readCommonOptions(argv);
  const command = (argv['--'] as (string | number)[] | undefined)?.map(String) ?? [];
  const pid = parseNumber('pid', argv.pid === undefined ? undefined : String(argv.pid), { integer: true, positive: true, max: MAX_PID });
  const cgroup = argv.cgroup === undefined ? null : tracedCgroup(String(argv.cgroup));
  if ([pid !== null, command.length > 0, cgroup !== null].filter(Boolean).length !== 1) {
    throw new LeakhoundError('USAGE', 'give one of --pid PID, --cgroup DIR or a command after --', 'e.g. leakhound trace -- ./app, or leakhound trace --pid 1234');
  }
  if (pid === process.pid) throw new LeakhoundError('USAGE', 'leakhound cannot trace itself', 'give another PID');
  const stackDepth = parseNumber('stack-depth', String(argv.stackDepth), { integer: true, positive: true, max: DEFAULT_STACK_DEPTH }) as number;
  // The BPF side draws a 32-bit random number against it.
  const sampleEvery = parseNumber('sample-every', String(argv.sampleEvery), { integer: true, positive: true, max: 2 ** 32 - 1 }) as number;
  const unwindRows = parseNumber('unwind-rows', String(argv.unwindRows), { integer: true, max: MAX_BPF_TABLE_ENTRIES }) as number;
  const { reachability, pause } = readReachabilityOptions(argv, { launched: command.length > 0, cgroup: cgroup !== null, sampleEvery });
  const failOnLeak = parseNumber('fail-on-leak', argv.failOnLeak === undefined ? undefined : String(argv.failOnLeak), { integer: true });
  const suppressions = readSuppressionFiles(argv);
  const metrics = (await openMetrics(argv)) ?? undefined;
  const stop = catchStopSignals();
  const outputs = await checkOutputs(common, { launch: command.length > 0 });
  const live = liveTracing(argv, common, 'user');
  const result = await traceUser({
    pid,
    command: command.length > 0 ? command : null,
    cgroup,
    durationMs: common.durationMs,
    intervalMs: common.intervalMs,
    minSize: common.minSize,
    maxSize: common.maxSize,
    olderThanMs: common.olderThanMs,
    churnStacks: common.churnStacks,
    allocator: argv.allocator === undefined ? null : String(argv.allocator),
    stackDepth,
    sampleEvery,
    maxStacks: common.maxStacks,
    ringBytes: DEFAULT_RING_BYTES,
    unwindRows,
    verbose: common.verbose,
    followChildren: Boolean(argv.followChildren),
    fds: Boolean(argv.fds),
    mappings: Boolean(argv.mappings),
    freeStacks: Boolean(argv.freeStacks),
    reachability,
    pause,
    metrics,
    ...live.options,
    stop,
  }).finally(live.end);
  const report = applySuppressions(result.report, suppressions);
  const emitted = await emitReport(report, outputs);
  const code = exitCodeAfterTrace(emitted, result.commandExit ? (await result.commandExit).code : null);
  const verdict = failOnLeak === null ? null : judgeLeakGate(report, failOnLeak);
  if (verdict !== null) tellLeakGate(verdict, report.mode, common.top, code);
  return exitCodeWithGate(verdict, code);
}
