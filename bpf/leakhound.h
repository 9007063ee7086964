/* SPDX-License-Identifier: MIT */
/* The records BPF and the addon share. Only plain types: this header is
 * compiled by clang -target bpf and by the C++ addon alike. */
#ifndef LEAKHOUND_H
#define LEAKHOUND_H

#ifndef __bpf__
#include <linux/types.h> /* BPF code gets these from vmlinux.h */
#endif

#define LH_MAX_STACK_DEPTH 64

/* Stack ids are hashes cut to 53 bits so that JavaScript numbers hold them
 * exactly; 0 means "no stack". */
#define LH_STACK_ID_MASK ((1ULL << 53) - 1)

/* Addresses travel with the top 16 bits cleared: user addresses already fit,
 * kernel addresses are canonical (all ones above bit 47), so the low 48 bits
 * identify them and still fit a JavaScript number. */
#define LH_ADDR_MASK ((1ULL << 48) - 1)

enum lh_event_kind {
	LH_EVENT_ALLOC = 1,
	LH_EVENT_FREE = 2,
	LH_EVENT_EXEC = 3,	/* the process exec'd: every block it held is gone */
	LH_EVENT_FORK = 4,	/* a followed process forked: addr is the child's
				 * process id, size the parent's */
	LH_EVENT_NEED_TABLE = 5, /* a walk met an object with no unwind table yet:
				  * addr is the address it met, in process tgid;
				  * size the object's inode, stack_id its device */
	/* Resources (user-resources.bpf.h). */
	LH_EVENT_FD_OPEN = 6,	/* struct lh_fd_event: descriptor addr was made */
	LH_EVENT_FD_CLOSE = 7,	/* descriptors addr to size (inclusive) were closed */
	LH_EVENT_FD_EXEC = 8,	/* struct lh_fd_exec_event: what an exec left open */
	LH_EVENT_MAP = 9,	/* [addr, addr + size) mapped; kind in the flags */
	LH_EVENT_UNMAP = 10,	/* [addr, addr + size) unmapped */
	LH_EVENT_REMAP = 11,	/* [addr, addr + size) moved to [stack_id, stack_id + ticks) */
	LH_EVENT_FD_DETAILS = 12, /* struct lh_fd_event: descriptor addr now is this
				   * (a socket connected, bound or listening) */
	LH_EVENT_OOM_VICTIM = 14, /* struct lh_oom_event: the OOM killer chose a victim */
	LH_EVENT_EXIT_STOP = 13, /* the launched process called _exit and is being
				  * stopped (--reachability): addr is the caller's
				  * stack pointer */
};

enum lh_event_flags {
	LH_FLAG_STACK_TRUNCATED = 1 << 0, /* the walk hit the depth limit */
	LH_FLAG_RESTORED = 1 << 1,        /* realloc failed: the old block lives on */
	LH_FLAG_REALLOC = 1 << 2,         /* a free by realloc, which may yet fail */
	LH_FLAG_STACK_CUT = 1 << 3,       /* the walk stopped short of the outermost frame */
};

/* What a mapping is for, in bits 8-11 of an LH_EVENT_MAP's flags. */
#define LH_MAP_KIND_SHIFT 8
enum lh_map_kind {
	LH_MAP_ANONYMOUS = 0,
	LH_MAP_FILE,
	LH_MAP_ALLOCATOR,    /* made inside a traced allocator call (arenas, large blocks, brk) */
	LH_MAP_THREAD_STACK, /* MAP_STACK: a thread library's stacks */
};

/* One ring-buffer record: 40 bytes, every field naturally aligned. */
struct lh_event {
	__u16 kind;
	__u16 flags;
	__u32 tgid;	/* the process that was running (in kernel mode only a hint) */
	__u64 addr;
	__u64 size;
	__u64 stack_id;
	__u64 ticks;	/* jiffies when allocated: see struct lh_clock */
};

/* The clock BPF stamps records with (jiffies: reading the nanosecond clock
 * costs ~100 ns per allocation on a VM), beside the nanosecond clock, read
 * together so that user space can relate the two. */
struct lh_clock {
	__u64 ticks;
	__u64 ns;
};

/* Records longer than one struct lh_event span a whole number of them and
 * begin with one, whose kind says how long the record is. */

/* What the kernel knew of a new descriptor when it was made. */
struct lh_fd_details {
	__u32 mode;	   /* the inode's i_mode: its type bits tell sockets and pipes */
	__u16 family;	   /* sockets: AF_* */
	__u16 sock_type;   /* sockets: SOCK_* */
	__u16 syscall;	   /* the call that made it (x86-64 number) */
	__u16 peer_port;   /* inet sockets, host order: the peer's port, 0 when none */
	__u16 local_port;  /* inet sockets, host order */
	__u8 components;   /* name holds this many path components, innermost first, each
			    * ending in a NUL (0: name is one name) */
	__u8 whole_path;   /* ... and the last of them is in the root directory */
	__u8 peer[16];	   /* inet sockets: the peer's address (IPv4 in the first 4 bytes) */
	char name[248];	   /* a file's path, else the dentry's name */
};

struct lh_fd_event {
	struct lh_event head; /* addr: the descriptor; stack_id, ticks, stack flags */
	struct lh_fd_details details;
};

/* Descriptors 0 .. 64 * LH_FD_EXEC_WORDS - 1 that an exec left open. */
#define LH_FD_EXEC_WORDS 35

struct lh_fd_exec_event {
	struct lh_event head;
	__u64 open[LH_FD_EXEC_WORDS];
};

/* oom:mark_victim's record, as the running kernel fills it. head.addr is
 * the victim's pid, head.tgid the process that was running (the one whose
 * charge failed), head.stack_id its memory cgroup's id, head.ticks jiffies. The
 * figures are the kernel's, in KiB, and only when `detailed` (the record
 * gained them after 6.1, which gives the pid alone; 6.12 has them). */
struct lh_oom_event {
	struct lh_event head;
	__u64 total_vm_kb;
	__u64 anon_rss_kb;
	__u64 file_rss_kb;
	__u64 shmem_rss_kb;
	__u64 pgtables_kb;
	__u32 uid;
	__s16 oom_score_adj;
	__u8 detailed;
	__u8 pad;
	char comm[16];
	__u64 spare[2]; /* to a whole number of struct lh_event */
};

struct lh_stack {
	__u64 ips[LH_MAX_STACK_DEPTH];
};

/* The allocator functions the user-space program knows; the value passed to
 * the entry program tells it how to read the arguments. */
enum lh_alloc_fn {
	LH_FN_MALLOC = 0,
	LH_FN_CALLOC,
	LH_FN_REALLOC,
	LH_FN_REALLOCARRAY,
	LH_FN_POSIX_MEMALIGN,
	LH_FN_MEMALIGN,
	LH_FN_VALLOC,
	LH_FN_PVALLOC,
	LH_FN_NEW,
};

/* Unwinding code without frame pointers: per object (a file, by device and
 * inode, shared by every process that maps it), the rows derived from its
 * .eh_frame, each the rule from its start to the next row's start. Offsets
 * are file offsets, which a mapping turns into addresses without knowing
 * the object's layout. x86-64: the return address is always at CFA - 8. */
enum lh_cfa_rule {
	LH_CFA_UNKNOWN = 0, /* no rule this unwinder follows (or no FDE): cut */
	LH_CFA_RSP,	    /* CFA = rsp + offset */
	LH_CFA_RBP,	    /* CFA = rbp + offset */
	LH_CFA_PLT,	    /* a lazy-binding PLT entry: rsp + 8, + 16 past its push */
	LH_CFA_SIGNAL,	    /* __restore_rt: the registers come from the signal frame */
	LH_CFA_END,	    /* the return address is undefined: the outermost frame */
};

/* rbp_offset values: where the caller's rbp was saved, in 8-byte units from
 * the CFA, or one of these. */
#define LH_RBP_UNCHANGED 0
#define LH_RBP_LOST (-128) /* a rule this unwinder does not follow */

struct lh_unwind_row {
	__u32 start;	   /* file offset from which the rule holds */
	__s16 cfa_offset;  /* in 8-byte units */
	__u8 cfa_rule;	   /* enum lh_cfa_rule */
	__s8 rbp_offset;
};

/* The bytes of file one page entry covers. */
#define LH_UNWIND_PAGE_SHIFT 12

/* One per 4 KiB of an object's file: its rows are rows[first, first + count),
 * the first of them the row that holds at the page's first byte. */
struct lh_unwind_page {
	__u32 first;
	__u32 count;
};

/* As the kernel keeps them (inode->i_sb->s_dev: major << 20 | minor), and as
 * /proc/PID/maps prints them. */
struct lh_object_key {
	__u64 dev;
	__u64 ino;
};

/* An object as one process maps it: where its mapping lies in the process
 * (the end too: a process id reused by another program, mapping another
 * object at the same start, rarely ends it at the same place). */
struct lh_mapping_key {
	__u32 tgid;
	__u32 pad;
	__u64 start;
	__u64 end;
};

enum lh_object_kind {
	LH_OBJECT_PENDING = 0,	  /* asked for, not built yet */
	LH_OBJECT_TABLE,	  /* unwind with the rows */
	LH_OBJECT_FRAME_POINTERS, /* code with frame pointers: follow them */
	LH_OBJECT_NONE,		  /* no table could be had: frame pointers, marked */
};

struct lh_unwind_object {
	__u32 kind;	  /* enum lh_object_kind */
	__u32 first_page; /* its pages are pages[first_page, first_page + pages) */
	__u32 pages;
	__u32 pad;
};

/* Per-CPU counters, summed by the addon: nothing is lost silently. */
enum lh_counter {
	LH_CNT_RINGBUF_DROPS = 0, /* events the ring buffer had no room for */
	LH_CNT_STACK_FAILURES,    /* stacks that could not be read at all */
	LH_CNT_STACKS_FULL,       /* stacks the stack table had no room for */
	LH_CNT_ALLOCS_FULL,       /* allocations the live table had no room for */
	LH_CNT_STATE_FAILURES,    /* per-thread call state unavailable */
	LH_CNT_TRUNCATED,         /* stacks cut at the depth limit */
	LH_CNT_FOLLOW_FULL,       /* new processes the followed table had no room for */
	LH_CNT_UNWIND_CUT,        /* stacks cut where no unwind rule held */
	LH_CNT_UNWIND_PENDING,    /* stacks cut at an object whose table was not built yet */
	LH_CNT_MAPPINGS_BUSY,     /* stacks cut where another thread held the mappings' lock */
	LH_CNT_GUESSED,           /* stacks cut where code without a table was walked by frame pointer */
	LH_CNT_SYSCALL_STATE,     /* resource calls whose entry could not be kept for their exit */
	LH_CNT_FDS_UNSEEN,        /* descriptors received past the first few of a message */
	LH_CNT__MAX,
};

#endif /* LEAKHOUND_H */
