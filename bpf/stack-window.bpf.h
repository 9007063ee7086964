/* SPDX-License-Identifier: MIT */
/* Reading frame records from copies of the stack, for kernels where the
 * direct-map walk cannot run (no bpf_rdonly_cast before 6.2, no exported
 * page_offset_base, a confidential guest). Each bpf_probe_read_user has a
 * fixed cost far above what a few more bytes add, so the walk copies a
 * window of the stack at once and reads records from the copy: a thread's
 * first copy takes what its recent walks reached, later ones a full window,
 * never past the end of the stack's mapping, where a read would fail. */
#ifndef LEAKHOUND_STACK_WINDOW_BPF_H
#define LEAKHOUND_STACK_WINDOW_BPF_H

#define WINDOW 8192
/* Room a first copy leaves above what the thread's last walks reached. */
#define REACH_SLACK 256
/* Where the stack's end is not known: a span that is there above SP. */
#define SAFE_SPAN 1024

struct stack_window {
	__u64 end;	/* end of the mapping SP was last found in */
	__u32 reach;	/* bytes recent walks read from their first record */
	__u32 pad;
	__u8 bytes[WINDOW + 16]; /* slack: a record at any masked offset fits */
};

/* Per thread, and only for threads the copy walk runs on. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct stack_window);
} windows SEC(".maps");

/* The copy in hand: user addresses [base, base + valid). Plain numbers
 * only, so that a global function can take it. */
struct window_state {
	__u64 base;
	__u64 valid;
	__u64 end;	/* no copy reaches past this */
	__u64 first;	/* the first word the walk read */
	__u64 top;	/* end of the highest word read */
};

/* Words of the stack one step of a walk reads: at[i] == 0 is skipped, and
 * its value left as it was. */
#define STEP_WORDS 3

struct word_reads {
	__u64 at[STEP_WORDS];
	__u64 value[STEP_WORDS];
	__u64 low;	/* no word lies below: the frame's stack pointer */
};

static __always_inline struct stack_window *thread_window(bool create)
{
	return bpf_task_storage_get(&windows, bpf_get_current_task_btf(), 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

static long note_end(struct task_struct *task, struct vm_area_struct *vma, __u64 *end)
{
	*end = vma->vm_end;
	return 0;
}

/* The end of the mapping SP lies in, found once per thread (a stack does not
 * move) and again only when SP leaves it: another stack, such as a
 * coroutine's or a signal stack. */
static __always_inline __u64 window_stack_end(struct stack_window *window, __u64 sp, __u64 span)
{
	__u64 end = 0;

	if (sp >= window->end || window->end - sp > span) {
		bpf_find_vma(bpf_get_current_task_btf(), sp, note_end, &end, 0);
		window->end = end;
	}
	return window->end ? window->end : sp + SAFE_SPAN;
}

/* The thread's window, NULL when it cannot have one: looked up once per
 * walk, and handed to each read (a lookup costs more than a frame's step). */
static __always_inline struct stack_window *window_open(struct window_state *state, __u64 sp, __u64 span)
{
	struct stack_window *window = thread_window(true);

	if (window)
		state->end = window_stack_end(window, sp, span);
	return window;
}

/* Copies the stack from `from` on: `cap` bytes at most, never past its end;
 * if that fails (a page never touched, skipped by a big frame), only the
 * 16 bytes at `at`, the word wanted now and the next. */
static __always_inline bool window_copy(struct window_state *state, struct stack_window *window, __u64 from, __u64 cap, __u64 at)
{
	__u64 size = state->end > from ? state->end - from : 0;

	if (size > cap)
		size = cap;
	if (size < 16)
		size = 16;
	if (size > WINDOW) /* for the verifier: it loses the bound above */
		size = WINDOW;
	state->base = from;
	state->valid = size;
	if (!bpf_probe_read_user(window->bytes, size, (void *)from))
		return true;
	state->base = at;
	state->valid = 16;
	return !bpf_probe_read_user(window->bytes, 16, (void *)at);
}

/* The word at `at`: from the copy in hand, or a new copy from `low` on
 * (from `at` if that is too far below): a step's words lie above its stack
 * pointer, not in the order it reads them. */
static __always_inline bool window_word(struct window_state *state, struct stack_window *window, __u64 at, __u64 low, __u64 *value)
{
	__u64 off;

	if (at < state->base || at - state->base + 8 > state->valid) {
		__u64 cap = state->first ? WINDOW : window->reach + REACH_SLACK;
		__u64 from = low <= at && at - low < cap / 2 ? low : at;

		if (!state->first)
			state->first = from;
		if (!window_copy(state, window, from, cap, at) || at - state->base + 8 > state->valid)
			return false;
	}
	off = (at - state->base) & (WINDOW - 1);
	*value = *(__u64 *)(window->bytes + off);
	if (at + 8 > state->top)
		state->top = at + 8;
	return true;
}

/* The words of one step, from copies of the stack; false if one could not
 * be read. A global function: checked once by the verifier, where inlined
 * in the walk the combinations of its branches over a step's reads are
 * more than it will explore. */
__noinline bool window_read_words(struct window_state *state, struct stack_window *window, struct word_reads *reads)
{
	if (!state || !reads || !window)
		return false;
	for (int i = 0; i < STEP_WORDS; i++) {
		if (reads->at[i] && !window_word(state, window, reads->at[i], reads->low, &reads->value[i]))
			return false;
	}
	return true;
}

/* How far the next first copy should reach: at once as far as this walk
 * read, but only slowly back down, so that a thread whose stacks alternate
 * between shallow and deep keeps copying for the deep ones in one go. */
static __always_inline void window_close(struct window_state *state, struct stack_window *window)
{
	__u64 reach = state->top - state->first;

	if (!state->first || !window)
		return;
	if (state->top <= state->first || reach > WINDOW)
		reach = WINDOW;
	if (reach >= window->reach)
		window->reach = reach;
	else
		window->reach -= (window->reach - reach) / 8;
}

#endif /* LEAKHOUND_STACK_WINDOW_BPF_H */
