// Frees that find no outstanding block, judged against the frees seen: a
// double free when the process freed the address while tracing and nothing
// was allocated there since, an unknown pointer when the allocator never
// returned it.
// Each address keeps only its last free, and allocations are never looked
// at: a block allocated after that free would still be outstanding, or
// freed again (a newer last free). So a free that finds no block but a last
// free is a second free of it. The addresses remembered are a bounded FIFO
// over all processes, the oldest first freed going first.
import { BlockTable } from './block-table.js';

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
  /** Addresses remembered, over all processes. */
  recentLimit?: number;
  /** Invalid frees kept. */
  keepLimit?: number;
}

const RECENT_LIMIT = 2 ** 20;
const KEEP_LIMIT = 1000;
/** Invalid frees kept per kind and stack: more from one place say nothing
 * new, and one busy place must not crowd out the rest. */
const PER_STACK = 10;
/** A ring position holding no address. */
const NONE = -1;

export class FreeCheck {
  private readonly unknownPointers: boolean;
  private readonly keepLimit: number;
  /**
   * Per process: address -> the stack id of its last free, in the row's
   * size, and the address's position in the ring, in the row's stack. A
   * BlockTable keeps both in one row: a free costs one cache line, and
   * there is a free for every allocation.
   */
  private readonly recent = new Map<number, BlockTable>();
  private readonly ringTgids: Int32Array;
  private readonly ringAddrs: Float64Array;
  private next = 0;
  /** The process of the last call: events come in runs of one process. */
  private lastTgid = NaN;
  private lastRecent: BlockTable | undefined;
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
  }

  /** Process `tgid` freed `addr` from stack `stackId`; `released`: the free
   * released an outstanding block, or is a realloc's (never invalid). */
  freed(tgid: number, addr: number, stackId: number, released: boolean): void {
    const recent = this.recentOf(tgid) ?? this.startRecent(tgid);
    const row = recent.find(addr);
    if (row < 0) {
      if (!released && this.unknownPointers && !this.inherited.has(tgid)) this.keep('unknown-pointer', tgid, addr, stackId, null);
      recent.put(addr, stackId, 0, this.remember(tgid, recent, addr));
    } else if (released) {
      recent.put(addr, stackId, 0, recent.stack(row));
    } else {
      // The free that released the block stays the one remembered: it is the one to show.
      this.keep('double-free', tgid, addr, stackId, recent.size(row));
    }
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
  private recentOf(tgid: number): BlockTable | undefined {
    if (tgid !== this.lastTgid) {
      this.lastTgid = tgid;
      this.lastRecent = this.recent.get(tgid);
    }
    return this.lastRecent;
  }

  /** Small at first: most processes free little before they exit or exec. */
  private startRecent(tgid: number): BlockTable {
    const recent = new BlockTable(8);
    this.recent.set(tgid, recent);
    this.lastTgid = tgid;
    this.lastRecent = recent;
    return recent;
  }

  /** Puts the address in the ring, over the oldest one: returns its position. */
  private remember(tgid: number, recent: BlockTable, addr: number): number {
    const at = this.next;
    const oldest = this.ringAddrs[at];
    if (oldest !== NONE) {
      // Its process may have exec'd since, and hold the address elsewhere in the ring.
      const owner = this.recent.get(this.ringTgids[at]);
      const row = owner?.find(oldest) ?? -1;
      if (owner !== undefined && row >= 0 && owner.stack(row) === at) {
        owner.removeAt(row);
        // An exited process's table goes with its last address.
        if (owner.count === 0 && owner !== recent) this.forget(this.ringTgids[at]);
      }
    }
    this.ringTgids[at] = tgid;
    this.ringAddrs[at] = addr;
    this.next = (at + 1) % this.ringAddrs.length;
    return at;
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
