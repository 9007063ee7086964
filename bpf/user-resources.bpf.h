/* SPDX-License-Identifier: MIT */
/* Descriptors and mappings of the traced processes, by the stack of the
 * system call that made them, at its exit: the user registers still hold
 * the call's number and arguments, so a call under way when the trace began
 * (a server blocked in accept) counts too. Releases are recorded at their
 * entry (resource_enter says why), and brk's entry keeps the break it
 * moves from. Included by user-alloc.bpf.c, whose stack walk,
 * process filter and ring buffer these share. The walk copies the stack
 * (any kernel since 5.17): system calls that make descriptors are rare
 * beside allocations.
 *
 * Released here: close, close_range, a replacing dup2/dup3 (user space sees
 * the number reused), munmap, mremap, brk. Closed by an exec: what the exec
 * left open is sent whole (resource_exec). An exit releases everything, and
 * what was open then is what the report is for. */
#ifndef LEAKHOUND_USER_RESOURCES_BPF_H
#define LEAKHOUND_USER_RESOURCES_BPF_H

const volatile bool trace_fds = false;
const volatile bool trace_mappings = false;

/* x86-64 system call numbers. */
enum {
	SYS_OPEN = 2, SYS_CLOSE = 3, SYS_MMAP = 9, SYS_MUNMAP = 11, SYS_BRK = 12,
	SYS_PIPE = 22, SYS_MREMAP = 25, SYS_DUP = 32, SYS_DUP2 = 33, SYS_SOCKET = 41,
	SYS_ACCEPT = 43, SYS_CONNECT = 42, SYS_RECVMSG = 47, SYS_BIND = 49, SYS_LISTEN = 50,
	SYS_SOCKETPAIR = 53, SYS_FCNTL = 72,
	SYS_CREAT = 85, SYS_EPOLL_CREATE = 213, SYS_INOTIFY_INIT = 253, SYS_OPENAT = 257,
	SYS_SIGNALFD = 282, SYS_TIMERFD_CREATE = 283, SYS_EVENTFD = 284, SYS_ACCEPT4 = 288,
	SYS_SIGNALFD4 = 289, SYS_EVENTFD2 = 290, SYS_EPOLL_CREATE1 = 291, SYS_DUP3 = 292,
	SYS_PIPE2 = 293, SYS_INOTIFY_INIT1 = 294, SYS_PERF_EVENT_OPEN = 298,
	SYS_FANOTIFY_INIT = 300, SYS_OPEN_BY_HANDLE_AT = 304, SYS_MEMFD_CREATE = 319,
	SYS_USERFAULTFD = 323, SYS_IO_URING_SETUP = 425, SYS_PIDFD_OPEN = 434,
	SYS_CLOSE_RANGE = 436, SYS_OPENAT2 = 437, SYS_PIDFD_GETFD = 438,
};

enum resource_call {
	CALL_NONE = 0,
	CALL_FD,	/* returns a new descriptor */
	CALL_FD_PAIR,	/* writes two to an int[2] */
	CALL_RECVMSG,	/* may receive descriptors (SCM_RIGHTS) */
	CALL_DESCRIBE,	/* gives a socket its peer or its port */
	CALL_CLOSE,
	CALL_CLOSE_RANGE,
	CALL_MMAP,
	CALL_MUNMAP,
	CALL_MREMAP,
	CALL_BRK,
};

/* What the exit of a call does with it; CALL_NONE for all the rest. */
static __always_inline __u32 resource_call(long id)
{
	switch (id) {
	case SYS_OPEN: case SYS_OPENAT: case SYS_OPENAT2: case SYS_CREAT:
	case SYS_SOCKET: case SYS_ACCEPT: case SYS_ACCEPT4: case SYS_DUP:
	case SYS_DUP2: case SYS_DUP3: case SYS_FCNTL: case SYS_EVENTFD:
	case SYS_EVENTFD2: case SYS_EPOLL_CREATE: case SYS_EPOLL_CREATE1:
	case SYS_TIMERFD_CREATE: case SYS_SIGNALFD: case SYS_SIGNALFD4:
	case SYS_INOTIFY_INIT: case SYS_INOTIFY_INIT1: case SYS_MEMFD_CREATE:
	case SYS_PIDFD_OPEN: case SYS_PIDFD_GETFD: case SYS_FANOTIFY_INIT:
	case SYS_USERFAULTFD: case SYS_PERF_EVENT_OPEN: case SYS_IO_URING_SETUP:
	case SYS_OPEN_BY_HANDLE_AT:
		return trace_fds ? CALL_FD : CALL_NONE;
	case SYS_PIPE: case SYS_PIPE2: case SYS_SOCKETPAIR:
		return trace_fds ? CALL_FD_PAIR : CALL_NONE;
	case SYS_RECVMSG:
		return trace_fds ? CALL_RECVMSG : CALL_NONE;
	case SYS_CONNECT: case SYS_BIND: case SYS_LISTEN:
		return trace_fds ? CALL_DESCRIBE : CALL_NONE;
	case SYS_CLOSE:
		return trace_fds ? CALL_CLOSE : CALL_NONE;
	case SYS_CLOSE_RANGE:
		return trace_fds ? CALL_CLOSE_RANGE : CALL_NONE;
	case SYS_MMAP:
		return trace_mappings ? CALL_MMAP : CALL_NONE;
	case SYS_MUNMAP:
		return trace_mappings ? CALL_MUNMAP : CALL_NONE;
	case SYS_MREMAP:
		return trace_mappings ? CALL_MREMAP : CALL_NONE;
	case SYS_BRK:
		return trace_mappings ? CALL_BRK : CALL_NONE;
	}
	return CALL_NONE;
}

/* Descriptors received per message that are followed; more are counted. */
#define RIGHTS_PER_MESSAGE 4

/* The call at its exit, and brk's entry. */
struct pending_call {
	__u32 live;	/* between a brk's entry and its exit */
	__u32 call;	/* enum resource_call */
	__u32 id;	/* system call number */
	__u32 pad;
	__s64 ret;	/* what the call returned */
	__u64 args[5];
	__u64 brk;	/* brk: the break before the call (live) */
	__u32 in_allocator; /* made inside a traced allocator call */
	/* The exit's, kept here rather than on the program's stack, which the
	 * walk fills: 6.1's verifier bounds the whole chain of calls at 512 bytes. */
	__u32 flags;	/* the walk's */
	__u64 ip, sp, bp; /* the user registers the walk starts from */
	/* What a recvmsg or pipe wrote: msg_control and msg_controllen, a
	 * control message's header, the descriptors. */
	__u64 control[2];
	struct cmsghdr header;
	int fds[RIGHTS_PER_MESSAGE];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pending_call);
} pending_calls SEC(".maps");

/* Every process traced here is in `followed` (user space puts the only one
 * there too), or in the cgroup. */
static __always_inline bool resource_process(void)
{
	/* After the trace's end, as the allocator programs (recording_stopped). */
	return !recording_stopped && followed_process(current_tgid());
}

#define MAP_ANONYMOUS 0x20
#define MAP_STACK 0x20000
#define F_DUPFD 0
#define F_DUPFD_CLOEXEC 1030
#define CLOSE_RANGE_CLOEXEC 4
#define SOL_SOCKET 1
#define SCM_RIGHTS 1
#define S_IFMT 0170000
#define S_IFSOCK 0140000
#define S_IFREG 0100000
#define S_IFDIR 0040000
#define S_IFCHR 0020000
#define S_IFBLK 0060000
#define AF_INET 2
#define AF_INET6 10
#define MAX_ERRNO 4095


static __always_inline struct pending_call *pending_call(void)
{
	struct pending_call *pending = bpf_task_storage_get(&pending_calls, bpf_get_current_task_btf(), 0,
							    BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (!pending)
		count(LH_CNT_SYSCALL_STATE);
	return pending;
}

static __always_inline void emit_range(__u32 kind, __u32 flags, __u64 addr, __u64 size, __u64 stack_id, __u64 ticks)
{
	struct alloc_info info = { .size = size, .stack_id = stack_id, .ticks = ticks };

	emit(kind, flags, addr, &info);
}

#define PAGE_ROUND(n) (((n) + 4095) & ~4095ULL)

/* Releases are recorded at the call's entry: once the kernel has released
 * a descriptor number or a range, another thread may be given it, and its
 * record must come after this one. A release that then fails (a bad
 * number, a misaligned range) released nothing that was traced. */
SEC("raw_tp/sys_enter")
int BPF_PROG(resource_enter, struct pt_regs *regs, long id)
{
	struct pending_call *pending;
	__u32 call;

	switch (id) {
	case SYS_CLOSE: case SYS_CLOSE_RANGE: case SYS_MUNMAP: case SYS_BRK:
		break;
	default:
		return 0;
	}
	call = resource_call(id);
	if (call == CALL_NONE || !resource_process())
		return 0;
	switch (call) {
	case CALL_CLOSE:
		emit_range(LH_EVENT_FD_CLOSE, 0, PT_REGS_PARM1_CORE_SYSCALL(regs), PT_REGS_PARM1_CORE_SYSCALL(regs), 0, 0);
		return 0;
	case CALL_CLOSE_RANGE:
		if (!(PT_REGS_PARM3_CORE_SYSCALL(regs) & CLOSE_RANGE_CLOEXEC))
			emit_range(LH_EVENT_FD_CLOSE, 0, (__u32)PT_REGS_PARM1_CORE_SYSCALL(regs),
				   (__u32)PT_REGS_PARM2_CORE_SYSCALL(regs), 0, 0);
		return 0;
	case CALL_MUNMAP:
		emit_range(LH_EVENT_UNMAP, 0, PT_REGS_PARM1_CORE_SYSCALL(regs), PAGE_ROUND(PT_REGS_PARM2_CORE_SYSCALL(regs)), 0, 0);
		return 0;
	}
	if (!(pending = pending_call()))
		return 0;
	pending->live = 1;
	pending->brk = BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), mm, brk);
	return 0;
}

/* The open file behind descriptor fd of the current process, or NULL. */
static __always_inline struct file *open_file(__u64 fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **files = BPF_CORE_READ(fdt, fd);
	struct file *file = NULL;

	if (fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	bpf_probe_read_kernel(&file, sizeof(file), &files[fd]);
	return file;
}

static __always_inline void describe_socket(struct file *file, struct lh_fd_details *details)
{
	struct socket *sock = BPF_CORE_READ(file, private_data);
	struct sock_common *common = (struct sock_common *)BPF_CORE_READ(sock, sk);

	details->sock_type = BPF_CORE_READ(sock, type);
	details->family = BPF_CORE_READ(common, skc_family);
	details->local_port = BPF_CORE_READ(common, skc_num);
	details->peer_port = bpf_ntohs(BPF_CORE_READ(common, skc_dport));
	if (details->family == AF_INET)
		bpf_probe_read_kernel(details->peer, 4, &common->skc_daddr);
	else if (details->family == AF_INET6)
		bpf_probe_read_kernel(details->peer, 16, &common->skc_v6_daddr);
}

/* Path components a file's path is read to, from the file up, and the
 * bytes of each (longer names are cut; the verifier needs a fixed size). */
#define PATH_DEPTH 24
#define COMPONENT_BYTES 64

struct path_walk {
	struct dentry *dentry;
	struct mount *mnt;
	struct path root;	/* the process's root directory (a container's, a chroot's) */
	struct lh_fd_details *details;
	__u32 off;
};

/* One step up from w->dentry: its name, or across to the mount it is the
 * root of. 1 where the walk ends. */
static long path_step(__u32 i, struct path_walk *w)
{
	/* Locals: CO-RE reads may only start from the kernel's own types. */
	struct dentry *dentry = w->dentry, *parent = BPF_CORE_READ(dentry, d_parent);
	struct lh_fd_details *details = w->details;
	struct mount *mnt = w->mnt, *up;
	__u32 off = w->off;
	long len;

	if (dentry == w->root.dentry && &mnt->mnt == w->root.mnt) {
		details->whole_path = 1;
		return 1;
	}
	if (dentry == BPF_CORE_READ(mnt, mnt.mnt_root) || dentry == parent) {
		up = BPF_CORE_READ(mnt, mnt_parent);
		if (up == mnt || !up) {
			details->whole_path = 1; /* the root of the namespace */
			return 1;
		}
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = up;
		return 0;
	}
	if (off > sizeof(details->name) - COMPONENT_BYTES)
		return 1;
	len = bpf_probe_read_kernel_str(details->name + off, COMPONENT_BYTES, BPF_CORE_READ(dentry, d_name.name));
	if (len <= 0)
		return 1;
	w->off = off + len;
	details->components++;
	w->dentry = parent;
	return 0;
}

/* The file's path, innermost component first (user space puts it the
 * right way round), across the mounts it lies under. bpf_d_path would do
 * it, but tracepoint programs may not call it. */
static __always_inline void file_path(struct file *file, struct lh_fd_details *details)
{
	struct path_walk walk = {
		.dentry = BPF_CORE_READ(file, f_path.dentry),
		/* The vfsmount is inside its struct mount, where this kernel puts it. */
		.mnt = (void *)BPF_CORE_READ(file, f_path.mnt) - bpf_core_field_offset(struct mount, mnt),
		.details = details,
		.root = BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), fs, root),
	};

	bpf_loop(PATH_DEPTH, path_step, &walk, 0);
	/* A file of no directory (a memfd): its name alone. */
	if (!details->components) {
		details->whole_path = 0;
		bpf_probe_read_kernel_str(details->name, sizeof(details->name), BPF_CORE_READ(file, f_path.dentry, d_name.name));
	}
}

/* What the kernel knows of descriptor fd now. A global function: the
 * verifier checks it once, not at each of emit_fd's calls. */
__noinline int describe_fd(__u64 fd, struct lh_fd_details *details)
{
	struct file *file = open_file(fd);
	__u32 type;

	if (!file || !details)
		return 0;
	details->mode = BPF_CORE_READ(file, f_inode, i_mode);
	type = details->mode & S_IFMT;
	if (type == S_IFSOCK)
		describe_socket(file, details);
	else if (type == S_IFREG || type == S_IFDIR || type == S_IFCHR || type == S_IFBLK)
		file_path(file, details);
	else /* pipes and anonymous inodes: a name, no path */
		bpf_probe_read_kernel_str(details->name, sizeof(details->name),
					  BPF_CORE_READ(file, f_path.dentry, d_name.name));
	return 0;
}

/* A record of descriptor fd as it is now: made (LH_EVENT_FD_OPEN), or told
 * more of (LH_EVENT_FD_DETAILS). */
static __noinline void emit_fd(__u32 kind, __u64 fd, __u64 stack_id, __u32 flags, __u32 id)
{
	struct lh_fd_event *event = bpf_ringbuf_reserve(&events, sizeof(*event), 0);

	if (!event) {
		count(LH_CNT_RINGBUF_DROPS);
		return;
	}
	__builtin_memset(&event->details, 0, sizeof(event->details));
	event->head.kind = kind;
	event->head.flags = flags;
	event->head.tgid = current_tgid();
	event->head.addr = fd;
	event->head.size = 0;
	event->head.stack_id = stack_id;
	event->head.ticks = bpf_jiffies64();
	event->details.syscall = id;
	describe_fd(fd, &event->details);
	bpf_ringbuf_submit(event, BPF_RB_NO_WAKEUP);
}

/* The calls that only sometimes make a descriptor. */
static __always_inline bool makes_fd(__u32 id, const struct pending_call *pending)
{
	switch (id) {
	case SYS_FCNTL:
		return pending->args[1] == F_DUPFD || pending->args[1] == F_DUPFD_CLOEXEC;
	case SYS_DUP2:
		return pending->args[0] != pending->args[1];
	case SYS_SIGNALFD:
	case SYS_SIGNALFD4:
		return (int)pending->args[0] == -1; /* else it changes the one given */
	}
	return true;
}

/* The descriptors of the first SCM_RIGHTS message a recvmsg brought. What
 * it reads goes to the pending call: the stack is the walk's. */
static __noinline void emit_received(__u32 id, struct pending_call *pending, __u64 stack_id)
{
	struct user_msghdr *msg = (struct user_msghdr *)pending->args[1];
	struct cmsghdr *header = &pending->header;
	__u64 at, end, n;

	if (bpf_probe_read_user(&pending->control, sizeof(pending->control), &msg->msg_control) || !pending->control[0])
		return;
	at = pending->control[0];
	end = at + pending->control[1];
	for (int i = 0; i < 2; i++) {
		if (at + sizeof(*header) > end || bpf_probe_read_user(header, sizeof(*header), (void *)at))
			return;
		if (header->cmsg_len < sizeof(*header))
			return;
		if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_RIGHTS)
			break;
		at += (header->cmsg_len + 7) & ~7ULL;
	}
	if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS)
		return;
	n = (header->cmsg_len - sizeof(*header)) / sizeof(int);
	if (n > RIGHTS_PER_MESSAGE) {
		count(LH_CNT_FDS_UNSEEN);
		n = RIGHTS_PER_MESSAGE;
	}
	if (bpf_probe_read_user(pending->fds, sizeof(pending->fds), (void *)(at + sizeof(*header))))
		return;
	for (int i = 0; i < RIGHTS_PER_MESSAGE; i++)
		if (i < n)
			emit_fd(LH_EVENT_FD_OPEN, pending->fds[i], stack_id, pending->flags, id);
}

/* The two descriptors pipe and socketpair write. */
static __noinline void emit_pair(__u32 id, struct pending_call *pending, __u64 stack_id)
{
	__u64 to = id == SYS_SOCKETPAIR ? pending->args[3] : pending->args[0];

	if (bpf_probe_read_user(pending->fds, 2 * sizeof(int), (void *)to))
		return;
	emit_fd(LH_EVENT_FD_OPEN, pending->fds[0], stack_id, pending->flags, id);
	emit_fd(LH_EVENT_FD_OPEN, pending->fds[1], stack_id, pending->flags, id);
}

static __always_inline __u32 mapping_kind(const struct pending_call *pending)
{
	__u64 map_flags = pending->args[3];

	if (map_flags & MAP_STACK)
		return LH_MAP_THREAD_STACK;
	if (pending->in_allocator)
		return LH_MAP_ALLOCATOR;
	return map_flags & MAP_ANONYMOUS ? LH_MAP_ANONYMOUS : LH_MAP_FILE;
}


/* x86-64's system call arguments, which the exit still finds in the user
 * registers. Apart from the exit program, whose stack the walk fills. */
static __noinline void read_arguments(struct pending_call *pending, struct pt_regs *regs)
{
	pending->args[0] = BPF_CORE_READ(regs, di);
	pending->args[1] = BPF_CORE_READ(regs, si);
	pending->args[2] = BPF_CORE_READ(regs, dx);
	pending->args[3] = BPF_CORE_READ(regs, r10);
	pending->args[4] = BPF_CORE_READ(regs, r8);
}

/* The call a system call exit is of: its number << 8 | enum resource_call.
 * A global function, so that reading the number takes none of the exit
 * program's own stack. */
__noinline __u64 exit_call(__u64 regs)
{
	long id = BPF_CORE_READ((struct pt_regs *)regs, orig_ax);
	__u32 call = resource_call(id);

	/* Releases were recorded at the entry. */
	if (call == CALL_CLOSE || call == CALL_CLOSE_RANGE || call == CALL_MUNMAP)
		call = CALL_NONE;
	return (__u64)id << 8 | call;
}

SEC("raw_tp/sys_exit")
int BPF_PROG(resource_exit, struct pt_regs *regs, long ret)
{
	struct pending_call *pending;
	struct call_state *call;
	__u64 stack_id = 0, brk, which = exit_call((__u64)regs);

	if ((which & 0xff) == CALL_NONE || !resource_process() || !(pending = pending_call()))
		return 0;
	/* What outlives the walk is kept in the map, not on the stack (see flags). */
	pending->id = which >> 8;
	pending->call = which & 0xff;
	pending->ret = ret;
	read_arguments(pending, regs);
	call = call_state(false);
	pending->in_allocator = call && call->depth;
	switch (pending->call) {
	case CALL_DESCRIBE:
		if (ret == 0 || ret == -115 /* EINPROGRESS: connecting */)
			emit_fd(LH_EVENT_FD_DETAILS, pending->args[0], 0, 0, pending->id);
		return 0;
	case CALL_MREMAP:
		if ((__u64)ret < -MAX_ERRNO)
			emit_range(LH_EVENT_REMAP, 0, pending->args[0], PAGE_ROUND(pending->args[1]), ret,
				   PAGE_ROUND(pending->args[2]));
		return 0;
	case CALL_BRK:
		/* Taken: a brk whose entry came before the trace began has no break to move from. */
		if (!pending->live)
			return 0;
		pending->live = 0;
		brk = ret;
		if (brk < pending->brk)
			emit_range(LH_EVENT_UNMAP, 0, brk, pending->brk - brk, 0, 0);
		if (brk <= pending->brk)
			return 0;
		break;
	case CALL_MMAP:
		if ((__u64)ret >= -MAX_ERRNO)
			return 0;
		break;
	case CALL_FD:
		if (ret < 0 || !makes_fd(pending->id, pending))
			return 0;
		break;
	default: /* pairs and messages */
		if (ret < 0)
			return 0;
	}
	pending->flags = 0;
	call = call_state(true);
	if (!call) {
		count(LH_CNT_STATE_FAILURES);
	} else {
		bpf_core_read(&pending->ip, sizeof(pending->ip), &regs->ip);
		bpf_core_read(&pending->sp, sizeof(pending->sp), &regs->sp);
		bpf_core_read(&pending->bp, sizeof(pending->bp), &regs->bp);
		/* A system call may come from inside malloc, under its uretprobe. */
		stack_id = capture_stack(pending->ip, pending->sp, pending->bp, current_mm(), call, false, false, true,
					 &pending->flags);
	}
	switch (pending->call) {
	case CALL_FD:
		emit_fd(LH_EVENT_FD_OPEN, pending->ret, stack_id, pending->flags, pending->id);
		break;
	case CALL_FD_PAIR:
		emit_pair(pending->id, pending, stack_id);
		break;
	case CALL_RECVMSG:
		emit_received(pending->id, pending, stack_id);
		break;
	case CALL_MMAP:
		emit_range(LH_EVENT_MAP, pending->flags | mapping_kind(pending) << LH_MAP_KIND_SHIFT, pending->ret,
			   PAGE_ROUND(pending->args[1]), stack_id, bpf_jiffies64());
		break;
	case CALL_BRK:
		emit_range(LH_EVENT_MAP,
			   pending->flags | (pending->in_allocator ? LH_MAP_ALLOCATOR : LH_MAP_ANONYMOUS) << LH_MAP_KIND_SHIFT,
			   pending->brk, pending->ret - pending->brk, stack_id, bpf_jiffies64());
		break;
	}
	return 0;
}

/* After an exec has closed the close-on-exec descriptors: which are open. */
SEC("raw_tp/sched_process_exec")
int resource_exec(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct lh_fd_exec_event *event;
	struct fdtable *fdt;
	__u64 words;

	if (!resource_process())
		return 0;
	event = bpf_ringbuf_reserve(&events, sizeof(*event), 0);
	if (!event) {
		count(LH_CNT_RINGBUF_DROPS);
		return 0;
	}
	__builtin_memset(event, 0, sizeof(*event));
	event->head.kind = LH_EVENT_FD_EXEC;
	event->head.tgid = current_tgid();
	fdt = BPF_CORE_READ(task, files, fdt);
	words = BPF_CORE_READ(fdt, max_fds) / 64;
	if (words > LH_FD_EXEC_WORDS)
		words = LH_FD_EXEC_WORDS;
	/* size: how many descriptors the bitmap covers. */
	event->head.size = words * 64;
	bpf_probe_read_kernel(event->open, words * sizeof(__u64), BPF_CORE_READ(fdt, open_fds));
	bpf_ringbuf_submit(event, BPF_RB_NO_WAKEUP);
	return 0;
}

#endif /* LEAKHOUND_USER_RESOURCES_BPF_H */
