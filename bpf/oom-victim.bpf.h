/* SPDX-License-Identifier: MIT */
/* The OOM killer's victims (oom:mark_victim), so that user space can write
 * the report while the victim's maps and cgroup can still be read. Every
 * victim is sent, whatever the including object traces: the record names
 * the victim, while the objects' filters judge the running task (whose
 * charge failed, or a reaper), so user space picks the victims it traces.
 * Victims are few. A classic tracepoint, not a raw one: the kernel fills
 * the record, whose fields differ between kernels (see oom_victim_detailed). */
#ifndef LEAKHOUND_OOM_VICTIM_BPF_H
#define LEAKHOUND_OOM_VICTIM_BPF_H

#include <bpf/bpf_core_read.h>

/* The record gained the victim's comm and memory figures after 6.1 (6.12
 * has them); 6.1's holds the pid alone. CO-RE resolves this against the
 * running kernel. */
static __always_inline bool oom_victim_detailed(void)
{
	return bpf_core_field_exists(struct trace_event_raw_mark_victim, anon_rss);
}

/* The id (kernfs inode) of the running task's memory cgroup, in whichever
 * hierarchy the controller is bound to (v2, or v1's memory hierarchy). A
 * process that hits its cgroup's limit kills itself: then it is the
 * victim's, known here while /proc may already have lost it (v1 shows an
 * exiting task in the root). 0 without the memory controller. */
static __always_inline __u64 current_memcg_id(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	int memory;

	if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		return 0;
	memory = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	if (memory < 0 || memory >= CGROUP_SUBSYS_COUNT)
		return 0;
	return BPF_CORE_READ(task, cgroups, subsys[memory], cgroup, kn, id);
}

SEC("tp/oom/mark_victim")
int oom_victim(struct trace_event_raw_mark_victim *ctx)
{
	struct lh_oom_event *event = bpf_ringbuf_reserve(&events, sizeof(*event), 0);
	__u32 comm_at;

	if (!event) {
		count(LH_CNT_RINGBUF_DROPS);
		return 0;
	}
	__builtin_memset(event, 0, sizeof(*event));
	event->head.kind = LH_EVENT_OOM_VICTIM;
	event->head.tgid = bpf_get_current_pid_tgid() >> 32;
	event->head.addr = BPF_CORE_READ(ctx, pid);
	event->head.stack_id = current_memcg_id();
	event->head.ticks = bpf_jiffies64();
	if (oom_victim_detailed()) {
		event->detailed = 1;
		event->total_vm_kb = BPF_CORE_READ(ctx, total_vm);
		event->anon_rss_kb = BPF_CORE_READ(ctx, anon_rss);
		event->file_rss_kb = BPF_CORE_READ(ctx, file_rss);
		event->shmem_rss_kb = BPF_CORE_READ(ctx, shmem_rss);
		event->pgtables_kb = BPF_CORE_READ(ctx, pgtables);
		event->uid = BPF_CORE_READ(ctx, uid);
		event->oom_score_adj = BPF_CORE_READ(ctx, oom_score_adj);
		/* __data_loc: the string's offset from the record's start in the low 16 bits. */
		comm_at = BPF_CORE_READ(ctx, __data_loc_comm) & 0xffff;
		bpf_probe_read_kernel_str(event->comm, sizeof(event->comm), (void *)ctx + comm_at);
	}
	bpf_ringbuf_submit(event, BPF_RB_NO_WAKEUP);
	return 0;
}

#endif /* LEAKHOUND_OOM_VICTIM_BPF_H */
