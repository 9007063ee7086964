// What the decoder hands on of the resource records (bpf/user-resources.bpf.h):
// descriptors and mappings, each by the stack of the call that made it.

/** struct lh_fd_details, decoded: what the kernel knew of a new descriptor. */
export interface FdDetails {
  /** The inode's i_mode (0 when unknown): its type bits tell sockets (S_IFSOCK) and pipes (S_IFIFO). */
  mode: number;
  /** Sockets: AF_* (0 otherwise). */
  family: number;
  /** Sockets: SOCK_* without its flags (0 otherwise). */
  sockType: number;
  /** The system call that made the descriptor (x86-64 number). */
  syscall: number;
  /** Inet sockets: the peer's port and address, when it has one (0 and all zeros otherwise). */
  peerPort: number;
  localPort: number;
  /** 16 bytes; IPv4 in the first 4. */
  peer: Uint8Array;
  /** A file's whole path (from its dentries and mounts; with a leading `…/` where the
   * walk stopped short of the root), else the dentry's name ("[eventfd]", "memfd:x", ...). */
  name: string;
}

export interface ResourceSink {
  /** Descriptor `fd` was made in process `tgid` (a number still open is replaced: closed first). */
  fdOpen(tgid: number, fd: number, stackId: number, ticks: number, flags: number, details: FdDetails): void;
  /** Descriptor `fd` is now this (a socket connected, bound or listening); untracked ones are ignored. */
  fdDetails(tgid: number, fd: number, details: FdDetails): void;
  /** Descriptors `first` to `last` (inclusive) were closed. */
  fdClose(tgid: number, first: number, last: number): void;
  /** The process exec'd: the descriptors `isOpen` denies were closed by it (close-on-exec).
   * `isOpen` answers true beyond what the kernel reported (`coveredFds`). */
  fdExec(tgid: number, isOpen: (fd: number) => boolean, coveredFds: number): void;
  /** [addr, addr + length) was mapped; `flags` carries the stack flags and, in bits 8-11, enum lh_map_kind. */
  map(tgid: number, addr: number, length: number, stackId: number, ticks: number, flags: number): void;
  unmap(tgid: number, addr: number, length: number): void;
  /** mremap: what was at [oldAddr, oldAddr + oldLength) is now [newAddr, newAddr + newLength). */
  remap(tgid: number, oldAddr: number, oldLength: number, newAddr: number, newLength: number): void;
}
