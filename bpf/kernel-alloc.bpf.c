// SPDX-License-Identifier: MIT
/* Kernel allocations and frees from the kmem and percpu tracepoints, as raw
 * tracepoint programs: every argument is a plain 64-bit number, which every
 * verifier since 4.17 accepts as it is (tp_btf types them, and 6.1's and
 * 6.12's verifiers refuse a `const void *` argument), and no trace record is
 * filled.
 *
 * Each kind is keyed by an address only that kind owns, so keys never
 * collide in `allocs`: slab objects by their own address, pages by their
 * struct page (the memmap is never handed out), per-CPU blocks by the
 * address of their first unit (per-CPU chunks are not slab memory). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* This program and bpf_trace_run<N>: the tracing machinery. */
#define MACHINERY_FRAMES 2

#include "kernel-common.bpf.h"
#include "core-fixes.bpf.h"

SEC("raw_tp/kmalloc")
int BPF_PROG(kmalloc, __u64 call_site, __u64 ptr, __u64 bytes_req, __u64 bytes_alloc)
{
	if (from_kmalloc_cache(bytes_alloc))
		kernel_alloc(ctx, ptr, bytes_alloc, 0);
	return 0;
}

SEC("raw_tp/kmem_cache_alloc")
int BPF_PROG(kmem_cache_alloc, __u64 call_site, __u64 ptr, __u64 third, __u64 bytes_alloc)
{
	if (kmem_cache_alloc_has_cache())
		kernel_alloc(ctx, ptr, cache_size(third), cache_name(third));
	else
		kernel_alloc(ctx, ptr, bytes_alloc, 0);
	return 0;
}

SEC("raw_tp/mm_page_alloc")
int BPF_PROG(mm_page_alloc, __u64 page, __u32 order)
{
	kernel_alloc(ctx, page, page_size << order, 0);
	return 0;
}

SEC("raw_tp/percpu_alloc_percpu")
int percpu_alloc_percpu(__u64 *ctx)
{
	if (percpu_alloc_has_call_site()) /* ..., base_addr, off, ptr, bytes_alloc */
		kernel_alloc(ctx, ctx[5] + (int)ctx[6], ctx[8], 0);
	else /* reserved, is_atomic, size, align, base_addr, off, ptr */
		kernel_alloc(ctx, ctx[4] + (int)ctx[5], ctx[2], 0);
	return 0;
}

/* kfree(NULL) is traced too; the table lookup simply misses. */
SEC("raw_tp/kfree")
int BPF_PROG(kfree, __u64 call_site, __u64 ptr)
{
	record_free(ptr);
	return 0;
}

SEC("raw_tp/kmem_cache_free")
int BPF_PROG(kmem_cache_free, __u64 call_site, __u64 ptr)
{
	record_free(ptr);
	return 0;
}

SEC("raw_tp/mm_page_free")
int BPF_PROG(mm_page_free, __u64 page)
{
	record_free(page);
	return 0;
}

SEC("raw_tp/mm_page_free_batched")
int BPF_PROG(mm_page_free_batched, __u64 page)
{
	record_free(page);
	return 0;
}

SEC("raw_tp/percpu_free_percpu")
int BPF_PROG(percpu_free_percpu, __u64 base_addr, int off)
{
	record_free(base_addr + off);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
