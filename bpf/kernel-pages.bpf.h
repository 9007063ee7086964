/* SPDX-License-Identifier: MIT */
/* Pages and per-CPU blocks from their raw tracepoints, for both kernel
 * tracers: the page allocator is entered and left by many more functions
 * than its two tracepoints, which see every page, so kprobes would do no
 * better. An optional group: user space leaves these programs out where the
 * kernel lacks their tracepoints. Include after kernel-common.bpf.h. */
#ifndef LEAKHOUND_KERNEL_PAGES_BPF_H
#define LEAKHOUND_KERNEL_PAGES_BPF_H

#include "core-fixes.bpf.h"

SEC("raw_tp/mm_page_alloc")
int BPF_PROG(mm_page_alloc, __u64 page, __u32 order)
{
	kernel_alloc_skipping(ctx, page, page_size << order, 0, RAW_TP_FRAMES);
	return 0;
}

SEC("raw_tp/percpu_alloc_percpu")
int percpu_alloc_percpu(__u64 *ctx)
{
	if (percpu_alloc_has_call_site()) /* ..., base_addr, off, ptr, bytes_alloc */
		kernel_alloc_skipping(ctx, ctx[5] + (int)ctx[6], ctx[8], 0, RAW_TP_FRAMES);
	else /* reserved, is_atomic, size, align, base_addr, off, ptr */
		kernel_alloc_skipping(ctx, ctx[4] + (int)ctx[5], ctx[2], 0, RAW_TP_FRAMES);
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

#endif /* LEAKHOUND_KERNEL_PAGES_BPF_H */
