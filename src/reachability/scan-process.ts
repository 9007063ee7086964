// --reachability: reads every place in a process that may hold a pointer
// and sorts its outstanding blocks into leak classes, per allocation stack.
import { LeakhoundError } from '../errors.js';
import type { ReachabilityClasses, ReachabilityCount } from '../report/types.js';
import { readMaps } from '../symbolize/proc-maps.js';
import { BlockSet, type OutstandingBlock } from './blocks.js';
import { classify, LeakClass, ReferenceGraph } from './classify.js';
import { ProcessMemory } from './read-memory.js';
import { scanRegions } from './regions.js';
import { readRegisterRoots } from './registers.js';
import { scanRootWords, scanWords } from './scan.js';
import { readThreads, type ThreadState } from './threads.js';

export interface ProcessScan {
  /** By BPF stack id. */
  byStack: Map<number, ReachabilityClasses>;
  totals: ReachabilityClasses;
  bytesScanned: number;
  regions: number;
  threads: number;
  threadsRunning: number;
  /** Threads whose registers were not read: all of them when the process ran. */
  threadsWithoutRegisters: number;
  /** How long reading the registers took; null when the process ran (none read). */
  registersMs: number | null;
  scanMs: number;
}

const CLASS_KEYS: Record<LeakClass, keyof ReachabilityClasses> = {
  [LeakClass.DefinitelyLost]: 'definitelyLost',
  [LeakClass.IndirectlyLost]: 'indirectlyLost',
  [LeakClass.PossiblyLost]: 'possiblyLost',
  [LeakClass.StillReachable]: 'stillReachable',
};

export function emptyClasses(): ReachabilityClasses {
  const none = (): ReachabilityCount => ({ bytes: 0, allocations: 0 });
  return { definitelyLost: none(), indirectlyLost: none(), possiblyLost: none(), stillReachable: none() };
}

/**
 * Scans process `pid`, whose outstanding blocks are `blocks`. The blocks'
 * own memory is read too, but as blocks: only what reaches them from
 * elsewhere makes them reachable. `stopped`: the process is group-stopped,
 * so its threads' registers are read too. `exitingStackPointer`: a thread
 * stopped at a function's entry, whose red zone is not live (the exit probe's).
 */
export function scanProcess(pid: number, blocks: readonly OutstandingBlock[], stopped: boolean, exitingStackPointer: number | null = null): ProcessScan {
  const started = performance.now();
  const set = new BlockSet(blocks);
  const listed = readThreads(pid);
  const threads = withExiting(listed, exitingStackPointer);
  const maps = readMaps(pid);
  // An ended process (a zombie) has no mappings: every block would look lost.
  if (maps.length === 0) throw new LeakhoundError('SCAN_FAILED', `process ${pid} has ended: its memory is gone`, 'scan a process that is still running');
  const regions = scanRegions(maps, threads);
  const graph = new ReferenceGraph(set.count);
  // The thread at _exit's entry is read too: its callee-saved registers may
  // still hold its caller's pointers, and valgrind counts them as well.
  const registers = stopped ? readRegisterRoots(listed.map((thread) => thread.tid)) : null;
  for (const words of registers?.words ?? []) scanRootWords(words, set, graph);
  const memory = new ProcessMemory(pid);
  let bytesScanned = 0;
  try {
    for (const region of regions) bytesScanned += memory.forEachChunk(region.start, region.end, (words, base) => scanWords(words, base, set, graph));
  } finally {
    memory.close();
  }
  const classes = classify(graph);
  const byStack = new Map<number, ReachabilityClasses>();
  const totals = emptyClasses();
  for (let block = 0; block < set.count; block++) {
    const key = CLASS_KEYS[classes[block] as LeakClass];
    const stackId = set.stackIds[block];
    let stack = byStack.get(stackId);
    if (!stack) byStack.set(stackId, (stack = emptyClasses()));
    for (const counts of [stack[key], totals[key]]) {
      counts.bytes += set.size(block);
      counts.allocations += 1;
    }
  }
  return {
    byStack,
    totals,
    bytesScanned,
    regions: regions.length,
    threads: threads.length,
    threadsRunning: threads.filter((thread) => thread.stackPointer === null).length,
    threadsWithoutRegisters: registers ? registers.unread : listed.length,
    registersMs: registers ? registers.ms : null,
    scanMs: performance.now() - started,
  };
}

/** The thread at the exit probe, known by its stack pointer: treated as one in a system call (no live red zone). */
function withExiting(threads: ThreadState[], stackPointer: number | null): ThreadState[] {
  if (stackPointer === null) return threads;
  const others = threads.filter((thread) => thread.stackPointer !== stackPointer);
  return [...others, { tid: 0, stackPointer, inSyscall: true }];
}
