// `leakhound kernel`: load the kernel allocator programs, attach them, pump
// events into the ledger, and report what is left by kernel stack and slab
// cache.
import { release } from 'node:os';

import { Ledger } from '../aggregate/ledger.js';
import { StackHistory } from '../aggregate/stack-history.js';
import { addon, type NativeTracer } from '../native/binding.js';
import { serveTrace } from '../metrics/serve-trace.js';
import type { MetricsEndpoint } from '../metrics/server.js';
import { buildReport } from '../report/build.js';
import type { Report } from '../report/types.js';
import { Kallsyms, low48 } from '../symbolize/kallsyms.js';
import { withKernelBuildIds } from '../symbolize/kernel-build-ids.js';
import { type Capabilities, requireFeatures } from './capabilities.js';
import { type AttachChoice, type AttachMethod, type CgroupTarget, chooseAttach, kprobesAvailable, missingTracepoints } from './kernel-preflight.js';
import { attachOomVictims, OomRecorder, withOomKill } from './oom-recorder.js';
import { loadWithOptional, type OptionalGroup } from './optional-programs.js';
import { KPROBE_OBJECT_TRACEPOINTS, planRunningKernel } from './kernel-kprobes.js';
import { checkBtf, checkPrivileges } from './preflight.js';
import { pump, type StopReason } from './pump.js';
import type { TraceStop } from './stop-signal.js';
import { type LiveSnapshot, liveSnapshot } from './live-snapshot.js';
import { LiveStackNames, type StackSymbols } from '../report/live-stack-names.js';

export interface KernelTraceOptions {
  pid: number | null;
  comm: string | null;
  cgroup: CgroupTarget | null;
  attach: AttachChoice;
  durationMs: number | null;
  intervalMs: number | null;
  minSize: number;
  maxSize: number;
  olderThanMs: number;
  /** Churn stacks the report lists (--churn-stacks). */
  churnStacks: number;
  maxAllocations: number;
  maxStacks: number;
  ringBytes: number;
  verbose: boolean;
  /** Serves the live figures while tracing (--metrics-port). */
  metrics?: MetricsEndpoint;
  /** One line for the user while tracing (stderr). */
  say: (line: string) => void;
  /** Called at each interval, with the top stacks named on request (the live view, the library). */
  onInterval?: (snapshot: LiveSnapshot) => void;
  /** Whether each interval says its summary line (default true). */
  intervalLines?: boolean;
  /** Signals that stop the trace (the caller's, alive until it exits). */
  stop: TraceStop;
}

export interface KernelTraceResult {
  report: Report;
  reason: StopReason;
}

/** `category:name`; each BPF program is named after its tracepoint. The
 * slab allocator's are required (kprobes can stand in for them); the
 * others are optional groups (see OPTIONAL_GROUPS). */
export const SLAB_TRACEPOINTS = ['kmem:kmalloc', 'kmem:kfree', 'kmem:kmem_cache_alloc', 'kmem:kmem_cache_free'] as const;
export const TRACEPOINTS = [...SLAB_TRACEPOINTS, ...KPROBE_OBJECT_TRACEPOINTS] as const;

/** What each object can do without, program by program (named after their tracepoints). */
const OPTIONAL_GROUPS: OptionalGroup[] = [
  { programs: ['mm_page_alloc', 'mm_page_free', 'mm_page_free_batched'], lacking: 'page allocations are not traced' },
  { programs: ['percpu_alloc_percpu', 'percpu_free_percpu'], lacking: 'per-CPU allocations are not traced' },
];

/** Distinct kernel stacks the BPF table holds by default. */
export const DEFAULT_KERNEL_MAX_STACKS = 1 << 15;

/** Outstanding kernel allocations the BPF table holds by default. */
export const DEFAULT_MAX_ALLOCATIONS = 1 << 20;

/** The kernel keeps TASK_COMM_LEN (16) bytes of a command name, NUL included. */
export const COMM_BYTES = 15;

export async function traceKernel(options: KernelTraceOptions): Promise<KernelTraceResult> {
  checkPrivileges();
  checkBtf();
  const features = addon().kernelFeatures();
  requireFeatures(features, 'kernel');
  const missing = missingTracepoints(TRACEPOINTS);
  const slabMissing = missing.filter((tracepoint) => (SLAB_TRACEPOINTS as readonly string[]).includes(tracepoint));
  const method = chooseAttach(options.attach, slabMissing, kprobesAvailable());
  const attach = { chosen: method, reason: attachReason(options.attach, method, slabMissing) };
  if (options.verbose) options.say(`attach: ${method}s (${attach.reason})`);
  // Which functions to probe is known before anything is loaded.
  const kprobes = method === 'kprobe' ? planRunningKernel() : [];
  const absent = (program: string) => {
    const tracepoint = missing.find((t) => t.endsWith(`:${program}`));
    return tracepoint ? `the kernel has no tracepoint ${tracepoint}` : null;
  };
  const load = (skip: string[]) =>
    new (addon().Tracer)(method === 'kprobe' ? 'kernel-kprobe' : 'kernel', {
      knobs: knobs(options),
      maxEntries: { allocs: options.maxAllocations, stacks: options.maxStacks, stack_caches: options.maxStacks, events: options.ringBytes },
      batchBytes: 4 << 20,
      skipPrograms: skip,
    });
  const { tracer, skipped, missing: lacking } = loadWithOptional(load, OPTIONAL_GROUPS, absent);
  for (const line of lacking) options.say(`warning: ${line}`);
  const capabilities: Capabilities = { kernel: release(), features, attach, missing: lacking };
  try {
    for (const set of kprobes) {
      tracer.attachKprobes(set.program, set.functions, set.cookies, set.isReturn);
      if (options.verbose) options.say(`attached ${set.isReturn ? 'kretprobes' : 'kprobes'} (${set.program}) to ${set.functions.join(', ')}`);
    }
    for (const tracepoint of method === 'kprobe' ? KPROBE_OBJECT_TRACEPOINTS : TRACEPOINTS) {
      const [category, name] = tracepoint.split(':');
      if (skipped.includes(name)) continue;
      tracer.attachTracepoint(name, category, name);
      if (options.verbose) options.say(`attached to ${tracepoint}`);
    }
    if (method === 'kprobe') tracer.run('arm_pairing');
    options.say(`attached to the kernel's allocators for ${describeFilters(options)} (${method}s)`);
    return await traceWith(method === 'kprobe' ? disarmedOnDetach(tracer) : tracer, options.stop, options, capabilities);
  } finally {
    tracer.close();
  }
}

/** The kprobe object stops counting unpaired calls before its probes come
 * off one by one (see arm_pairing in bpf/kernel-kprobe.bpf.c). */
function disarmedOnDetach(tracer: NativeTracer): NativeTracer {
  return new Proxy(tracer, {
    get(target, property) {
      if (property === 'detach') {
        return () => {
          target.run('disarm_pairing');
          target.detach();
        };
      }
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Why this attach method, for --verbose and the report. */
function attachReason(choice: AttachChoice, method: AttachMethod, slabMissing: string[]): string {
  if (choice !== 'auto') return `--attach ${choice}`;
  if (method === 'tracepoint') return 'the kernel has the slab allocator\'s tracepoints (a stable interface, and the cheapest)';
  return `the kernel lacks the tracepoints ${slabMissing.join(', ')}`;
}

async function traceWith(tracer: NativeTracer, stop: TraceStop, options: KernelTraceOptions, capabilities: Capabilities): Promise<KernelTraceResult> {
  const ledger = new Ledger({ perProcess: false });
  // Any process's kill ends the trace: the report is the kernel's memory at that moment.
  const oom = attachOomVictims(tracer, options.say) ? new OomRecorder(() => true, options.say) : null;
  const history = options.intervalMs === null ? null : new StackHistory<null>();
  // Scrapes read the ledger as it stands; labels are named from kallsyms as read at the first scrape.
  const served = serveTrace(options.metrics, {
    mode: 'kernel',
    ledger,
    resources: null,
    tracer,
    sampleEvery: 1,
    readStack: (id) => Array.from(tracer.stack(id), low48),
    openSymbols: kallsymsSymbols,
  });
  // Names for the stacks an interval consumer asks for, from kallsyms as read at the first.
  const liveNames = options.onInterval ? new LiveStackNames({ mode: 'kernel', readStack: (id) => Array.from(tracer.stack(id), low48), openSymbols: kallsymsSymbols }) : null;
  const result = await pump({
    tracer,
    ledger,
    stop,
    durationMs: options.durationMs,
    intervalMs: options.intervalMs,
    say: options.say,
    ...(oom ? { oom } : {}),
    onInterval: (snapshot) => {
      history?.record(snapshot.elapsedMs, snapshot.ledger.byStack(), null);
      if (liveNames) options.onInterval?.(liveSnapshot(snapshot, liveNames));
    },
    intervalLines: options.intervalLines ?? true,
  });
  await served?.end();
  // Read after tracing, so that code loaded meanwhile has its symbols too.
  const kallsyms = Kallsyms.load();
  const report = buildReport({
    mode: 'kernel',
    target: { pid: options.pid, command: null, exitCode: null, cpuMs: null },
    durationMs: result.durationMs,
    ledger,
    tracer,
    olderThanMs: options.olderThanMs,
    churnStacks: options.churnStacks,
    endClock: result.endClock,
    // Stack frames are full 64-bit addresses; kallsyms works on the low 48 bits.
    readStack: (id) => Array.from(tracer.stack(id), low48),
    resolveStacks: (stacks) => withKernelBuildIds(kallsyms.resolveStacks(stacks)),
    cacheOf: (id) => cacheName(tracer.lookup('stack_caches', id)),
    capabilities,
    ...(history ? { growth: { history, pid: null } } : {}),
  });
  return { report: withOomKill(report, oom), reason: result.reason };
}

/** Kernel stacks named mid-trace, from kallsyms as it is now. */
function kallsymsSymbols(): StackSymbols {
  const kallsyms = Kallsyms.load();
  return { resolveStacks: (stacks) => kallsyms.resolveStacks(stacks), close: () => {} };
}

/** The kernel objects' .rodata knobs (test/unit/contract.test.ts checks the names against the BPF objects). */
export function knobs(options: KernelTraceOptions): Record<string, number> {
  const comm = Buffer.alloc(16);
  if (options.comm !== null) comm.write(options.comm, 0, COMM_BYTES, 'utf8');
  return {
    min_size: options.minSize,
    max_size: options.maxSize,
    page_size: 4096,
    target_tgid: options.pid ?? 0,
    target_cgroup: options.cgroup?.id ?? 0,
    target_cgroup_level: options.cgroup?.level ?? 0,
    // The name travels as four little-endian words (see native/kernel-loader.cc).
    ...Object.fromEntries([0, 1, 2, 3].map((i) => [`target_comm_${i}`, comm.readUInt32LE(i * 4)])),
  };
}

/** A NUL-terminated name, or undefined when there is none. */
function cacheName(value: Buffer | null): string | undefined {
  if (value === null) return undefined;
  const end = value.indexOf(0);
  const name = value.toString('latin1', 0, end < 0 ? value.length : end);
  return name === '' ? undefined : name;
}

function describeFilters(options: KernelTraceOptions): string {
  const filters = [
    options.pid === null ? null : `pid ${options.pid}`,
    options.comm === null ? null : `command ${options.comm}`,
    options.cgroup === null ? null : `cgroup id ${options.cgroup.id}`,
  ].filter((filter) => filter !== null);
  return filters.length === 0 ? 'the whole system' : filters.join(', ');
}
