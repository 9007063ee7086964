/* SPDX-License-Identifier: MIT */
/* --reachability for a launched command: a uprobe on libc's _exit stops the
 * process there, so that user space can read its memory while every block
 * it leaves behind is still in place, then lets it go (SIGCONT). Attached
 * only with --reachability (else the program is not even loaded); the
 * cookie is the process to stop, so a child that shares the probe (with
 * --follow-children) exits untouched. Included by user-alloc.bpf.c, whose
 * ring buffer it shares. */
#ifndef LEAKHOUND_EXIT_STOP_BPF_H
#define LEAKHOUND_EXIT_STOP_BPF_H

SEC("uprobe")
int BPF_KPROBE(exit_stop)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct lh_event *event;

	if (tgid != (__u32)bpf_get_attach_cookie(ctx))
		return 0;
	/* No record, no stop: user space would never know to let it go. */
	event = bpf_ringbuf_reserve(&events, sizeof(*event), 0);
	if (!event) {
		count(LH_CNT_RINGBUF_DROPS);
		return 0;
	}
	event->kind = LH_EVENT_EXIT_STOP;
	event->flags = 0;
	event->tgid = tgid;
	event->addr = PT_REGS_SP(ctx);
	event->size = 0;
	event->stack_id = 0;
	event->ticks = 0;
	/* Woken now: the process waits for user space. */
	bpf_ringbuf_submit(event, 0);
	/* The whole group stops on its way back to user space, before _exit's
	 * first instruction. */
	bpf_send_signal(SIGSTOP);
	return 0;
}

#endif /* LEAKHOUND_EXIT_STOP_BPF_H */
