// The running account of one trace: every decoded event lands here. It
// knows which allocations are outstanding, in which process and under which
// stack.
import type { EventSink } from '../ingest/decode.js';
import { EventFlag } from '../native/layout.js';
import { FreeCheck } from './free-check.js';
import { LiveAllocations } from './live-allocs.js';
import { StackIndex } from './stack-index.js';

export interface StackTotal {
  /** The BPF stack id (0: no stack could be captured). */
  stackId: number;
  bytes: number;
  allocations: number;
  truncated: boolean;
  /** A walk of this stack stopped short of the outermost frame. */
  cut: boolean;
  /** The processes holding these blocks, ascending (none in a ledger not per process). */
  pids: number[];
  /** The process whose allocation first brought this stack id: its maps name the frames. */
  firstPid: number;
  /** Everything the stack allocated while traced, freed or not (pprof's alloc_*). */
  allocatedBytes: number;
  allocatedCount: number;
}

export interface ProcessTotal {
  pid: number;
  outstandingBytes: number;
  outstandingAllocations: number;
}

export interface AggregateFork {
  parent: number;
  child: number;
}

export interface LedgerOptions {
  /** Blocks are the process's own (user mode, the default). Kernel mode: one
   * account for all, since one process may free what another allocated. */
  perProcess?: boolean;
  /** Look for double frees among the frees that find no outstanding block
   * (per process only). Sound only when every allocation is seen (no
   * sampling, no size filter): an allocation unseen at a freed address
   * would make its free look like a second one. */
  checkFrees?: boolean;
  /** Also report frees of pointers the allocator never returned (implies
   * checkFrees): sound only when every process was traced from its start. */
  unknownPointers?: boolean;
}

/** The only account of a ledger that is not per process. */
const SHARED = -1;

export class Ledger implements EventSink {
  /** Process id (SHARED when not per process) -> its outstanding blocks. */
  private readonly accounts = new Map<number, LiveAllocations>();
  private readonly perProcess: boolean;
  /** The account of the last event: events come in runs of one process. */
  private lastKey = NaN;
  private lastAccount: LiveAllocations | null = null;
  private readonly stacks = new StackIndex();
  private readonly forkList: AggregateFork[] = [];
  /** Frees judged against the frees seen, when asked for. */
  readonly freeCheck: FreeCheck | null;
  allocations = 0;
  frees = 0;

  constructor(options: LedgerOptions = {}) {
    this.perProcess = options.perProcess ?? true;
    const checked = this.perProcess && (options.checkFrees || options.unknownPointers);
    this.freeCheck = checked ? new FreeCheck({ unknownPointers: options.unknownPointers ?? false }) : null;
  }

  get stackCount(): number {
    return this.stacks.size;
  }

  /** Outstanding blocks of every process together. */
  get live(): { bytes: number; count: number } {
    let bytes = 0;
    let count = 0;
    for (const account of this.accounts.values()) {
      bytes += account.bytes;
      count += account.count;
    }
    return { bytes, count };
  }

  alloc(tgid: number, addr: number, size: number, stackId: number, ticks: number, flags: number): void {
    const account = this.account(tgid);
    // A failed realloc gives its block back: that undoes a free, it is not
    // a new allocation.
    if (flags & EventFlag.restored) {
      if (account.restore(addr)) this.frees--;
      return;
    }
    const stack = this.stacks.indexOf(stackId, tgid, flags);
    this.stacks.allocated(stack, size);
    account.add(addr, size, stack, ticks);
    this.allocations++;
  }

  /** Frees of blocks allocated before tracing began find nothing: ignored,
   * never counted negative. `stackId`: the free's own stack (0: none). */
  free(tgid: number, addr: number, flags: number, stackId = 0): void {
    const account = this.account(tgid);
    const realloc = (flags & EventFlag.realloc) !== 0;
    const freed = realloc ? account.setAside(addr) : account.remove(addr);
    if (freed) this.frees++;
    this.freeCheck?.freed(tgid, addr, stackId, freed || realloc);
  }

  /** An exec took the process's memory with it: nothing it held is outstanding. */
  exec(tgid: number): void {
    this.accounts.set(this.keyOf(tgid), new LiveAllocations());
    this.lastKey = NaN;
    this.freeCheck?.exec(tgid);
  }

  /** The child starts with no blocks of its own: those it inherited are the parent's. */
  fork(parent: number, child: number): void {
    this.account(parent);
    this.account(child);
    this.forkList.push({ parent, child });
    this.freeCheck?.fork(child);
  }

  /** One process's outstanding blocks, each with its stack's BPF id (for the reachability scan). */
  blocksOf(tgid: number): { addr: number; size: number; stackId: number }[] {
    const blocks: { addr: number; size: number; stackId: number }[] = [];
    this.accounts.get(this.keyOf(tgid))?.forEach((size, stack, _ticks, addr) => blocks.push({ addr, size, stackId: this.stacks.ids[stack] }));
    return blocks;
  }

  /** Every fork, in the order seen. */
  /** Every process an event came from. */
  pids(): number[] {
    return [...this.accounts.keys()];
  }

  forks(): AggregateFork[] {
    return [...this.forkList];
  }

  /** Outstanding allocations per stack, largest first; only those allocated
   * at or before `bornBeforeTick` count (for --older-than). */
  byStack(bornBeforeTick = Infinity): StackTotal[] {
    const { bytes, counts, pids } = this.outstanding(bornBeforeTick);
    const totals: StackTotal[] = [];
    for (let i = 0; i < counts.length; i++) {
      if (counts[i] > 0) totals.push(this.stackTotal(i, bytes[i], counts[i], pids[i]));
    }
    return totals.sort((a, b) => b.bytes - a.bytes || b.allocations - a.allocations || a.stackId - b.stackId);
  }

  /** The stacks that allocated while traced but hold nothing byStack counts
   * (all freed, or all younger than `bornBeforeTick`), most bytes allocated first. */
  churnStacks(bornBeforeTick = Infinity): StackTotal[] {
    const { counts } = this.outstanding(bornBeforeTick);
    const totals: StackTotal[] = [];
    for (let i = 0; i < counts.length; i++) {
      if (counts[i] === 0 && this.stacks.allocatedCount(i) > 0) totals.push(this.stackTotal(i, 0, 0, []));
    }
    return totals.sort((a, b) => b.allocatedBytes - a.allocatedBytes || b.allocatedCount - a.allocatedCount || a.stackId - b.stackId);
  }

  private outstanding(bornBeforeTick: number): { bytes: Float64Array; counts: Float64Array; pids: number[][] } {
    const { size } = this.stacks;
    const bytes = new Float64Array(size);
    const counts = new Float64Array(size);
    const pids: number[][] = Array.from({ length: size }, () => []);
    for (const [key, account] of this.sortedAccounts()) {
      account.forEach((blockSize, stack, ticks) => {
        if (ticks > bornBeforeTick) return;
        bytes[stack] += blockSize;
        counts[stack] += 1;
        // Accounts come in ascending order: a repeat is the last one pushed.
        const held = pids[stack];
        if (key !== SHARED && held[held.length - 1] !== key) held.push(key);
      });
    }
    return { bytes, counts, pids };
  }

  private stackTotal(index: number, bytes: number, allocations: number, pids: number[]): StackTotal {
    const { ids, truncated, cut, firstPids } = this.stacks;
    return {
      stackId: ids[index],
      bytes,
      allocations,
      truncated: truncated[index],
      cut: cut[index],
      pids,
      firstPid: firstPids[index],
      allocatedBytes: this.stacks.allocatedBytes(index),
      allocatedCount: this.stacks.allocatedCount(index),
    };
  }

  /** Every process seen (by an event or a fork), by pid, with what it holds
   * born at or before `bornBeforeTick`; none in a ledger not per process. */
  processes(bornBeforeTick = Infinity): ProcessTotal[] {
    if (!this.perProcess) return [];
    return this.sortedAccounts().map(([pid, account]) => {
      let outstandingBytes = 0;
      let outstandingAllocations = 0;
      account.forEach((size, _stack, ticks) => {
        if (ticks > bornBeforeTick) return;
        outstandingBytes += size;
        outstandingAllocations += 1;
      });
      return { pid, outstandingBytes, outstandingAllocations };
    });
  }

  private sortedAccounts(): [number, LiveAllocations][] {
    return [...this.accounts].sort((a, b) => a[0] - b[0]);
  }

  private keyOf(tgid: number): number {
    return this.perProcess ? tgid : SHARED;
  }

  /** The process's account, made at its first event. */
  private account(tgid: number): LiveAllocations {
    const key = this.keyOf(tgid);
    if (key === this.lastKey && this.lastAccount) return this.lastAccount;
    let account = this.accounts.get(key);
    if (!account) {
      account = new LiveAllocations();
      this.accounts.set(key, account);
    }
    this.lastKey = key;
    this.lastAccount = account;
    return account;
  }
}
