// SPDX-License-Identifier: MIT
/* Kernel slab allocations and frees by kprobes on the allocator functions,
 * for `leakhound kernel --attach kprobe`. The figures are those of
 * kernel-alloc.bpf.c's tracepoints: a block's size is its slab cache's object
 * size, or for kmalloc the size of the bucket SLUB serves the request from.
 *
 * The entry program captures the stack (the probe's registers are the
 * allocator's own: the caller chain starts right there, with no tracing
 * machinery on top) and what the call asked for; the return program pairs
 * with it and keeps the returned block. Calls pair per task, not per CPU (a
 * GFP_KERNEL allocation may sleep and wake on another CPU), through a small
 * stack of open calls: an interrupt that allocates while its task is inside
 * an allocator nests within the task's call. Each open call remembers the
 * stack pointer at entry, so a return finds its own entry even after a
 * probe was missed; a traced allocation lost because its entry and return
 * could not be paired is counted as a state failure.
 *
 * Pages and per-CPU blocks keep their raw tracepoints (kernel-pages.bpf.h). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* A kprobe's registers are the probed function's at its first instruction:
 * the first frame is the allocator itself, as the tracepoints' is. */
#define MACHINERY_FRAMES 0

#include "kernel-common.bpf.h"
#include "core-fixes.bpf.h"

/* The attach cookie of an allocation function (src/trace/kernel-kprobes.ts
 * writes it): the kind of function in bits 0-3, the position (0-5) of its
 * struct kmem_cache * argument in bits 4-7, of its byte count in bits 8-11. */
enum kprobe_kind {
	KP_CACHE = 1,         /* kmem_cache_alloc*: the cache's size and name */
	KP_KMALLOC_CACHE = 2, /* kmalloc from a cache the caller chose: its size */
	KP_KMALLOC = 3,       /* kmalloc by byte count: the bucket's size */
	KP_LARGE = 4,         /* kmalloc beyond the caches: whole pages */
};

#define COOKIE_KIND(cookie) ((cookie) & 0xf)
#define COOKIE_CACHE_ARG(cookie) (((cookie) >> 4) & 0xf)
#define COOKIE_SIZE_ARG(cookie) (((cookie) >> 8) & 0xf)

/* An allocator call between its entry and its return. `size` 0: nothing
 * to keep (filtered out, or not traced by the tracepoints either). */
struct open_call {
	__u64 sp;
	__u64 size;
	__u64 stack_id;
	__u64 cache_name;
	__u32 flags;
	__u32 armed; /* opened while every probe was attached */
};

#define OPEN_MAX 4

struct open_calls {
	__u32 depth;
	__u32 pad;
	struct open_call calls[OPEN_MAX];
};

/* By task (its task_struct's address). Preallocated, like every table the
 * kernel tracer writes while it traces; an entry lives while its task is
 * inside an allocator. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 14);
	__type(key, __u64);
	__type(value, struct open_calls);
} open_calls SEC(".maps");

/* Set while every probe is attached (user space runs arm_pairing after
 * attaching and disarm_pairing before detaching): probes come and go one at
 * a time, and the calls they split meanwhile are no loss to count. */
__u32 pairing_armed = 0;

SEC("raw_tp")
int arm_pairing(void *ctx)
{
	pairing_armed = 1;
	return 0;
}

SEC("raw_tp")
int disarm_pairing(void *ctx)
{
	pairing_armed = 0;
	return 0;
}

/* After `ret` the stack pointer is one word above where it was at entry. */
#define RETURN_SP_OFFSET 8

/* Argument `at` (0-4). Each register is loaded at its constant offset: the
 * verifier allows no load from a context pointer moved by a variable. */
static __always_inline __u64 arg(struct pt_regs *ctx, __u32 at)
{
	__u64 args[5] = {
		PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx), PT_REGS_PARM3(ctx),
		PT_REGS_PARM4(ctx), PT_REGS_PARM5(ctx),
	};

	return at < 5 ? args[at] : 0;
}

/* The kmalloc cache SLUB takes a request of `bytes` from (kmalloc_slab):
 * 8, 16, 32, 64, 96, 128, 192, then powers of two. 0 for a request of 0,
 * which gets ZERO_SIZE_PTR and no tracepoint. */
static __always_inline __u64 kmalloc_bucket(__u64 bytes)
{
	__u64 bucket = 256;

	if (!bytes)
		return 0;
	if (bytes <= 8)
		return 8;
	if (bytes <= 16)
		return 16;
	if (bytes <= 32)
		return 32;
	if (bytes <= 64)
		return 64;
	if (bytes <= 96)
		return 96;
	if (bytes <= 128)
		return 128;
	if (bytes <= 192)
		return 192;
	for (int i = 0; i < 24 && bucket < bytes; i++)
		bucket <<= 1;
	return bucket;
}

/* PAGE_SIZE << get_order(bytes): what the kmalloc tracepoint reports for a
 * request served by the page allocator. */
static __always_inline __u64 whole_pages(__u64 bytes)
{
	__u64 span = page_size;

	for (int i = 0; i < 24 && span < bytes; i++)
		span <<= 1;
	return span;
}

static __always_inline struct open_calls *calls_of(__u64 task, bool create)
{
	static const struct open_calls none = {};
	struct open_calls *calls = bpf_map_lookup_elem(&open_calls, &task);

	if (calls || !create)
		return calls;
	if (bpf_map_update_elem(&open_calls, &task, &none, BPF_NOEXIST))
		return NULL;
	return bpf_map_lookup_elem(&open_calls, &task);
}

SEC("kprobe")
int alloc_entry(struct pt_regs *ctx)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u64 task = bpf_get_current_task();
	struct open_call call = { .sp = PT_REGS_SP(ctx), .armed = pairing_armed };
	struct open_calls *calls;
	__u64 cache = arg(ctx, COOKIE_CACHE_ARG(cookie));
	__u64 bytes = arg(ctx, COOKIE_SIZE_ARG(cookie));
	__u64 size = 0, name = 0;
	__u32 depth;

	switch (COOKIE_KIND(cookie)) {
	case KP_CACHE:
		size = cache_size(cache);
		/* Before 6.1 kmem:kmem_cache_alloc named no cache either. */
		name = kmem_cache_alloc_has_cache() ? cache_name(cache) : 0;
		break;
	case KP_KMALLOC_CACHE:
		size = cache_size(cache);
		break;
	case KP_KMALLOC:
		size = kmalloc_bucket(bytes);
		break;
	case KP_LARGE:
		size = whole_pages(bytes);
		break;
	}
	/* Larger kmalloc requests are the page allocator's: its tracepoint
	 * keeps them, as in kernel-alloc.bpf.c. */
	if (COOKIE_KIND(cookie) != KP_CACHE && !from_kmalloc_cache(size))
		size = 0;
	if (size && size_wanted(size) && task_wanted()) {
		call.size = size;
		call.cache_name = name;
		call.stack_id = capture_kernel_stack(ctx, name, &call.flags);
	}

	/* Every call is opened, kept or not, so that returns pair up. */
	calls = calls_of(task, true);
	if (!calls) {
		count(LH_CNT_STATE_FAILURES);
		return 0;
	}
	depth = calls->depth;
	if (depth >= OPEN_MAX) {
		/* Returns were missed: the oldest open call makes room. */
		if (calls->calls[0].size && calls->calls[0].armed && pairing_armed)
			count(LH_CNT_STATE_FAILURES);
		for (int i = 0; i < OPEN_MAX - 1; i++)
			calls->calls[i] = calls->calls[i + 1];
		depth = OPEN_MAX - 1;
	}
	calls->calls[depth & (OPEN_MAX - 1)] = call;
	calls->depth = depth + 1;
	return 0;
}

/* A return without its entry (while the probes were being attached, or
 * the entry's program was skipped): an allocation of a traced task is lost. */
static __always_inline void entry_missed(void)
{
	if (pairing_armed && task_wanted())
		count(LH_CNT_STATE_FAILURES);
}

SEC("kretprobe")
int alloc_return(struct pt_regs *ctx)
{
	__u64 ptr = PT_REGS_RC(ctx);
	__u64 task = bpf_get_current_task();
	__u64 entry_sp = PT_REGS_SP(ctx) - RETURN_SP_OFFSET;
	struct open_calls *calls = calls_of(task, false);
	struct open_call call;
	int at = -1;

	if (!calls) {
		entry_missed();
		return 0;
	}
	/* This return's call is the innermost open one, unless the return of
	 * one inside it was missed. */
	for (int i = OPEN_MAX - 1; i >= 0; i--) {
		if (i < calls->depth && calls->calls[i].sp == entry_sp) {
			at = i;
			break;
		}
	}
	if (at < 0) {
		entry_missed();
		return 0;
	}
	/* Calls inside this one whose returns were missed. */
	for (int i = 1; i < OPEN_MAX; i++) {
		if (i > at && i < calls->depth && calls->calls[i].size &&
		    calls->calls[i].armed && pairing_armed)
			count(LH_CNT_STATE_FAILURES);
	}
	call = calls->calls[at & (OPEN_MAX - 1)];
	calls->depth = at;
	if (!at)
		bpf_map_delete_elem(&open_calls, &task);

	/* NULL and ZERO_SIZE_PTR (16) are no blocks. */
	if (call.size && ptr > 16)
		keep_alloc(ptr, call.size, call.stack_id, call.cache_name, call.flags);
	return 0;
}

/* kfree(p), kmem_cache_free(s, p): the cookie is the pointer's position.
 * kfree(NULL) is seen too; the table lookup simply misses. */
SEC("kprobe")
int free_entry(struct pt_regs *ctx)
{
	record_free(arg(ctx, bpf_get_attach_cookie(ctx) & 0xf));
	return 0;
}

#include "kernel-pages.bpf.h"
#include "oom-victim.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";
