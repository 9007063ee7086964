// Per-stack outstanding bytes at each interval, in bounded memory: the
// growth a suspect is judged by (report/suspects.ts). Each point may carry
// the caller's own figures (the process's memory) beside the stacks', kept
// and thinned in step with them.
import type { StackTotal } from './ledger.js';

export interface HistoryLimits {
  /** Points kept: when full, every other one goes and later intervals are
   * taken half as often, so the points always span the whole trace. */
  maxPoints: number;
  /** Stacks followed. */
  maxStacks: number;
}

export const DEFAULT_HISTORY_LIMITS: HistoryLimits = { maxPoints: 256, maxStacks: 256 };

/** One stack's bytes at each point; null before it was followed. */
export type StackSeries = (number | null)[];

export interface HistoryPoint<T> {
  atMs: number;
  /** All traced outstanding bytes at this point. */
  outstandingBytes: number;
  extra: T;
}

/**
 * Which stacks are followed: a stack is taken once its bytes have grown since
 * it was first seen (a stable one, however large, never takes a place), the
 * most grown first. When all places are taken, a newcomer that has grown
 * more than the followed stack that has grown least takes that one's place. The first sight of every stack is kept (a number
 * per stack, as the ledger keeps), so a slow leak beside a large stable heap
 * is still seen.
 */
export class StackHistory<T = undefined> {
  private readonly limits: HistoryLimits;
  private readonly pointList: HistoryPoint<T>[] = [];
  /** Stack id -> its bytes at each kept point. */
  private readonly followed = new Map<number, StackSeries>();
  /** Stack id -> its bytes when first seen. */
  private readonly firstSeen = new Map<number, number>();
  /** Record every this many intervals (doubles each time the points are thinned). */
  private stride = 1;
  private offered = 0;

  constructor(limits: HistoryLimits = DEFAULT_HISTORY_LIMITS) {
    if (limits.maxPoints < 2 || limits.maxStacks < 1) throw new RangeError(`history limits too small: ${JSON.stringify(limits)}`);
    this.limits = limits;
  }

  get points(): readonly HistoryPoint<T>[] {
    return this.pointList;
  }

  /** The stack's bytes at each point, or undefined when it was not followed. */
  series(stackId: number): readonly (number | null)[] | undefined {
    return this.followed.get(stackId);
  }

  get followedStacks(): number {
    return this.followed.size;
  }

  /** One interval: every stack's outstanding total as the ledger has it. */
  record(atMs: number, stacks: readonly StackTotal[], extra: T): void {
    if (this.offered++ % this.stride !== 0) return;
    if (this.pointList.length === this.limits.maxPoints) this.thin();
    const bytes = new Map(stacks.map((stack) => [stack.stackId, stack.bytes]));
    this.admit(bytes);
    for (const [id, series] of this.followed) series.push(bytes.get(id) ?? 0);
    let outstandingBytes = 0;
    for (const stack of stacks) outstandingBytes += stack.bytes;
    this.pointList.push({ atMs, outstandingBytes, extra });
  }

  /** Every other point goes, the oldest kept; later intervals are taken half as often. */
  private thin(): void {
    const keep = <V>(values: V[]) => values.filter((_, i) => i % 2 === 0);
    this.pointList.splice(0, Infinity, ...keep(this.pointList));
    for (const [id, series] of this.followed) this.followed.set(id, keep(series));
    this.stride *= 2;
    this.offered = 1;
  }

  private admit(bytes: Map<number, number>): void {
    const grown: [number, number][] = [];
    for (const [id, now] of bytes) {
      const first = this.firstSeen.get(id);
      if (first === undefined) this.firstSeen.set(id, now);
      else if (!this.followed.has(id) && now > first) grown.push([id, now - first]);
    }
    grown.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    for (const [id, growth] of grown) {
      if (this.followed.size >= this.limits.maxStacks && !this.evictBelow(growth, bytes)) break;
      this.followed.set(id, new Array<number | null>(this.pointList.length).fill(null));
    }
  }

  /** Drops the followed stack that has grown least since first seen, if less than `growth`. */
  private evictBelow(growth: number, bytes: Map<number, number>): boolean {
    let least: [number, number] | null = null;
    for (const id of this.followed.keys()) {
      const grew = (bytes.get(id) ?? 0) - (this.firstSeen.get(id) ?? 0);
      if (least === null || grew < least[1]) least = [id, grew];
    }
    if (least === null || least[1] >= growth) return false;
    this.followed.delete(least[0]);
    return true;
  }
}
