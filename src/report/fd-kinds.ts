// What a descriptor is, and a short example of it, from what the kernel knew
// when it was made: the inode's type, else the system call that made it
// (where only one kind comes of it), else the name of an anonymous inode.
import type { FdDetails } from '../ingest/resource-sink.js';

const S_IFMT = 0o170000;
const S_IFSOCK = 0o140000;
const S_IFIFO = 0o010000;

/** Anonymous inodes' names (as their dentries give them) whose kind is not the bracketed word. */
const NAMED = new Map([
  ['[eventpoll]', 'epoll'],
  ['inotify', 'inotify'],
  ['pidfd', 'pidfd'],
]);

/** x86-64 system calls that make one kind of descriptor (pidfs names a pidfd "/" since 6.9). */
const BY_SYSCALL: Record<number, string> = {
  22: 'pipe',
  41: 'socket',
  43: 'socket',
  53: 'socket',
  213: 'epoll',
  253: 'inotify',
  282: 'signalfd',
  283: 'timerfd',
  284: 'eventfd',
  288: 'socket',
  289: 'signalfd',
  290: 'eventfd',
  291: 'epoll',
  293: 'pipe',
  294: 'inotify',
  319: 'memfd',
  434: 'pidfd',
};

export function fdKind(details: FdDetails): string {
  const type = details.mode & S_IFMT;
  if (type === S_IFSOCK) return 'socket';
  if (type === S_IFIFO) return 'pipe';
  const made = BY_SYSCALL[details.syscall];
  if (made !== undefined) return made;
  const { name } = details;
  const named = NAMED.get(name);
  if (named !== undefined) return named;
  if (name.startsWith('memfd:')) return 'memfd';
  // [eventfd], [timerfd], [signalfd], [pidfd], [fanotify], [io_uring], ...
  if (name.length > 2 && name.startsWith('[') && name.endsWith(']')) return name.slice(1, -1);
  return 'file';
}

const FAMILIES: Record<number, string> = {
  1: 'AF_UNIX',
  2: 'AF_INET',
  10: 'AF_INET6',
  16: 'AF_NETLINK',
  17: 'AF_PACKET',
  38: 'AF_ALG',
  40: 'AF_VSOCK',
  44: 'AF_XDP',
};
const AF_INET = 2;
const AF_INET6 = 10;

const SOCKET_TYPES: Record<number, string> = {
  1: 'SOCK_STREAM',
  2: 'SOCK_DGRAM',
  3: 'SOCK_RAW',
  4: 'SOCK_RDM',
  5: 'SOCK_SEQPACKET',
  6: 'SOCK_DCCP',
  10: 'SOCK_PACKET',
};

/** RFC 5952: lower-case groups, the longest run of two or more zero groups as `::`, IPv4-mapped in dotted form. */
function ipv6(bytes: Uint8Array): string {
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return `::ffff:${bytes.subarray(12, 16).join('.')}`;
  }
  const groups = Array.from({ length: 8 }, (_, i) => (bytes[2 * i] << 8) | bytes[2 * i + 1]);
  let best = { at: -1, length: 1 };
  for (let i = 0; i < 8; ) {
    let end = i;
    while (end < 8 && groups[end] === 0) end++;
    if (end - i > best.length) best = { at: i, length: end - i };
    i = end > i ? end : i + 1;
  }
  const hex = groups.map((group) => group.toString(16));
  if (best.at < 0) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.length).join(':')}`;
}

function socketExample(details: FdDetails): string {
  if (details.family === 0) return 'socket';
  const family = FAMILIES[details.family] ?? `AF_${details.family}`;
  if (details.family === AF_INET || details.family === AF_INET6) {
    if (details.peerPort !== 0) {
      const peer = details.family === AF_INET ? details.peer.subarray(0, 4).join('.') : `[${ipv6(details.peer)}]`;
      return `${family} ${peer}:${details.peerPort}`;
    }
    if (details.localPort !== 0) return `${family} :${details.localPort}`;
  }
  const type = SOCKET_TYPES[details.sockType];
  return type === undefined ? family : `${family} ${type}`;
}

/** A file's path, a socket's family and peer (or port), a memfd's name; else the kind. */
export function fdExample(details: FdDetails, kind = fdKind(details)): string {
  if (kind === 'socket') return socketExample(details);
  // A named FIFO has a path worth showing; a pipe's name is "pipe:".
  if (kind === 'file' || kind === 'memfd' || (kind === 'pipe' && details.name.startsWith('/'))) return details.name || kind;
  return kind;
}
