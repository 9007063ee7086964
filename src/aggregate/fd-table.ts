// The descriptors made while tracing that are still open, per process.
// Descriptors older than the trace are never tracked, so closing one is not
// counted.
import type { FdDetails } from '../ingest/resource-sink.js';

export interface OpenFd {
  /** Dense stack index (StackIndex) of the call that made it. */
  stack: number;
  ticks: number;
  details: FdDetails;
}

export class FdTable {
  /** tgid -> descriptor number -> what made it. */
  private readonly processes = new Map<number, Map<number, OpenFd>>();
  opened = 0;
  closed = 0;

  /** A number already tracked was closed first (the kernel reuses the lowest free number). */
  open(tgid: number, fd: number, entry: OpenFd): void {
    let fds = this.processes.get(tgid);
    if (fds === undefined) {
      fds = new Map();
      this.processes.set(tgid, fds);
    }
    if (fds.has(fd)) this.closed++;
    fds.set(fd, entry);
    this.opened++;
  }

  /** Descriptors `first` to `last` inclusive; close_range may span billions, so the smaller side is walked. */
  close(tgid: number, first: number, last: number): void {
    const fds = this.processes.get(tgid);
    if (fds === undefined) return;
    if (last - first + 1 <= fds.size) {
      for (let fd = first; fd <= last; fd++) if (fds.delete(fd)) this.closed++;
      return;
    }
    for (const fd of fds.keys()) {
      if (fd >= first && fd <= last) this.closeOne(fds, fd);
    }
  }

  /** More is known of a descriptor tracked (a socket connected, bound or listening); the call that made it stays. */
  describe(tgid: number, fd: number, details: FdDetails): void {
    const entry = this.processes.get(tgid)?.get(fd);
    if (entry !== undefined) entry.details = details;
  }

  /** An exec closed what `isOpen` denies (close-on-exec descriptors). */
  exec(tgid: number, isOpen: (fd: number) => boolean): void {
    const fds = this.processes.get(tgid);
    if (fds === undefined) return;
    for (const fd of fds.keys()) {
      if (!isOpen(fd)) this.closeOne(fds, fd);
    }
  }

  /** Every descriptor still open, with its process. */
  forEach(visit: (tgid: number, fd: number, entry: OpenFd) => void): void {
    for (const [tgid, fds] of this.processes) {
      for (const [fd, entry] of fds) visit(tgid, fd, entry);
    }
  }

  get outstanding(): number {
    let count = 0;
    for (const fds of this.processes.values()) count += fds.size;
    return count;
  }

  private closeOne(fds: Map<number, OpenFd>, fd: number): void {
    fds.delete(fd);
    this.closed++;
  }
}
