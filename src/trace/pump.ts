// The trace loop: drain the ring buffer on a timer, feed the sink, stop on
// the first of duration, signal or the target's end.
import type { Ledger } from '../aggregate/ledger.js';
import { decodeBatch, type EventSink, type ExitStops, type OomSink, type OtherSinks, type TableRequests } from '../ingest/decode.js';
import type { ResourceSink } from '../ingest/resource-sink.js';
import { type KernelClock, type NativeTracer, readCounters } from '../native/binding.js';
import { lostEvents } from '../native/layout.js';
import type { StopSignal } from './stop-signal.js';
import { stopRecording } from './stop-recording.js';
import { type ResourcesHeld, summaryLine } from './summary-line.js';

export type StopReason = 'duration' | 'signal' | 'target-exit' | 'oom';

/** How often the ring buffer is drained: the live view's lag. */
export const POLL_MS = 50;

/** The ring buffer's bytes, in either mode. */
export const DEFAULT_RING_BYTES = 32 << 20;

export interface PumpOptions {
  tracer: NativeTracer;
  ledger: Ledger;
  /** What ends the trace early (a launched command's trace ends with the command instead). */
  stop: Pick<StopSignal, 'whenRequested'>;
  durationMs: number | null;
  /** Every this many ms, a summary line goes to `say`. */
  intervalMs: number | null;
  say: (line: string) => void;
  /** Called after each drain; a truthy result ends the trace. */
  targetEnded?: () => boolean;
  /** Called after each drain, e.g. to snapshot the target's maps. */
  afterDrain?: () => void;
  /** Where the walk's requests for unwind tables go. */
  requests?: TableRequests;
  /** Where descriptors and mappings go; the interval line says what they hold. */
  resources?: ResourceSink & ResourcesHeld;
  /** Where the exit probe's records go (--reachability). */
  exits?: ExitStops;
  /** Called once the trace is over, before the probes come off; `drain`
   * takes in what is waiting (--reachability scans an attached process here). */
  beforeDetach?: (drain: () => void) => void;
  /** Where OOM victims go; once it has struck, the trace ends (reason 'oom'). */
  oom?: OomSink & { readonly struck: unknown };
  /** Called at each interval (with intervalMs), after the summary line. */
  onInterval?: (snapshot: IntervalSnapshot) => void;
  /** Whether each interval says its summary line (default true; false where a live view draws instead). */
  intervalLines?: boolean;
}

/** The trace as it stands at one interval. */
export interface IntervalSnapshot {
  /** Since the pump began. */
  elapsedMs: number;
  outstandingBytes: number;
  outstandingAllocations: number;
  /** Seen so far. */
  allocations: number;
  frees: number;
  lostEvents: number;
  /** To be read (per stack, per process), never fed: the pump feeds it. */
  ledger: Pick<Ledger, 'byStack' | 'processes'>;
}

function snapshotOf(elapsedMs: number, ledger: Ledger, tracer: NativeTracer): IntervalSnapshot {
  const { bytes, count } = ledger.live;
  return { elapsedMs, outstandingBytes: bytes, outstandingAllocations: count, allocations: ledger.allocations, frees: ledger.frees, lostEvents: lostEvents(readCounters(tracer)), ledger };
}

export interface PumpResult {
  reason: StopReason;
  durationMs: number;
  events: number;
  /** The kernel's clocks when tracing stopped: ages (--older-than) count to here. */
  endClock: KernelClock;
}

/** Batches one tick may take: a producer faster than the decoder must not
 * keep the loop from its timers and signals (it loses events instead, and
 * they are counted). After the probes are off, the final drain is unbounded. */
const BATCHES_PER_TICK = 16;

/** What is waiting in the ring buffer, decoded: at most `maxBatches` batches. */
export function drainAll(tracer: NativeTracer, sink: EventSink, maxBatches = Infinity, others: OtherSinks = {}): number {
  let events = 0;
  for (let n = 0; n < maxBatches; n++) {
    const batch = tracer.drain();
    if (batch === null) break;
    events += decodeBatch(batch, sink, others);
  }
  return events;
}

export function pump(options: PumpOptions): Promise<PumpResult> {
  const started = performance.now();
  let events = 0;
  let nextInterval = options.intervalMs ?? Infinity;
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const stopListening = () => clearInterval(timer);
    const finish = (reason: StopReason) => {
      stopListening();
      const durationMs = performance.now() - started;
      try {
        options.beforeDetach?.(() => {
          events += drainAll(options.tracer, options.ledger, Infinity, options);
        });
        // Every program stops recording at once: the probes come off one by one.
        stopRecording(options.tracer);
        const endClock = options.tracer.clock();
        // Probes off first (removing uprobes takes a while: not traced
        // time), then whatever they had already submitted.
        options.tracer.detach();
        events += drainAll(options.tracer, options.ledger, Infinity, options);
        options.afterDrain?.();
        resolve({ reason, durationMs, events, endClock });
      } catch (error) {
        reject(error);
      }
    };
    const tick = () => {
      try {
        events += drainAll(options.tracer, options.ledger, BATCHES_PER_TICK, options);
        options.afterDrain?.();
        const elapsed = performance.now() - started;
        if (elapsed >= nextInterval) {
          if (options.intervalLines !== false) options.say(summaryLine(elapsed, options.ledger, options.tracer, options.resources));
          options.onInterval?.(snapshotOf(elapsed, options.ledger, options.tracer));
          nextInterval += options.intervalMs ?? Infinity;
        }
        if (options.oom?.struck) finish('oom');
        else if (options.targetEnded?.()) finish('target-exit');
        else if (options.durationMs !== null && elapsed >= options.durationMs) finish('duration');
      } catch (error) {
        stopListening();
        reject(error);
      }
    };
    timer = setInterval(tick, POLL_MS);
    options.stop.whenRequested(() => finish('signal'));
  });
}
