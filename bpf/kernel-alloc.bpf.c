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

#define MACHINERY_FRAMES RAW_TP_FRAMES

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

#include "kernel-pages.bpf.h"
#include "oom-victim.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";
