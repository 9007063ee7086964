// SPDX-License-Identifier: MIT
/* Uprobes on the malloc family of one process. The entry program notes what
 * was asked for; the return program captures the caller's stack and records
 * what came back. At return the kernel has put the caller's address in the
 * IP already, so the first frame costs no read of user memory, and where the
 * frame-pointer register cannot hold a frame (code built without frame
 * pointers uses it for anything) the stack costs none at all.
 * Only the outermost allocator call of a thread counts: realloc(NULL, n),
 * memalign and operator new all call malloc again.
 * Every allocation and every free goes to user space, which matches them:
 * a table here would cost a hash update and delete per pair. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "common.bpf.h"

const volatile __u32 stack_depth = LH_MAX_STACK_DEPTH;
const volatile __u64 page_size = 4096;
/* The benchmarks' floor: every program returns at once (the verifier drops
 * the rest), so only the cost of the probes themselves remains. */
const volatile bool floor_only = false;
/* Keep each allocation with probability 1/sample_every (user space scales
 * the figures back up); the probes still fire for every call. Random, not
 * every N-th call: a program that alternates call sites would alias. */
const volatile __u32 sample_every = 1;

/* A frame pointer must lie above the stack pointer and within this span of
 * it; anything else is not a frame of this thread's stack. */
#define STACK_SPAN (8ULL << 20)

/* The walk copies the stack a window at a time and reads frames from the
 * copy. Reaching user memory has a fixed price (~0.2 us on this kind of
 * guest) and each KiB adds a little (8 KiB ~0.13 us more than 16 bytes), so
 * a thread's first copy takes up to 8 KiB, never past the end of its stack
 * where a read would fault, and later ones take what its walks have been
 * reaching: the same call sites repeat the same stacks. */
#define WINDOW 8192
/* Room a copy leaves above what the last walks reached: callers at other
 * depths of the same thread mostly fit in it. */
#define REACH_SLACK 256
/* Where the stack's end is not known: a span that is there above SP. */
#define SAFE_SPAN 1024
/* Frames one bpf_loop step takes where the copy holds them: a step is a
 * call, and four frames per call cost ~40% less per frame than one. The
 * verifier's work grows fast with it: load takes 0.1 s at 1, 0.6 s at 4,
 * and 8 does not load. */
#define FRAMES_PER_STEP 4

struct walk_scratch {
	struct lh_stack stack;
	__u8 window[WINDOW + 16]; /* slack: a frame read at any masked offset fits */
};

struct call_state {
	__u32 depth;	    /* nesting of traced allocator calls */
	__u32 fn;	    /* enum lh_alloc_fn of the outermost call */
	__u32 flags;
	__u32 wanted;	    /* the size passed the filters and the sampler */
	__u64 size;
	__u64 out_ptr;	    /* posix_memalign's memptr */
	__u64 old_ptr;	    /* realloc's block, released at entry */
	__u64 last_stack_id; /* the thread's previous stack: loops repeat theirs */
	__u64 stack_end;     /* end of the stack mapping SP was last found in */
	__u32 window;        /* bytes a copy may take here: see copy_window */
	__u32 reach;         /* bytes recent walks read from their first frame: see note_reach */
	/* Per thread, not per CPU: a uprobe program can be preempted, and
	 * another thread's walk on the same CPU would overwrite the copy. */
	struct walk_scratch scratch;
};

/* Set by user space before attach: the target's code without frame pointers. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lh_code_ranges);
} no_frame_pointer_code SEC(".maps");

/* Lives and dies with the thread: no table of dead thread ids to fill up. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct call_state);
} calls SEC(".maps");

/* Walk the frame-pointer chain from the probed function's entry: the return
 * address sits at SP, the caller's frame at FP. Every step is checked to stay
 * aligned, rising and on this thread's stack, so the walk never faults. The
 * steps run under bpf_loop, so the verifier checks one step, not 64. */
struct walk {
	struct walk_scratch *scratch;
	__u32 *window;	/* the thread's copy size */
	const struct lh_code_ranges *no_fp;
	__u64 sp;
	__u64 fp;
	__u64 low;	/* the lowest address the next frame record may lie at */
	__u64 hash;
	__u64 base;	/* user address of window[0] */
	__u64 valid;	/* bytes of the window that hold a copy */
	__u64 end;	/* no copy reaches past this */
	__u64 last_ret;	/* the frame whose saved frame pointer is followed next */
	__u64 first;	/* the first frame record, where the first copy starts */
	__u64 top;	/* end of the highest frame record read */
	__u32 depth;
	bool truncated;
};

static __always_inline bool in_code_without_fp(const struct lh_code_ranges *code, __u64 ip)
{
	for (__u32 i = 0; i < LH_MAX_CODE_RANGES; i++) {
		if (i >= code->count)
			return false;
		if (ip >= code->start[i] && ip < code->end[i])
			return true;
	}
	return false;
}

/* Copies the stack from `from` on, up to `cap` bytes, the thread's window or
 * the stack's end, and at least the `need` bytes wanted now; if that fails,
 * only those. A copy fails whole when it meets a page never touched (a big
 * frame can skip one), and a failure costs a fault: the thread's window is
 * halved so that it stops meeting the hole. */
static __always_inline bool copy_window(struct walk *walk, __u64 from, __u32 need, __u32 cap)
{
	__u64 size = walk->end > from ? walk->end - from : 0;
	__u32 window = *walk->window;

	if (window > WINDOW || window < SAFE_SPAN)
		window = WINDOW;
	if (cap < window)
		window = cap;
	if (size > window)
		size = window;
	if (size < need)
		size = need;
	if (size > WINDOW) /* for the verifier: it loses the bound above */
		size = WINDOW;
	walk->base = from;
	walk->valid = size;
	if (!bpf_probe_read_user(walk->scratch->window, size, (void *)from))
		return true;
	if (size > SAFE_SPAN)
		*walk->window = size / 2 < SAFE_SPAN ? SAFE_SPAN : size / 2;
	walk->valid = need;
	return !bpf_probe_read_user(walk->scratch->window, need, (void *)from);
}

/* A frame pointer must be aligned, above the last frame and on this
 * thread's stack: the walk never reads anything else. */
static __always_inline bool plausible_frame(const struct walk *walk, __u64 fp)
{
	return !(fp & 7) && fp >= walk->low && fp <= walk->sp + STACK_SPAN;
}

/* The frame record at `fp` (saved frame pointer, return address) is in the copy. */
static __always_inline bool window_covers(const struct walk *walk, __u64 fp)
{
	return fp >= walk->base && fp - walk->base + 16 <= walk->valid;
}

/* Takes the frame at walk->fp from the copy; false where the stack ends. */
static __always_inline bool take_frame(struct walk *walk)
{
	struct walk_scratch *scratch = walk->scratch;
	__u64 fp = walk->fp, off = (fp - walk->base) & (WINDOW - 1);
	__u64 next = *(__u64 *)(scratch->window + off);
	__u64 ret = *(__u64 *)(scratch->window + off + 8);
	__u32 at = walk->depth;

	walk->top = fp + 16;
	if (!ret)
		return false;
	if (at >= stack_depth || at >= LH_MAX_STACK_DEPTH) {
		walk->truncated = true;
		return false;
	}
	scratch->stack.ips[at] = ret;
	walk->last_ret = ret;
	walk->hash = hash_step(walk->hash, ret);
	walk->low = fp + 16; /* records do not overlap */
	walk->fp = next;
	walk->depth = at + 1;
	return true;
}

/* One step of the walk, under bpf_loop (the verifier checks one step, not
 * 64): a frame from the copy in hand, after a new copy if need be, then more
 * while the copy holds them. (Written as one loop in which only the first
 * pass may copy, it took the verifier 2.9 s instead of 0.5 s.) */
static long walk_step(__u32 i, struct walk *walk)
{
	__u64 fp = walk->fp;

	if (!plausible_frame(walk, fp))
		return 1;
	/* Past code without frame pointers the chain is a guess: not worth
	 * another copy, which costs more than the rest of the walk. */
	if (!window_covers(walk, fp) &&
	    ((walk->no_fp && in_code_without_fp(walk->no_fp, walk->last_ret)) ||
	     !copy_window(walk, fp, 16, WINDOW)))
		return 1;
	if (!take_frame(walk))
		return 1;
	for (int more = 0; more < FRAMES_PER_STEP - 1; more++) {
		if (!plausible_frame(walk, walk->fp) || !window_covers(walk, walk->fp))
			return 0;
		if (!take_frame(walk))
			return 1;
	}
	return 0;
}

static long clear_step(__u32 i, struct walk *walk)
{
	__u32 at = walk->depth + i;

	if (at >= LH_MAX_STACK_DEPTH)
		return 1;
	walk->scratch->stack.ips[at] = 0;
	return 0;
}

static long note_end(struct task_struct *task, struct vm_area_struct *vma, __u64 *end)
{
	*end = vma->vm_end;
	return 0;
}

/* The end of the mapping SP lies in, found once per thread (a stack does not
 * move) and again only when SP leaves it: another stack, such as a
 * coroutine's or a signal stack. */
static __always_inline __u64 stack_end(struct call_state *call, __u64 sp)
{
	__u64 end = 0;

	if (sp >= call->stack_end || call->stack_end - sp > STACK_SPAN) {
		bpf_find_vma(bpf_get_current_task_btf(), sp, note_end, &end, 0);
		call->stack_end = end;
	}
	return call->stack_end ? call->stack_end : sp + SAFE_SPAN;
}

/* How far the next first copy should reach: at once as far as this walk
 * read, but only slowly back down, so that a thread whose stacks alternate
 * between shallow and deep keeps copying for the deep ones in one go. */
static __always_inline void note_reach(struct call_state *call, const struct walk *walk)
{
	__u64 reach = walk->top - walk->first;

	if (walk->top <= walk->first || reach > WINDOW)
		reach = WINDOW;
	if (reach >= call->reach)
		call->reach = reach;
	else
		call->reach -= (call->reach - reach) / 8;
}

/* At the allocator's return: the caller's address is the IP, its frame
 * record is where the frame-pointer register points. */
static __always_inline __u64 capture_stack(struct pt_regs *ctx, struct call_state *call)
{
	__u32 zero = 0;
	struct walk walk = {
		.scratch = &call->scratch,
		.window = &call->window,
		.no_fp = bpf_map_lookup_elem(&no_frame_pointer_code, &zero),
		.sp = PT_REGS_SP(ctx),
		.fp = PT_REGS_FP(ctx),
		.low = PT_REGS_SP(ctx),
		.last_ret = PT_REGS_IP(ctx),
		.depth = 1,
	};
	__u64 id;

	walk.scratch->stack.ips[0] = walk.last_ret;
	walk.hash = hash_step(0, walk.last_ret);
	/* The first copy is taken even where the caller keeps no frame
	 * pointer: a function that leaves the register alone (most of libc's
	 * helpers) still holds its own caller's chain in it. */
	if (plausible_frame(&walk, walk.fp)) {
		walk.end = stack_end(call, walk.sp);
		walk.first = walk.fp;
		if (copy_window(&walk, walk.fp, 16, call->reach ? call->reach + REACH_SLACK : WINDOW)) {
			bpf_loop(LH_MAX_STACK_DEPTH, walk_step, &walk, 0);
			note_reach(call, &walk);
		} else {
			count(LH_CNT_STACK_FAILURES);
		}
	}
	if (walk.truncated) {
		call->flags |= LH_FLAG_STACK_TRUNCATED;
		count(LH_CNT_TRUNCATED);
	}
	id = stack_id_of(walk.hash);
	if (id == call->last_stack_id || bpf_map_lookup_elem(&stacks, &id))
		return call->last_stack_id = id;
	/* New stack: the scratch buffer still holds a longer one's tail. */
	bpf_loop(LH_MAX_STACK_DEPTH, clear_step, &walk, 0);
	return call->last_stack_id = store_stack(id, &walk.scratch->stack);
}

static __always_inline struct call_state *call_state(bool create)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return bpf_task_storage_get(&calls, task, 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

static __always_inline int alloc_enter_fn(struct pt_regs *ctx, __u32 fn, __u64 size,
					  __u64 out_ptr, __u64 old_ptr)
{
	struct call_state *call;

	if (floor_only)
		return 0;
	call = call_state(true);
	if (!call) {
		count(LH_CNT_STATE_FAILURES);
		return 0;
	}
	if (call->depth++)
		return 0;
	call->fn = fn;
	call->size = size;
	call->out_ptr = out_ptr;
	call->old_ptr = old_ptr;
	call->flags = 0;
	call->wanted = size_wanted(size) && (sample_every <= 1 || bpf_get_prandom_u32() % sample_every == 0);
	/* Release realloc's block now, not at return: once realloc has freed it,
	 * another thread may be handed the same address. User space keeps it
	 * aside in case realloc fails. */
	if (old_ptr)
		emit_free(old_ptr, LH_FLAG_REALLOC);
	return 0;
}

/* One entry program for the whole family: the attach cookie says which
 * function this is, and so where its size and pointers are. One program
 * means one link for every entry, and a link costs an RCU grace period to
 * take down. */
SEC("uprobe")
int BPF_KPROBE(alloc_enter, __u64 a0, __u64 a1, __u64 a2)
{
	__u32 fn = bpf_get_attach_cookie(ctx);
	__u64 size = a0, out_ptr = 0, old_ptr = 0;

	switch (fn) {
	case LH_FN_CALLOC:
		size = a0 * a1;
		break;
	case LH_FN_REALLOC:
		size = a1;
		old_ptr = a0;
		break;
	case LH_FN_REALLOCARRAY:
		size = a1 * a2;
		old_ptr = a0;
		break;
	case LH_FN_POSIX_MEMALIGN:
		size = a2;
		out_ptr = a0;
		break;
	case LH_FN_MEMALIGN: /* memalign and aligned_alloc: (alignment, size) */
		size = a1;
		break;
	case LH_FN_PVALLOC: /* whole pages: count what it really reserves */
		size = a0 ? (a0 + page_size - 1) & ~(page_size - 1) : page_size;
		break;
	}
	/* malloc, valloc and every operator new take the size first. */
	return alloc_enter_fn(ctx, fn, size, out_ptr, old_ptr);
}

SEC("uretprobe")
int BPF_KRETPROBE(alloc_exit, void *ret)
{
	struct call_state *call;
	__u64 addr = (__u64)ret;

	if (floor_only)
		return 0;
	call = call_state(false);
	/* No state, or depth 0: the call began before its entry was probed. */
	if (!call || !call->depth || --call->depth)
		return 0;
	if (call->fn == LH_FN_POSIX_MEMALIGN) {
		if ((__u32)addr || bpf_probe_read_user(&addr, sizeof(addr), (void *)call->out_ptr))
			addr = 0; /* non-zero return: an error code, no block */
	}
	if (addr) {
		if (call->wanted) {
			__u64 stack_id = capture_stack(ctx, call);

			emit_alloc(addr, call->size, stack_id, call->flags);
		}
	} else if (call->old_ptr && call->size) {
		/* realloc failed and kept the old block (realloc(p, 0) freed it). */
		emit_alloc(call->old_ptr, 0, 0, LH_FLAG_RESTORED);
	}
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(free_enter, void *ptr)
{
	if (!floor_only && ptr)
		emit_free((__u64)ptr, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
