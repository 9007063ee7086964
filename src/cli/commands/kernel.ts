// `leakhound kernel [--pid PID] [--comm NAME] [--cgroup PATH] [--attach METHOD]`
import type { ArgumentsCamelCase, Argv } from 'yargs';

import { LeakhoundError } from '../../errors.js';
import { applySuppressions } from '../../report/suppressions.js';
import { ATTACH_CHOICES, type AttachChoice, checkPid, resolveCgroup } from '../../trace/kernel-preflight.js';
import { COMM_BYTES, DEFAULT_KERNEL_MAX_STACKS, DEFAULT_MAX_ALLOCATIONS, traceKernel } from '../../trace/kernel-trace.js';
import { DEFAULT_RING_BYTES } from '../../trace/pump.js';
import { checkOutputs, emitReport, exitCodeAfterTrace } from '../emit.js';
import { MAX_BPF_TABLE_ENTRIES, MAX_PID, parseNumber, readCommonOptions, withCommonOptions } from '../options.js';
import { openMetrics, withMetricsOptions } from '../metrics-options.js';
import { liveTracing, withLiveOption } from '../live-terminal.js';
import { catchStopSignals } from '../stop.js';
import { readSuppressionFiles, withSuppressionsOption } from '../suppression-files.js';

export const command = 'kernel [options]';
export const describe = 'trace kernel allocations (kmalloc, slab caches, pages, per-CPU) and report those never freed, as root';

export function builder(yargs: Argv) {
  return withLiveOption(withSuppressionsOption(withCommonOptions(withMetricsOptions(yargs), DEFAULT_KERNEL_MAX_STACKS)))
    .option('pid', { type: 'string', describe: 'only allocations made in the context of this process' })
    .option('comm', { type: 'string', describe: `only allocations made by tasks of this command name (its first ${COMM_BYTES} bytes)` })
    .option('cgroup', { type: 'string', describe: 'only allocations made by tasks in this cgroup v2 directory or below it' })
    .option('attach', { type: 'string', default: 'auto', describe: `how to attach: ${ATTACH_CHOICES.join(', ')}` })
    .option('max-allocations', { type: 'string', default: String(DEFAULT_MAX_ALLOCATIONS), describe: 'outstanding allocations the BPF table holds' });
}

export async function handler(argv: ArgumentsCamelCase<Record<string, unknown>>): Promise<number> {
  const common = readCommonOptions(argv);
  const command = (argv['--'] as unknown[] | undefined) ?? [];
  if (command.length > 0) {
    throw new LeakhoundError('USAGE', `leakhound kernel traces the whole kernel and runs no command ('${String(command[0])}' was given)`, 'run the command on its own and filter with --comm NAME or --pid PID, or use leakhound trace -- COMMAND for its heap');
  }
  const text = (key: string) => (argv[key] === undefined ? undefined : String(argv[key]));
  const attach = text('attach') as AttachChoice;
  if (!ATTACH_CHOICES.includes(attach)) {
    throw new LeakhoundError('USAGE', `--attach ${JSON.stringify(attach)} is not a method leakhound knows`, `use one of ${ATTACH_CHOICES.join(', ')}`);
  }
  const pid = parseNumber('pid', text('pid'), { integer: true, positive: true, max: MAX_PID });
  if (pid !== null) checkPid(pid);
  const comm = text('comm') ?? null;
  if (comm === '') throw new LeakhoundError('USAGE', '--comm needs a command name', 'e.g. --comm nginx');
  const cgroupPath = text('cgroup');
  const cgroup = cgroupPath === undefined ? null : resolveCgroup(cgroupPath);
  const suppressions = readSuppressionFiles(argv);
  const metrics = (await openMetrics(argv)) ?? undefined;
  const stop = catchStopSignals();
  const outputs = await checkOutputs(common, { launch: false });
  const live = liveTracing(argv, common, 'kernel');
  const result = await traceKernel({
    pid,
    comm,
    cgroup,
    attach,
    durationMs: common.durationMs,
    intervalMs: common.intervalMs,
    minSize: common.minSize,
    maxSize: common.maxSize,
    olderThanMs: common.olderThanMs,
    churnStacks: common.churnStacks,
    maxAllocations: parseNumber('max-allocations', text('maxAllocations'), { integer: true, positive: true, max: MAX_BPF_TABLE_ENTRIES }) as number,
    maxStacks: common.maxStacks,
    ringBytes: DEFAULT_RING_BYTES,
    verbose: common.verbose,
    metrics,
    ...live.options,
    stop,
  }).finally(live.end);
  return exitCodeAfterTrace(await emitReport(applySuppressions(result.report, suppressions), outputs), null);
}
