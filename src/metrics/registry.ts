// The metric families leakhound serves, on a registry of their own (no
// default process metrics: those would describe leakhound, not the target).
// Each family's collect callback reads the scrape's snapshot.
import { Counter, Gauge, Registry } from 'prom-client';

import type { LiveSource } from './live-source.js';
import { type MetricsSnapshot, takeSnapshot, TOP_STACKS } from './snapshot.js';

type Figure = Exclude<keyof MetricsSnapshot, 'stacks'>;

/** Families of one figure each: name, help, whether it only grows, and its figure. */
const FIGURES: [string, string, 'gauge' | 'counter', Figure][] = [
  ['leakhound_outstanding_bytes', 'Bytes the target holds that were allocated while tracing', 'gauge', 'outstandingBytes'],
  ['leakhound_outstanding_allocations', 'Blocks the target holds that were allocated while tracing', 'gauge', 'outstandingAllocations'],
  ['leakhound_allocations_total', 'Allocations seen', 'counter', 'allocations'],
  ['leakhound_frees_total', 'Frees of blocks allocated while tracing', 'counter', 'frees'],
  ['leakhound_lost_events_total', 'Events lost: ring buffer full, or a probe the kernel skipped', 'counter', 'lostEvents'],
  ['leakhound_failed_stacks_total', 'Allocations whose stack could not be kept', 'counter', 'failedStacks'],
  ['leakhound_open_fds', 'Descriptors the target opened while tracing and still holds', 'gauge', 'openFds'],
  ['leakhound_mapped_bytes', 'Bytes of mappings the target made while tracing and still holds', 'gauge', 'mappedBytes'],
];

/** The families over `source`; `render` takes one snapshot and writes the text exposition. */
export class MetricsRegistry {
  readonly registry = new Registry();
  #snapshot: MetricsSnapshot | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #source: LiveSource;
  readonly #top: number;

  constructor(source: LiveSource, top = TOP_STACKS) {
    this.#source = source;
    this.#top = top;
    const now = () => this.#snapshot as MetricsSnapshot;
    // Descriptors and mappings only when they are traced: a 0 would say "none open".
    const resources: Partial<Record<Figure, number | null>> = source.resources();
    for (const [name, help, type, figure] of FIGURES) {
      if (resources[figure] === null) continue;
      const read = () => now()[figure] as number;
      if (type === 'gauge') new Gauge({ name, help, registers: [this.registry], collect() { this.set(read()); } });
      else new Counter({ name, help, registers: [this.registry], collect() { this.reset(); this.inc(read()); } });
    }
    const perStack = (name: string, help: string, key: 'bytes' | 'allocations') =>
      new Gauge({
        name,
        help: `${help}, the ${top} largest stacks by outstanding bytes and the sum of the rest`,
        labelNames: ['stack'],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const series of now().stacks) this.set({ stack: series.label }, series[key]);
        },
      });
    perStack('leakhound_stack_outstanding_bytes', 'Bytes outstanding by allocating stack', 'bytes');
    perStack('leakhound_stack_outstanding_allocations', 'Blocks outstanding by allocating stack', 'allocations');
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Scrapes one after another: each reads its own snapshot to the end. */
  render(): Promise<string> {
    const text = this.#queue.then(() => this.#renderNow());
    this.#queue = text.catch(() => {});
    return text;
  }

  async #renderNow(): Promise<string> {
    this.#snapshot = takeSnapshot(this.#source, this.#top);
    try {
      return await this.registry.metrics();
    } finally {
      this.#snapshot = null;
    }
  }
}
