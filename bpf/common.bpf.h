/* SPDX-License-Identifier: MIT */
/* What every leakhound BPF program shares: the stack table, the ring buffer
 * and the loss counters. Sizes of the tables are set by the loader before
 * load. */
#ifndef LEAKHOUND_COMMON_BPF_H
#define LEAKHOUND_COMMON_BPF_H

#include "leakhound.h"

/* Filters, set in .rodata before load. */
const volatile __u64 min_size = 0;
const volatile __u64 max_size = ~0ULL;

struct alloc_info {
	__u64 size;
	__u64 stack_id;
	__u64 ticks;
};

/* Written once per distinct stack, read by user space at report time. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 15);
	__type(key, __u64);
	__type(value, struct lh_stack);
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 25);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LH_CNT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 counter)
{
	__u64 *value = bpf_map_lookup_elem(&counters, &counter);

	if (value)
		*value += 1;
}

static __always_inline bool size_wanted(__u64 size)
{
	return size >= min_size && size <= max_size;
}

/* The reader is woken by its own timer, never per record: a wakeup costs
 * more than the record (see bench/RESULTS.md). */
static __always_inline void emit(__u32 kind, __u32 flags, __u64 addr,
				 const struct alloc_info *info)
{
	struct lh_event *event = bpf_ringbuf_reserve(&events, sizeof(*event), 0);

	if (!event) {
		count(LH_CNT_RINGBUF_DROPS);
		return;
	}
	event->kind = kind;
	event->flags = flags;
	event->tgid = bpf_get_current_pid_tgid() >> 32;
	event->addr = addr & LH_ADDR_MASK;
	event->size = info ? info->size : 0;
	event->stack_id = info ? info->stack_id : 0;
	event->ticks = info ? info->ticks : 0;
	bpf_ringbuf_submit(event, BPF_RB_NO_WAKEUP);
}

static __always_inline void emit_alloc(__u64 addr, __u64 size, __u64 stack_id, __u32 flags)
{
	struct alloc_info info = {
		.size = size,
		.stack_id = stack_id,
		.ticks = bpf_jiffies64(),
	};

	emit(LH_EVENT_ALLOC, flags, addr, &info);
}

static __always_inline void emit_free(__u64 addr, __u32 flags)
{
	emit(LH_EVENT_FREE, flags, addr, NULL);
}

static __always_inline __u64 stack_id_of(__u64 hash)
{
	__u64 id = hash & LH_STACK_ID_MASK;

	return id ? id : 1;
}

/* Stores a stack not seen before under its id; 0 when the table is full. */
static __always_inline __u64 store_stack(__u64 id, const struct lh_stack *stack)
{
	long err = bpf_map_update_elem(&stacks, &id, stack, BPF_NOEXIST);

	if (err && err != -17 /* EEXIST: another CPU won the race */) {
		count(LH_CNT_STACKS_FULL);
		return 0;
	}
	return id;
}

/* Store a captured stack once; its id travels with each allocation. */
static __always_inline __u64 intern_stack(__u64 hash, const struct lh_stack *stack)
{
	__u64 id = stack_id_of(hash);

	if (bpf_map_lookup_elem(&stacks, &id))
		return id;
	return store_stack(id, stack);
}

/* Both clocks as read_clock last read them. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lh_clock);
} clock_reading SEC(".maps");

/* Run by user space (BPF_PROG_TEST_RUN), never attached. A raw_tp program,
 * not a "syscall" one: while a sleepable program was loaded, taking the
 * uprobe links down took 1.8 s instead of 0.1 s here. */
SEC("raw_tp")
int read_clock(void *ctx)
{
	__u32 zero = 0;
	struct lh_clock *clock = bpf_map_lookup_elem(&clock_reading, &zero);

	if (clock) {
		clock->ticks = bpf_jiffies64();
		clock->ns = bpf_ktime_get_ns();
	}
	return 0;
}

static __always_inline __u64 hash_step(__u64 hash, __u64 value)
{
	/* A 64-bit multiply-xorshift mix: cheap, and collisions over a few
	 * thousand stacks are negligible at 53 bits. */
	hash ^= value;
	hash *= 0x9e3779b97f4a7c15ULL;
	return hash ^ (hash >> 29);
}

#endif /* LEAKHOUND_COMMON_BPF_H */
