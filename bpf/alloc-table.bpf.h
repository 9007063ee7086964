/* SPDX-License-Identifier: MIT */
/* The live-allocation table, for a tracer that must filter frees in the
 * kernel: the kernel frees far more objects than a trace ever saw allocated.
 * (The user-space tracer sends every free and lets user space match them.) */
#ifndef LEAKHOUND_ALLOC_TABLE_BPF_H
#define LEAKHOUND_ALLOC_TABLE_BPF_H

#include "common.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 20);
	__type(key, __u64);
	__type(value, struct alloc_info);
} allocs SEC(".maps");

/* Set by user space once the trace is over, before the programs come off
 * one link at a time: allocations and frees end at the same moment. In a
 * section of its own, so user space writes it alone (as user-alloc.bpf.c's). */
bool recording_stopped SEC(".data.stop") = false;

static __always_inline void record_alloc(__u64 addr, __u64 size, __u64 stack_id, __u32 flags)
{
	struct alloc_info info = {
		.size = size,
		.stack_id = stack_id,
		.ticks = bpf_jiffies64(),
	};

	if (recording_stopped)
		return;
	if (bpf_map_update_elem(&allocs, &addr, &info, BPF_ANY)) {
		count(LH_CNT_ALLOCS_FULL);
		return;
	}
	emit(LH_EVENT_ALLOC, flags, addr, &info);
}

/* Only blocks allocated while tracing are in the table: frees of older
 * blocks miss it and are ignored, never counted negative. */
static __always_inline void record_free(__u64 addr)
{
	if (recording_stopped || bpf_map_delete_elem(&allocs, &addr))
		return;
	emit_free(addr, 0);
}

#endif /* LEAKHOUND_ALLOC_TABLE_BPF_H */
