// The running account of descriptors and mappings: what the decoder hands
// on of the resource records, by the stack of the call that made each.
import type { FdDetails, ResourceSink } from '../ingest/resource-sink.js';
import { defines } from '../native/contract.generated.js';
import { FdTable } from './fd-table.js';
import { MappingTable } from './mapping-table.js';
import { StackIndex } from './stack-index.js';

/** enum lh_map_kind's bits in a map record's flags. */
const KIND_MASK = 0xf;

/** What was traced: a section is reported only if its records could come. */
export interface ResourcesTraced {
  fds: boolean;
  mappings: boolean;
}

export class ResourceLedger implements ResourceSink {
  /** Descriptors and mappings share one index: a stack may make both. */
  readonly stacks = new StackIndex();
  readonly fds = new FdTable();
  readonly mappings = new MappingTable();
  readonly traced: ResourcesTraced;

  constructor(traced: ResourcesTraced = { fds: true, mappings: true }) {
    this.traced = traced;
  }

  fdOpen(tgid: number, fd: number, stackId: number, ticks: number, flags: number, details: FdDetails): void {
    this.fds.open(tgid, fd, { stack: this.stacks.indexOf(stackId, tgid, flags), ticks, details });
  }

  fdDetails(tgid: number, fd: number, details: FdDetails): void {
    this.fds.describe(tgid, fd, details);
  }

  fdClose(tgid: number, first: number, last: number): void {
    this.fds.close(tgid, first, last);
  }

  /** The exec also replaced every mapping. */
  fdExec(tgid: number, isOpen: (fd: number) => boolean): void {
    this.fds.exec(tgid, isOpen);
    this.mappings.exec(tgid);
  }

  map(tgid: number, addr: number, length: number, stackId: number, ticks: number, flags: number): void {
    const kind = (flags >>> defines.LH_MAP_KIND_SHIFT) & KIND_MASK;
    this.mappings.map(tgid, { start: addr, end: addr + length, stack: this.stacks.indexOf(stackId, tgid, flags), ticks, kind });
  }

  unmap(tgid: number, addr: number, length: number): void {
    this.mappings.unmap(tgid, addr, length);
  }

  remap(tgid: number, oldAddr: number, oldLength: number, newAddr: number, newLength: number): void {
    this.mappings.remap(tgid, oldAddr, oldLength, newAddr, newLength);
  }

  /** For the interval line: descriptors open and bytes mapped now. */
  get live(): { openFds: number; mappedBytes: number } {
    return { openFds: this.fds.outstanding, mappedBytes: this.mappings.totals.bytes };
  }
}
