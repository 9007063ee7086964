// Ring-buffer batches -> calls on a sink. One pass over a Uint32Array view:
// no per-event object, no per-event native call.
import { structs } from '../native/contract.generated.js';
import { EVENT, EventKind } from '../native/layout.js';
import type { FdDetails, ResourceSink } from './resource-sink.js';

/** Every call names the process (tgid) the event is of. */
export interface EventSink {
  alloc(tgid: number, addr: number, size: number, stackId: number, ticks: number, flags: number): void;
  /** `stackId`: the free's own stack (0 when frees' stacks are not taken), innermost
   * the probe inside free itself. */
  free(tgid: number, addr: number, flags: number, stackId: number): void;
  /** The process exec'd: the blocks of the program it was are gone. */
  exec(tgid: number): void;
  /** A followed process forked a new one, followed from now on. */
  fork(parent: number, child: number): void;
}

/** A process the OOM killer chose (struct lh_oom_event). */
export interface OomVictim {
  pid: number;
  /** The process that was running: the one whose charge failed, when it killed itself. */
  invokerTgid: number;
  /** The id of the running process's memory cgroup (its directory's inode); 0 when unknown. */
  invokerMemcgId: number;
  /** Jiffies, as allocations are stamped. */
  ticks: number;
  /** What the kernel's record gives beside the pid (null on kernels whose record holds the pid alone). */
  details: OomVictimDetails | null;
}

export interface OomVictimDetails {
  command: string;
  totalVmBytes: number;
  anonRssBytes: number;
  fileRssBytes: number;
  shmemRssBytes: number;
  pageTablesBytes: number;
  uid: number;
  oomScoreAdj: number;
}

export interface OomSink {
  oomVictim(victim: OomVictim): void;
}

/** Where the BPF walk asks for the unwind table of an object it met. */
export interface TableRequests {
  /** `addr` is in process `tgid`, in the file with `inode` on `device` (the kernel's encoding). */
  needTable(tgid: number, addr: number, device: number, inode: number): void;
}

// The loop reads kind and flags as the two halves of the first word, the
// process id as the second word: refuse any other layout at once.
const fields: Record<string, { offset: number; size: number }> = structs.lh_event.fields;
for (const [name, offset, size] of [['kind', 0, 2], ['flags', 2, 2], ['tgid', 4, 4]] as const) {
  if (fields[name].offset !== offset || fields[name].size !== size) {
    throw new Error(`lh_event.${name} is at ${fields[name].offset} (size ${fields[name].size}), decode.ts reads it at ${offset} (size ${size})`);
  }
}

// Word offsets, computed once: the loop below runs millions of times a second.
const WORDS = EVENT.recordSize / 4;
const TGID = EVENT.tgid / 4;
const ADDR = EVENT.addr / 4;
const SIZE = EVENT.size / 4;
const STACK = EVENT.stackId / 4;
const TICKS = EVENT.ticks / 4;
const ALLOC = EventKind.alloc;
const FREE = EventKind.free;
const EXEC = EventKind.exec;
const FORK = EventKind.fork;
const NEED_TABLE = EventKind.needTable;
const EXIT_STOP = EventKind.exitStop;
const FD_OPEN = EventKind.fdOpen;
const FD_DETAILS = EventKind.fdDetails;
const FD_CLOSE = EventKind.fdClose;
const FD_EXEC = EventKind.fdExec;
const MAP = EventKind.map;
const UNMAP = EventKind.unmap;
const REMAP = EventKind.remap;
const OOM_VICTIM = EventKind.oomVictim;
const HI = 2 ** 32;

// Records longer than one event: their length in events.
const FD_EVENT_WORDS = structs.lh_fd_event.size / 4;
const FD_EXEC_WORDS = structs.lh_fd_exec_event.size / 4;
const OOM_EVENT_WORDS = structs.lh_oom_event.size / 4;
for (const [name, words] of [['lh_fd_event', FD_EVENT_WORDS], ['lh_fd_exec_event', FD_EXEC_WORDS], ['lh_oom_event', OOM_EVENT_WORDS]] as const) {
  if (words % WORDS !== 0) throw new Error(`${name} is ${words * 4} bytes, not a whole number of ${EVENT.recordSize}-byte events`);
}
const details = structs.lh_fd_details.fields;
const DETAILS = structs.lh_fd_event.fields.details.offset;
const OPEN_BITMAP = structs.lh_fd_exec_event.fields.open.offset / 4;
const NAME_BYTES = details.name.size;
const utf8 = new TextDecoder();

/** Where --reachability hears that the launched command is stopping at its _exit. */
export interface ExitStops {
  exitStop(tgid: number, stackPointer: number): void;
}

/** Where the decoder sends the records that are not the heap's. */
export interface OtherSinks {
  requests?: TableRequests;
  resources?: ResourceSink;
  exits?: ExitStops;
  oom?: OomSink;
}

function fdDetails(batch: Uint8Array, base: number): FdDetails {
  const at = batch.byteOffset + base * 4 + DETAILS;
  const view = new DataView(batch.buffer, at, structs.lh_fd_details.size);
  const name = new Uint8Array(batch.buffer, at + details.name.offset, NAME_BYTES);
  return {
    mode: view.getUint32(details.mode.offset, true),
    family: view.getUint16(details.family.offset, true),
    sockType: view.getUint16(details.sock_type.offset, true),
    syscall: view.getUint16(details.syscall.offset, true),
    peerPort: view.getUint16(details.peer_port.offset, true),
    localPort: view.getUint16(details.local_port.offset, true),
    peer: new Uint8Array(batch.buffer.slice(at + details.peer.offset, at + details.peer.offset + details.peer.size)),
    name: fdName(name, view.getUint8(details.components.offset), view.getUint8(details.whole_path.offset) !== 0),
  };
}

function oomVictim(batch: Uint8Array, base: number): OomVictim {
  const fields = structs.lh_oom_event.fields;
  const view = new DataView(batch.buffer, batch.byteOffset + base * 4, structs.lh_oom_event.size);
  const u64 = (at: number) => Number(view.getBigUint64(at, true));
  const kib = (field: { offset: number }) => u64(field.offset) * 1024;
  const comm = new Uint8Array(batch.buffer, batch.byteOffset + base * 4 + fields.comm.offset, fields.comm.size);
  const end = comm.indexOf(0);
  return {
    pid: u64(EVENT.addr),
    invokerTgid: view.getUint32(EVENT.tgid, true),
    invokerMemcgId: u64(EVENT.stackId),
    ticks: u64(EVENT.ticks),
    details:
      view.getUint8(fields.detailed.offset) === 0
        ? null
        : {
            command: utf8.decode(comm.subarray(0, end < 0 ? comm.length : end)),
            totalVmBytes: kib(fields.total_vm_kb),
            anonRssBytes: kib(fields.anon_rss_kb),
            fileRssBytes: kib(fields.file_rss_kb),
            shmemRssBytes: kib(fields.shmem_rss_kb),
            pageTablesBytes: kib(fields.pgtables_kb),
            uid: view.getUint32(fields.uid.offset, true),
            oomScoreAdj: view.getInt16(fields.oom_score_adj.offset, true),
          },
  };
}

/** One name, or a path's components innermost first, each ending in a NUL. */
function fdName(bytes: Uint8Array, components: number, whole: boolean): string {
  const parts: string[] = [];
  let at = 0;
  for (let i = 0; i < Math.max(components, 1) && at < bytes.length; i++) {
    let end = bytes.indexOf(0, at);
    if (end < 0) end = bytes.length;
    parts.push(utf8.decode(bytes.subarray(at, end)));
    at = end + 1;
  }
  if (components === 0) return parts[0] ?? '';
  const path = parts.reverse().join('/');
  return whole ? `/${path}` : `…/${path}`;
}

/** Decodes every whole record of `batch`; returns how many there were. */
export function decodeBatch(batch: Uint8Array, sink: EventSink, { requests, resources, oom, exits }: OtherSinks = {}): number {
  if (batch.byteLength % EVENT.recordSize !== 0 || batch.byteOffset % 4 !== 0) {
    throw new RangeError(`batch of ${batch.byteLength} bytes at offset ${batch.byteOffset} is not whole aligned records`);
  }
  const words = new Uint32Array(batch.buffer, batch.byteOffset, batch.byteLength / 4);
  let records = 0;
  for (let base = 0; base < words.length; base += WORDS, records++) {
    // Little-endian (x86): kind is the low half of the first word.
    const head = words[base];
    const kind = head & 0xffff;
    const tgid = words[base + TGID];
    const addr = words[base + ADDR] + words[base + ADDR + 1] * HI;
    if (kind === ALLOC) {
      sink.alloc(
        tgid,
        addr,
        words[base + SIZE] + words[base + SIZE + 1] * HI,
        words[base + STACK] + words[base + STACK + 1] * HI,
        words[base + TICKS] + words[base + TICKS + 1] * HI,
        head >>> 16,
      );
    } else if (kind === FREE) {
      sink.free(tgid, addr, head >>> 16, words[base + STACK] + words[base + STACK + 1] * HI);
    } else if (kind === EXEC) {
      sink.exec(tgid);
    } else if (kind === FORK) {
      sink.fork(words[base + SIZE], addr);
    } else if (kind === NEED_TABLE) {
      requests?.needTable(tgid, addr, words[base + STACK] + words[base + STACK + 1] * HI, words[base + SIZE] + words[base + SIZE + 1] * HI);
    } else if (kind === OOM_VICTIM) {
      oom?.oomVictim(oomVictim(batch, base));
      base += OOM_EVENT_WORDS - WORDS;
    } else if (kind === EXIT_STOP) {
      exits?.exitStop(tgid, addr);
    } else {
      base = decodeResource(batch, words, base, kind, resources) - WORDS;
    }
  }
  return records;
}

/** A resource record at word `base`; returns the word after it. */
function decodeResource(batch: Uint8Array, words: Uint32Array, base: number, kind: number, sink: ResourceSink | undefined): number {
  const word64 = (at: number) => words[base + at] + words[base + at + 1] * HI;
  const tgid = words[base + TGID];
  if (kind === FD_OPEN) {
    sink?.fdOpen(tgid, word64(ADDR), word64(STACK), word64(TICKS), words[base] >>> 16, fdDetails(batch, base));
    return base + FD_EVENT_WORDS;
  }
  if (kind === FD_DETAILS) {
    sink?.fdDetails(tgid, word64(ADDR), fdDetails(batch, base));
    return base + FD_EVENT_WORDS;
  }
  if (kind === FD_EXEC) {
    const covered = word64(SIZE);
    const open = (fd: number) => fd >= covered || (words[base + OPEN_BITMAP + (fd >>> 5)] & (1 << (fd & 31))) !== 0;
    sink?.fdExec(tgid, open, covered);
    return base + FD_EXEC_WORDS;
  }
  if (kind === FD_CLOSE) sink?.fdClose(tgid, word64(ADDR), word64(SIZE));
  else if (kind === MAP) sink?.map(tgid, word64(ADDR), word64(SIZE), word64(STACK), word64(TICKS), words[base] >>> 16);
  else if (kind === UNMAP) sink?.unmap(tgid, word64(ADDR), word64(SIZE));
  else if (kind === REMAP) sink?.remap(tgid, word64(ADDR), word64(SIZE), word64(STACK), word64(TICKS));
  return base + WORDS;
}
