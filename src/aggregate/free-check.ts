// Frees that find no outstanding block, judged against the frees seen: a
// double free when the process freed the address while tracing and nothing
// was allocated there since, an unknown pointer when the allocator never
// returned it. The frees remembered are the most recent ones of all
// processes together, a bounded FIFO; so are the invalid frees kept.
import { NumberMap } from './number-map.js';

export type InvalidFreeKind = 'double-free' | 'unknown-pointer';

export interface InvalidFree {
  kind: InvalidFreeKind;
  tgid: number;
  addr: number;
  /** The offending free's BPF stack id (0: none captured). */
  stackId: number;
  /** A double free's: the stack id of the free that released the block first. */
  previousStackId: number | null;
  /** Frees of the same kind from the same stack after this one, not kept. */
  repeats: number;
}

export interface FreeCheckOptions {
  /** Report frees of pointers never returned by the allocator: sound only
   * when every allocation of the process was seen. */
  unknownPointers: boolean;
  /** Recent frees remembered, over all processes. */
  recentLimit?: number;
  /** Invalid frees kept. */
  keepLimit?: number;
}

const RECENT_LIMIT = 2 ** 20;
const KEEP_LIMIT = 1000;
/** Invalid frees kept per kind and stack: more from one place say nothing
 * new, and one busy place must not crowd out the rest. */
const PER_STACK = 10;
/** A ring position holding no free (forgotten since). */
const NONE = -1;

export class FreeCheck {
  private readonly unknownPointers: boolean;
  private readonly keepLimit: number;
  /** Per process: address -> its position in the ring. */
  private readonly recent = new Map<number, NumberMap>();
  private readonly ringTgids: Int32Array;
  private readonly ringAddrs: Float64Array;
  private readonly ringStacks: Float64Array;
  private next = 0;
  /** The process of the last call: events come in runs of one process. */
  private lastTgid = NaN;
  private lastRecent: NumberMap | undefined;
  /** Forked and not exec'd since: such a process frees blocks its parent allocated. */
  private readonly inherited = new Set<number>();
  /** `kind:stackId` -> the last invalid free kept from there, and how many were. */
  private readonly places = new Map<string, { last: InvalidFree; kept: number }>();
  /** The first invalid frees, in the order seen. */
  readonly invalid: InvalidFree[] = [];
  /** Invalid frees neither kept nor counted as a kept one's repeat. */
  omitted = 0;

  constructor(options: FreeCheckOptions) {
    this.unknownPointers = options.unknownPointers;
    this.keepLimit = options.keepLimit ?? KEEP_LIMIT;
    const limit = options.recentLimit ?? RECENT_LIMIT;
    this.ringTgids = new Int32Array(limit);
    this.ringAddrs = new Float64Array(limit).fill(NONE);
    this.ringStacks = new Float64Array(limit);
  }

  /** Process `tgid` freed `addr` from stack `stackId`; `released`: the free
   * released an outstanding block, or is a realloc's (never invalid). */
  freed(tgid: number, addr: number, stackId: number, released: boolean): void {
    const recent = this.recentOf(tgid) ?? this.startRecent(tgid);
    const at = recent.get(addr);
    if (at >= 0) {
      // The first free stays the one remembered: it is the one to show.
      if (!released) this.keep('double-free', tgid, addr, stackId, this.ringStacks[at]);
      return;
    }
    if (!released && this.unknownPointers && !this.inherited.has(tgid)) this.keep('unknown-pointer', tgid, addr, stackId, null);
    this.remember(tgid, recent, addr, stackId);
  }

  /** The allocator handed out `addr` again: a free of it is no longer a double free. */
  allocated(tgid: number, addr: number): void {
    const at = this.recentOf(tgid)?.delete(addr) ?? NONE;
    if (at >= 0) this.ringAddrs[at] = NONE;
  }

  /** The child's first frees may be of its parent's blocks. */
  fork(child: number): void {
    this.forget(child);
    this.inherited.add(child);
  }

  /** A new program: its addresses have nothing to do with the old one's. */
  exec(tgid: number): void {
    this.forget(tgid);
    this.inherited.delete(tgid);
  }

  private forget(tgid: number): void {
    this.recent.delete(tgid);
    this.lastTgid = NaN;
  }

  /** The process's recent frees; undefined while it has none. */
  private recentOf(tgid: number): NumberMap | undefined {
    if (tgid !== this.lastTgid) {
      this.lastTgid = tgid;
      this.lastRecent = this.recent.get(tgid);
    }
    return this.lastRecent;
  }

  /** Small at first: most processes free little before they exit or exec. */
  private startRecent(tgid: number): NumberMap {
    const recent = new NumberMap(8);
    this.recent.set(tgid, recent);
    this.lastTgid = tgid;
    this.lastRecent = recent;
    return recent;
  }

  /** Puts the free in the ring, over the oldest one. */
  private remember(tgid: number, recent: NumberMap, addr: number, stackId: number): void {
    const at = this.next;
    const oldest = this.ringAddrs[at];
    if (oldest !== NONE) {
      // Its process may have exec'd since, and hold the address elsewhere in the ring.
      const owner = this.recent.get(this.ringTgids[at]);
      if (owner !== undefined && owner.get(oldest) === at) {
        owner.delete(oldest);
        // An exited process's table goes with its last free.
        if (owner.size === 0 && owner !== recent) this.forget(this.ringTgids[at]);
      }
    }
    this.ringTgids[at] = tgid;
    this.ringAddrs[at] = addr;
    this.ringStacks[at] = stackId;
    recent.set(addr, at);
    this.next = (at + 1) % this.ringAddrs.length;
  }

  private keep(kind: InvalidFreeKind, tgid: number, addr: number, stackId: number, previousStackId: number | null): void {
    const key = `${kind}:${stackId}`;
    const place = this.places.get(key);
    if (place !== undefined && place.kept >= PER_STACK) {
      place.last.repeats++;
      return;
    }
    if (this.invalid.length >= this.keepLimit) {
      if (place !== undefined) place.last.repeats++;
      else this.omitted++;
      return;
    }
    const free: InvalidFree = { kind, tgid, addr, stackId, previousStackId, repeats: 0 };
    this.invalid.push(free);
    this.places.set(key, { last: free, kept: (place?.kept ?? 0) + 1 });
  }
}
