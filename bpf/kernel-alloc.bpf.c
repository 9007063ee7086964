// SPDX-License-Identifier: MIT
/* Kernel allocations and frees from the kmem and percpu tracepoints, as
 * tp_btf programs: typed arguments and no trace record to fill, the cheapest
 * of the three tracepoint kinds (bench/KERNEL-RESULTS.md).
 *
 * Each kind is keyed by an address only that kind owns, so keys never
 * collide in `allocs`: slab objects by their own address, pages by their
 * struct page (the memmap is never handed out), per-CPU blocks by the
 * address of their first unit (per-CPU chunks are not slab memory). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "alloc-table.bpf.h"

/* Filters on the allocating task, set in .rodata before load; 0 is "any".
 * Frees are never filtered: an object may be freed by anyone. */
const volatile __u32 target_tgid = 0;
const volatile __u64 target_cgroup = 0;
const volatile __u32 target_cgroup_level = 0;
const volatile __u64 target_comm[2] = {}; /* TASK_COMM_LEN bytes, NUL-padded */
const volatile __u64 page_size = 4096;

/* SLUB serves kmalloc up to two pages from its caches; larger requests go to
 * the page allocator, whose tracepoint has already recorded them. */
#define KMALLOC_MAX_CACHE_SIZE (2 * page_size)

#define CACHE_NAME_LEN 32

/* Every captured stack starts with this program and bpf_trace_run<N>: the
 * tracing machinery, not the allocation. */
#define MACHINERY_FRAMES 2

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

/* A typed argument's value as a plain number: the verifier allows no
 * arithmetic (masking, hashing) on a trusted pointer such as a struct page. */
static __always_inline __u64 arg_value(__u64 *ctx, int arg)
{
	__u64 value = 0;

	bpf_probe_read_kernel(&value, sizeof(value), &ctx[arg]);
	return value;
}

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

/* The stack id also folds in the cache (by its name's address: the verifier
 * allows no arithmetic on the cache pointer itself), so one call path into
 * two caches gives two stacks, each with its own name. */
static __always_inline __u64 capture_stack(void *ctx, struct lh_stack *stack,
					   __u64 salt, __u32 *flags)
{
	long bytes = bpf_get_stack(ctx, stack->ips, sizeof(stack->ips),
				   MACHINERY_FRAMES & BPF_F_SKIP_FIELD_MASK);
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

static __always_inline void remember_cache(__u64 stack_id, const char *cache)
{
	char name[CACHE_NAME_LEN] = {};

	if (!stack_id || bpf_map_lookup_elem(&stack_caches, &stack_id))
		return;
	bpf_probe_read_kernel_str(name, sizeof(name), cache);
	/* Sized like the stack table: full only when that one nearly is. */
	if (bpf_map_update_elem(&stack_caches, &stack_id, name, BPF_NOEXIST) == -7 /* E2BIG */)
		count(LH_CNT_STACKS_FULL);
}

/* `cache` is the slab cache's name, NULL outside kmem_cache_alloc. */
static __always_inline void kernel_alloc(void *ctx, __u64 key, __u64 size, const char *cache)
{
	__u32 zero = 0, flags = 0, level;
	struct stack_slots *slots;
	__u64 stack_id = 0;

	if (!key || !size_wanted(size) || !task_wanted())
		return;
	slots = bpf_map_lookup_elem(&scratch, &zero);
	if (!slots)
		return;
	level = slots->depth++;
	if (level < NEST_MAX)
		stack_id = capture_stack(ctx, &slots->stacks[level], (__u64)cache, &flags);
	else
		count(LH_CNT_STACK_FAILURES);
	slots->depth--;
	if (cache)
		remember_cache(stack_id, cache);
	record_alloc(key, size, stack_id, flags);
}

SEC("tp_btf/kmalloc")
int BPF_PROG(kmalloc, unsigned long call_site, const void *ptr, size_t bytes_req,
	     size_t bytes_alloc)
{
	if (bytes_alloc <= KMALLOC_MAX_CACHE_SIZE)
		kernel_alloc(ctx, (__u64)ptr, bytes_alloc, NULL);
	return 0;
}

SEC("tp_btf/kmem_cache_alloc")
int BPF_PROG(kmem_cache_alloc, unsigned long call_site, const void *ptr, struct kmem_cache *s)
{
	kernel_alloc(ctx, (__u64)ptr, s->size, s->name);
	return 0;
}

SEC("tp_btf/mm_page_alloc")
int BPF_PROG(mm_page_alloc, struct page *page, unsigned int order)
{
	kernel_alloc(ctx, arg_value(ctx, 0), page_size << order, NULL);
	return 0;
}

SEC("tp_btf/percpu_alloc_percpu")
int BPF_PROG(percpu_alloc_percpu, unsigned long call_site, bool reserved, bool is_atomic,
	     size_t size, size_t align, void *base_addr, int off, void *ptr, size_t bytes_alloc)
{
	kernel_alloc(ctx, (__u64)base_addr + off, bytes_alloc, NULL);
	return 0;
}

/* kfree(NULL) is traced too; the table lookup simply misses. */
SEC("tp_btf/kfree")
int BPF_PROG(kfree, unsigned long call_site, const void *ptr)
{
	record_free((__u64)ptr);
	return 0;
}

SEC("tp_btf/kmem_cache_free")
int BPF_PROG(kmem_cache_free, unsigned long call_site, const void *ptr)
{
	record_free((__u64)ptr);
	return 0;
}

SEC("tp_btf/mm_page_free")
int BPF_PROG(mm_page_free, struct page *page)
{
	record_free(arg_value(ctx, 0));
	return 0;
}

SEC("tp_btf/mm_page_free_batched")
int BPF_PROG(mm_page_free_batched, struct page *page)
{
	record_free(arg_value(ctx, 0));
	return 0;
}

SEC("tp_btf/percpu_free_percpu")
int BPF_PROG(percpu_free_percpu, void *base_addr, int off)
{
	record_free((__u64)base_addr + off);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
