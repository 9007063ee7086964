/* SPDX-License-Identifier: MIT */
/* What a thread's last walk of each kind read, so that the next one can
 * skip the unwinding. A walk is a function of where it starts (IP, SP, FP),
 * the words of the stack it reads and the unwind rules of the code it
 * passes; a loop calls free (or malloc) from the same place with the same
 * stack again and again. Where a walk starts where the remembered one did,
 * the rules cannot have changed (the process's mappings have not) and every
 * word the remembered walk read still holds what it held, the walk would
 * read the same words and end with the same stack: its id is reused. Only
 * walks that ended cleanly (whole or truncated at the depth limit) are
 * remembered: a cut one may come out otherwise once a table is built. */
#ifndef LEAKHOUND_WALK_MEMO_BPF_H
#define LEAKHOUND_WALK_MEMO_BPF_H

/* Words a remembered walk may have read (a power of two): a frame costs one
 * to three. A walk that reads more is not remembered. */
#define MEMO_WORDS 64

struct walk_memo {
	__u64 ip;
	__u64 sp;
	__u64 fp;
	__u64 mm;	/* the address space ... */
	__u64 id;	/* ... and the stack the walk found there (0: nothing remembered) */
	__u32 seq;	/* its mappings' change count then (unwinding by tables only) */
	__u32 flags;	/* the stack's flags: LH_FLAG_STACK_TRUNCATED or none */
	__u32 words;	/* at[] and value[] filled; past MEMO_WORDS: too many */
	__u32 pad;
	__u64 top;	/* end of the highest word read */
	__u64 at[MEMO_WORDS];
	__u64 value[MEMO_WORDS];
};

/* Where the next walk starts, noted before it, when it is not where the
 * memo's did. */
static __always_inline void memo_begin(struct walk_memo *memo, __u64 ip, __u64 sp, __u64 fp, __u64 mm, __u32 seq)
{
	memo->ip = ip;
	memo->sp = sp;
	memo->fp = fp;
	memo->mm = mm;
	memo->seq = seq;
	memo->id = 0;
}

/* Slot n of at[] or value[], n < MEMO_WORDS: masked again where the
 * compiler cannot drop the mask, for the verifier loses the bound. */
static __always_inline __u32 memo_slot(__u32 n)
{
	barrier_var(n);
	return n & (MEMO_WORDS - 1);
}

/* Forgets what the memo held: a walk from where it began is about to fill
 * it. */
static __always_inline void memo_start(struct walk_memo *memo)
{
	memo->id = 0;
	memo->words = 0;
	memo->top = 0;
}

/* Notes the words one step of the walk read. A global function: inlined,
 * it grew the walk's step by a stack slot, past 6.1's bound on the chain of
 * calls. */
__noinline int memo_note(struct walk_memo *memo, const struct word_reads *reads)
{
	if (!memo || !reads)
		return 0;
	for (int i = 0; i < STEP_WORDS; i++) {
		__u32 n = memo->words;

		if (!reads->at[i] || n > MEMO_WORDS)
			continue;
		if (reads->at[i] + 8 > memo->top)
			memo->top = reads->at[i] + 8;
		if (n < MEMO_WORDS) {
			memo->at[memo_slot(n)] = reads->at[i];
			memo->value[memo_slot(n)] = reads->value[i];
		}
		memo->words = n + 1;
	}
	return 0;
}

/* Keeps the finished walk, if it can be reused. */
static __always_inline void memo_keep(struct walk_memo *memo, __u64 id, __u32 flags)
{
	if (memo->words > MEMO_WORDS)
		return;
	memo->flags = flags;
	memo->id = id;
}

/* Whether a walk starting here may reuse the memo, its words permitting:
 * `seq` 0 where the stack does not depend on the mappings (frame pointers
 * only). */
static __always_inline bool memo_fits(const struct walk_memo *memo, __u64 ip, __u64 sp, __u64 fp, __u64 mm, __u32 seq)
{
	return memo->id && memo->ip == ip && memo->sp == sp && memo->fp == fp && memo->mm == mm && memo->seq == seq;
}

/* Asks for the memo's words from `first` on, a step's worth (at[i] == 0
 * past the end); false when there are none left. */
static __always_inline bool memo_words(const struct walk_memo *memo, __u32 first, struct word_reads *reads)
{
	if (first >= memo->words)
		return false;
	for (int i = 0; i < STEP_WORDS; i++) {
		__u32 n = first + i;

		reads->at[i] = n < memo->words && n < MEMO_WORDS ? memo->at[memo_slot(n)] : 0;
	}
	return true;
}

/* Whether the words read hold what the memo's did. */
static __always_inline bool memo_same(const struct walk_memo *memo, __u32 first, const struct word_reads *reads)
{
	for (int i = 0; i < STEP_WORDS; i++) {
		__u32 n = first + i;

		if (reads->at[i] && (n >= MEMO_WORDS || reads->value[i] != memo->value[memo_slot(n)]))
			return false;
	}
	return true;
}

/* The copy walk's check: the stack from SP to the memo's highest word
 * copied at once, and every word compared in the copy. The copy stays in
 * `state` for the walk that follows where the words differ. A global
 * function: the verifier checks its loop once. */
__noinline bool window_holds(struct window_state *state, struct stack_window *window, const struct walk_memo *memo)
{
	__u64 size;

	if (!state || !window || !memo || memo->top <= memo->sp || memo->top > state->end)
		return false;
	size = memo->top - memo->sp;
	if (size > WINDOW)
		return false;
	if (bpf_probe_read_user(window->bytes, size, (void *)memo->sp))
		return false;
	state->base = memo->sp;
	state->first = memo->sp;
	state->valid = size;
	state->top = memo->top;
	for (int i = 0; i < MEMO_WORDS && i < memo->words; i++) {
		__u64 off = memo->at[i] - memo->sp;

		/* Below SP (wrapped) or past the copy: not what the walk read. */
		if (off > size - 8 || *(__u64 *)(window->bytes + (off & (WINDOW - 1))) != memo->value[i])
			return false;
	}
	return true;
}

#endif /* LEAKHOUND_WALK_MEMO_BPF_H */
