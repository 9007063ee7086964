/* SPDX-License-Identifier: MIT */
/* What the two kernel tracers (tracepoints, kprobes) share: the task filter,
 * the stack capture, the slab cache names, and the step that keeps an
 * allocation. Pointers arrive as plain numbers: the verifier allows no
 * arithmetic (masking, hashing) on a typed pointer, and older verifiers
 * refuse some typed arguments outright. */
#ifndef LEAKHOUND_KERNEL_COMMON_BPF_H
#define LEAKHOUND_KERNEL_COMMON_BPF_H

#include <bpf/bpf_core_read.h>
#include "alloc-table.bpf.h"

/* A raw tracepoint's stacks start with the program and bpf_trace_run<N>. */
#define RAW_TP_FRAMES 2

/* Each tracer says how many frames of the tracing machinery top every stack
 * it captures. */
#ifndef MACHINERY_FRAMES
#error "define MACHINERY_FRAMES before including kernel-common.bpf.h"
#endif

/* Filters on the allocating task, set in .rodata before load; 0 is "any".
 * Frees are never filtered: an object may be freed by anyone. */
const volatile __u32 target_tgid = 0;
const volatile __u64 target_cgroup = 0;
const volatile __u32 target_cgroup_level = 0;
const volatile __u64 target_comm[2] = {}; /* TASK_COMM_LEN bytes, NUL-padded */
const volatile __u64 page_size = 4096;

#define CACHE_NAME_LEN 32

/* Slab cache names by stack id, read by user space for the report.
 * Preallocated: a table that allocates as it grows would show up in the very
 * allocations it traces. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 15);
	__type(key, __u64);
	__type(value, char[CACHE_NAME_LEN]);
} stack_caches SEC(".maps");

/* An interrupt may allocate while a program on the same CPU is capturing a
 * stack: every nesting level gets its own buffer. */
#define NEST_MAX 4

struct stack_slots {
	__u32 depth;
	struct lh_stack stacks[NEST_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stack_slots);
} scratch SEC(".maps");

static __always_inline bool task_wanted(void)
{
	__u64 comm[2] = {};

	if (target_tgid && bpf_get_current_pid_tgid() >> 32 != target_tgid)
		return false;
	/* The cgroup itself or any cgroup below it. */
	if (target_cgroup &&
	    bpf_get_current_ancestor_cgroup_id(target_cgroup_level) != target_cgroup)
		return false;
	if (target_comm[0]) {
		bpf_get_current_comm(comm, sizeof(comm));
		if (comm[0] != target_comm[0] || comm[1] != target_comm[1])
			return false;
	}
	return true;
}

/* The stack id also folds in the cache (its address, as a number), so one
 * call path into two caches gives two stacks, each with its own name. */
static __always_inline __u64 capture_into(void *ctx, struct lh_stack *stack, __u64 salt,
					  __u32 *flags, __u32 skip)
{
	long bytes = bpf_get_stack(ctx, stack->ips, sizeof(stack->ips),
				   skip & BPF_F_SKIP_FIELD_MASK);
	__u64 hash = salt;
	int depth, i;

	if (bytes <= 0) {
		count(LH_CNT_STACK_FAILURES);
		return 0;
	}
	depth = bytes / sizeof(__u64);
	/* bpf_get_stack zeroes what it did not fill; a full buffer may have
	 * cut the walk short. */
	if (depth >= LH_MAX_STACK_DEPTH) {
		*flags |= LH_FLAG_STACK_TRUNCATED;
		count(LH_CNT_TRUNCATED);
	}
	for (i = 0; i < LH_MAX_STACK_DEPTH && i < depth; i++)
		hash = hash_step(hash, stack->ips[i]);
	return intern_stack(hash, stack);
}

/* The current stack's id (0 when it could not be had), in a buffer of this
 * CPU's for the nesting level the program runs at, without its top `skip`
 * frames. */
static __always_inline __u64 capture_stack_skipping(void *ctx, __u64 salt, __u32 *flags,
						    __u32 skip)
{
	__u32 zero = 0, level;
	struct stack_slots *slots = bpf_map_lookup_elem(&scratch, &zero);
	__u64 stack_id = 0;

	if (!slots)
		return 0;
	level = slots->depth++;
	if (level < NEST_MAX)
		stack_id = capture_into(ctx, &slots->stacks[level], salt, flags, skip);
	else
		count(LH_CNT_STACK_FAILURES);
	slots->depth--;
	return stack_id;
}

/* Without the tracer's own machinery. */
static __always_inline __u64 capture_kernel_stack(void *ctx, __u64 salt, __u32 *flags)
{
	return capture_stack_skipping(ctx, salt, flags, MACHINERY_FRAMES);
}

static __always_inline void remember_cache(__u64 stack_id, __u64 cache_name)
{
	char name[CACHE_NAME_LEN] = {};

	if (!stack_id || !cache_name || bpf_map_lookup_elem(&stack_caches, &stack_id))
		return;
	bpf_probe_read_kernel_str(name, sizeof(name), (const void *)cache_name);
	/* Sized like the stack table: full only when that one nearly is. */
	if (bpf_map_update_elem(&stack_caches, &stack_id, name, BPF_NOEXIST) == -7 /* E2BIG */)
		count(LH_CNT_STACKS_FULL);
}

/* A slab cache's object size and name, read from a struct kmem_cache
 * given as a number. */
static __always_inline __u64 cache_size(__u64 cache)
{
	return BPF_CORE_READ((struct kmem_cache *)cache, size);
}

static __always_inline __u64 cache_name(__u64 cache)
{
	return (__u64)BPF_CORE_READ((struct kmem_cache *)cache, name);
}

/* Keeps an allocation whose stack is already captured. */
static __always_inline void keep_alloc(__u64 key, __u64 size, __u64 stack_id, __u64 name,
				       __u32 flags)
{
	remember_cache(stack_id, name);
	record_alloc(key, size, stack_id, flags);
}

/* `name` is the slab cache's name (its address), 0 outside slab caches.
 * `key` is the address only this kind of allocation owns. The stack is
 * captured here, without its top `skip` frames. */
static __always_inline void kernel_alloc_skipping(void *ctx, __u64 key, __u64 size, __u64 name,
						  __u32 skip)
{
	__u32 flags = 0;
	__u64 stack_id;

	if (!key || !size_wanted(size) || !task_wanted())
		return;
	stack_id = capture_stack_skipping(ctx, name, &flags, skip);
	keep_alloc(key, size, stack_id, name, flags);
}

static __always_inline void kernel_alloc(void *ctx, __u64 key, __u64 size, __u64 name)
{
	kernel_alloc_skipping(ctx, key, size, name, MACHINERY_FRAMES);
}

/* SLUB serves kmalloc up to two pages from its caches; larger requests go to
 * the page allocator, whose own probe records them. */
static __always_inline bool from_kmalloc_cache(__u64 bytes)
{
	return bytes <= 2 * page_size;
}

#endif /* LEAKHOUND_KERNEL_COMMON_BPF_H */
