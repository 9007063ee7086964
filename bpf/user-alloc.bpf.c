// SPDX-License-Identifier: MIT
/* Uprobes on the malloc family of one process. The entry program notes what
 * was asked for; the return program captures the caller's stack and records
 * what came back. At return the kernel has put the caller's address in the
 * IP already, and the frame-pointer register points at the caller's frame
 * record: the walk reads the records through the kernel's direct map (see
 * user-memory.bpf.h) where the kernel allows, else copies each record.
 * Only the outermost allocator call of a thread counts: realloc(NULL, n),
 * memalign and operator new all call malloc again.
 * Every allocation and every free goes to user space, which matches them:
 * a table here would cost a hash update and delete per pair. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "common.bpf.h"
#include "user-memory.bpf.h"
#include "stack-window.bpf.h"
#include "walk-memo.bpf.h"
#include "unwind-tables.bpf.h"

const volatile __u32 stack_depth = LH_MAX_STACK_DEPTH;
const volatile __u64 page_size = 4096;
/* The benchmarks' floor: every program returns at once (the verifier drops
 * the rest), so only the cost of the probes themselves remains. */
const volatile bool floor_only = false;
/* Keep each allocation with probability 1/sample_every (user space scales
 * the figures back up); the probes still fire for every call. Random, not
 * every N-th call: a program that alternates call sites would alias. */
const volatile __u32 sample_every = 1;
/* Trace every process in `followed`, and the processes they fork: the
 * uprobes then fire in every process that maps the allocator. */
const volatile bool follow_children = false;
/* Unwind by the tables of unwind-tables.bpf.h where an object has one;
 * without, frame pointers alone. */
const volatile bool unwind = false;
/* Capture the stack of every free (see free_enter_fn). */
const volatile bool free_stacks = false;
/* Set by user space once the trace is over, before the probes come off:
 * they come off one link at a time (slowly without uprobe_multi links), and
 * a free recorded after the allocations stopped would cancel a block whose
 * replacement went unseen. This stops every program at the same moment.
 * In a section of its own, so user space writes it alone. */
bool recording_stopped SEC(".data.stop") = false;

/* A frame pointer must lie above the stack pointer and within this span of
 * it; anything else is not a frame of this thread's stack. */
#define STACK_SPAN (8ULL << 20)

/* Calls under a uretprobe a walk can see through: nested allocator calls,
 * and a system call below them. */
#define HIJACKED 4

/* Stack pages a thread keeps the translation of (a power of two). */
#define STACK_PAGES 4

struct call_state {
	__u32 depth;	    /* nesting of traced allocator calls */
	__u32 fn;	    /* enum lh_alloc_fn of the outermost call */
	__u32 flags;
	__u32 wanted;	    /* the size passed the filters and the sampler */
	__u64 size;
	__u64 out_ptr;	    /* posix_memalign's memptr */
	__u64 old_ptr;	    /* realloc's block, released at entry */
	/* The thread's two latest stacks, known stored: loops repeat theirs,
	 * an allocation's and a free's in turn. */
	__u64 recent_stacks[2];
	__u64 mm;	     /* the address space the pages below are of */
	__u64 trampoline_mm; /* the address space `trampoline` is of */
	__u64 trampoline;    /* where uretprobes return to in it (0: none yet) */
	struct hijacked {    /* the thread's calls under a uretprobe, innermost first */
		__u64 slot;  /* where the trampoline stands in for */
		__u64 ret;   /* the return address */
	} hijacked[HIJACKED];
	/* The stack's recent pages, by page number: a page whose entry still
	 * holds the same costs one read instead of a walk of the tables. */
	struct stack_page {
		__u64 page;
		struct page_entry entry;
	} pages[STACK_PAGES];
	/* Per thread, not per CPU: a uprobe program can be preempted, and
	 * another thread's walk on the same CPU would overwrite it. */
	struct lh_stack stack;
	struct mapping_cache mappings; /* the walk's */
	struct walk_memo memos[2]; /* the last allocation's walk, the last free's */
};

/* Lives and dies with the thread: no table of dead thread ids to fill up. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct call_state);
} calls SEC(".maps");

/* What the direct-map walk keeps between reads. */
struct direct_state {
	__u64 pgd;	/* the page tables, once a page needs them; 0 before */
	__u64 base;	/* the direct map's */
	__u64 page;	/* the user page of the last word read */
	__u64 page_at;	/* its kernel address; 0: not present */
};

/* The walk, frame by frame, from the allocator's caller outwards. Where the
 * code at a frame's address has an unwind table (unwind-tables.bpf.h), its
 * rule gives the caller's stack pointer and frame pointer; where it keeps
 * frame pointers, or nothing better is known, the frame record at the frame
 * pointer does. Every step is checked to stay aligned, rising and on this
 * thread's stack, and every return address to be a user address. A walk
 * that stops for any reason but the outermost frame (a rule that says so, a
 * frame pointer of 0, a return address of 0) is cut, and says so. */
/* The frame being left, as the planning of a step sees it. */
struct regs {
	__u64 pc;	/* the frame's address */
	__u64 sp;	/* its stack pointer: no frame record lies below it */
	__u64 fp;	/* its frame pointer register */
	__u64 top;	/* no frame lies above this */
	__u32 interrupted; /* pc is where a signal came, not a return address */
	__u32 at_entry;	   /* pc is a function's first instructions: the return address is at sp */
};

/* How to find the caller's frame: the words of the stack that hold its
 * return address, its frame pointer and its stack pointer. Where no word
 * holds the last two, the values stand: the frame pointer as it was, or
 * lost (0); the stack pointer as the rule gives it. */
enum { WORD_RET, WORD_FP, WORD_SP };

struct step {
	struct word_reads words;
	__u32 interrupted;
	__u32 pad;
};

/* The frame being left and the step to its caller live here, in the
 * program's own frame, not in the loop step's: the verifier of older
 * kernels (6.1) bounds the stack of the whole chain of calls at 512 bytes. */
struct walk {
	struct call_state *call;
	struct lh_stack *stack;
	struct direct_state direct; /* the direct-map walk's */
	struct regs regs;
	struct step step;
	__u64 hash;
	struct window_state copy; /* the copy walk's */
	struct stack_window *window; /* ... and the thread's copy of the stack */
	__u32 depth;
	__u32 limit;
	bool truncated;
	bool cut;
	bool guessed;	  /* frames past code without a table, by frame pointer */
	bool pending;	  /* cut at an object whose table is not built yet */
	bool hijacked;	  /* calls under a uretprobe may run below: see note_hijacked */
	__u8 memo_at;	  /* its memo, memos[memo_at & 1]: 1 for a free's (a byte, not a bool, keeps the mask) */
	bool reused;	  /* the memo's stack holds: no walk */
};

/* The end of user space (TASK_SIZE_MAX): no user code or stack lies at or
 * above it, only non-canonical values and the kernel. */
static __always_inline __u64 user_top(void)
{
	return paging_levels == 5 ? 0x00fffffffffff000ULL : 0x00007ffffffff000ULL;
}

/* The kernel address of a page of the thread's stack; 0 if not present. */
static __always_inline __u64 page_address(struct call_state *call, struct direct_state *direct, __u64 page)
{
	struct stack_page *slot = &call->pages[(page >> 12) & (STACK_PAGES - 1)];

	/* A stack near the top of user space reaches past it within
	 * STACK_SPAN: above lies the kernel's half of the page tables. */
	if (page >= user_top())
		return 0;
	if (slot->page == page && slot->entry.at && load_word(slot->entry.at) == slot->entry.value)
		return direct->base + (slot->entry.value & PTE_PHYS);
	if (!direct->pgd)
		direct->pgd = page_table_of(call->mm);
	slot->page = page;
	return kernel_address(direct->pgd, direct->base, page, &slot->entry);
}

/* The word at `at` through the direct map. */
static __always_inline bool direct_word(struct call_state *call, struct direct_state *direct, __u64 at, __u64 *value)
{
	if ((at & OFFSET_IN_PAGE) > OFFSET_IN_PAGE + 1 - 8)
		return false;
	if ((at & ~OFFSET_IN_PAGE) != direct->page) {
		direct->page = at & ~OFFSET_IN_PAGE;
		direct->page_at = page_address(call, direct, direct->page);
	}
	if (!direct->page_at)
		return false;
	*value = load_word(direct->page_at + (at & OFFSET_IN_PAGE));
	return true;
}

/* The words of one step through the direct map; global, as
 * window_read_words is. */
__noinline bool direct_read_words(struct call_state *call, struct direct_state *direct, struct word_reads *reads)
{
	if (!call || !direct || !reads)
		return false;
	for (int i = 0; i < STEP_WORDS; i++) {
		if (reads->at[i] && !direct_word(call, direct, reads->at[i], &reads->value[i]))
			return false;
	}
	return true;
}

enum plan {
	PLAN_STEP,	/* take the step */
	PLAN_GUESSED,	/* take it, but by frame pointer through code without a table */
	PLAN_END,	/* the outermost frame: the stack is whole */
	PLAN_CUT,	/* no way on: the stack stops short */
	PLAN_CUT_BY_TABLE, /* no rule of a table holds here */
	PLAN_PENDING,	/* the table of this code is not built yet */
	PLAN_BUSY,	/* the process's mappings could not be looked at */
};

/* By the record at the frame pointer: the caller's frame pointer, then the
 * return address. */
static __always_inline int frame_pointer_step(const struct regs *regs, struct step *step, int planned)
{
	__u64 fp = regs->fp;

	if (!fp)
		return planned == PLAN_GUESSED ? PLAN_CUT : PLAN_END;
	if ((fp & 7) || fp < regs->sp || fp > regs->top)
		return PLAN_CUT;
	step->words.at[WORD_FP] = fp;
	step->words.at[WORD_RET] = fp + 8;
	step->words.value[WORD_SP] = fp + 16;
	return planned;
}

/* Where the kernel saved the interrupted registers, from the stack pointer
 * at __restore_rt: struct ucontext, its uc_mcontext 40 bytes in. */
#define SIGNAL_RBP 120
#define SIGNAL_RSP 160
#define SIGNAL_RIP 168

/* By the rule of the table row that holds at the frame's address (for a
 * return address, at the call before it: a call to a function that never
 * returns may end its caller's code). */
static __always_inline int table_step(const struct regs *regs, const struct mapping *mapping, struct step *step)
{
	__u64 off = regs->pc - (regs->interrupted ? 0 : 1) - mapping->bias, cfa;
	struct lh_unwind_row row;

	if (!find_row(&mapping->object, off, &row))
		return PLAN_CUT_BY_TABLE;
	switch (row.cfa_rule) {
	case LH_CFA_END:
		return PLAN_END;
	case LH_CFA_RSP:
		cfa = regs->sp + (__s64)row.cfa_offset * 8;
		break;
	case LH_CFA_RBP:
		cfa = regs->fp + (__s64)row.cfa_offset * 8;
		break;
	case LH_CFA_PLT:
		cfa = regs->sp + ((regs->pc & 15) >= 11 ? 16 : 8);
		break;
	case LH_CFA_SIGNAL:
		step->words.at[WORD_RET] = regs->sp + SIGNAL_RIP;
		step->words.at[WORD_FP] = regs->sp + SIGNAL_RBP;
		step->words.at[WORD_SP] = regs->sp + SIGNAL_RSP;
		step->interrupted = 1;
		return PLAN_STEP;
	default:
		return PLAN_CUT_BY_TABLE;
	}
	if ((cfa & 7) || cfa <= regs->sp || cfa > regs->top)
		return PLAN_CUT_BY_TABLE;
	step->words.at[WORD_RET] = cfa - 8;
	step->words.value[WORD_SP] = cfa;
	if (row.rbp_offset == LH_RBP_LOST)
		step->words.value[WORD_FP] = 0;
	else if (row.rbp_offset != LH_RBP_UNCHANGED)
		step->words.at[WORD_FP] = cfa + (__s64)row.rbp_offset * 8;
	return PLAN_STEP;
}

/* How to find the caller of the frame in `regs` (enum plan). A global
 * function: the verifier checks it once, not in every state of the walk. */
__noinline int plan_step(struct mapping_cache *cache, const struct regs *regs, struct step *step)
{
	struct mapping *mapping;
	int at;

	if (!cache || !regs || !step)
		return PLAN_CUT;
	/* A probe at a function's entry (free's): nothing pushed yet, whatever
	 * the function's table or frame pointer would say. */
	if (regs->at_entry) {
		step->words.at[WORD_RET] = regs->sp;
		step->words.value[WORD_SP] = regs->sp + 8;
		return PLAN_STEP;
	}
	if (!unwind)
		return frame_pointer_step(regs, step, PLAN_STEP);
	at = mapping_at(cache, regs->pc);
	if (at == MAPPING_BUSY)
		return PLAN_BUSY;
	/* Anonymous code (a JIT's): frame pointers are all there is. */
	if (at < 0 || at >= MAPPINGS)
		return frame_pointer_step(regs, step, PLAN_GUESSED);
	mapping = &cache->slots[at];
	switch (mapping->object.kind) {
	case LH_OBJECT_TABLE:
		return table_step(regs, mapping, step);
	case LH_OBJECT_FRAME_POINTERS:
		return frame_pointer_step(regs, step, PLAN_STEP);
	case LH_OBJECT_PENDING:
		return PLAN_PENDING;
	default:
		return frame_pointer_step(regs, step, PLAN_GUESSED);
	}
}

/* Where a uretprobe on a call still running (malloc, when it makes a system
 * call) put the kernel's trampoline in place of the return address, the
 * kernel keeps the caller's address, by where it stood on the stack. Read
 * once per walk, before it: the walk itself has no stack to spare. A global
 * function: the verifier checks it once. */
__noinline int note_hijacked(struct call_state *call)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct return_instance *ri;

	if (!call)
		return 0;
	ri = BPF_CORE_READ(task, utask, return_instances);
	for (int i = 0; i < HIJACKED; i++) {
		call->hijacked[i].slot = ri ? BPF_CORE_READ(ri, stack) : 0;
		call->hijacked[i].ret = ri ? BPF_CORE_READ(ri, orig_ret_vaddr) : 0;
		ri = ri ? BPF_CORE_READ(ri, next) : NULL;
	}
	return 0;
}

/* The caller's address a trampoline read from `slot` stands for; 0 when
 * not known (the walk ends there, cut). */
static __always_inline __u64 hijacked_return(const struct call_state *call, __u64 slot)
{
	for (int i = 0; i < HIJACKED; i++)
		if (call->hijacked[i].slot == slot)
			return call->hijacked[i].ret;
	return 0;
}

/* The uretprobe trampoline of the walk's address space: fixed once the
 * kernel has made it, so read once per thread and address space. */
static __always_inline void note_trampoline(struct call_state *call, __u64 mm)
{
	if (call->trampoline_mm == mm && call->trampoline)
		return;
	call->trampoline_mm = mm;
	call->trampoline = BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), mm, uprobes_state.xol_area, vaddr);
}

static __always_inline struct walk_memo *walk_memo_of(struct walk *walk)
{
	return &walk->call->memos[walk->memo_at & 1];
}

/* Takes the caller's frame as `step` says; false where the stack ends. The
 * only place the walk reads the stack; what it reads goes in its memo. */
static __always_inline bool take_step(struct walk *walk, struct step *step, bool direct)
{
	struct word_reads *words = &step->words;
	__u64 ret, fp, sp;
	__u32 at = walk->depth;

	if (!(direct ? direct_read_words(walk->call, &walk->direct, words) : window_read_words(&walk->copy, walk->window, words))) {
		walk->cut = true;
		return false;
	}
	memo_note(walk_memo_of(walk), words);
	ret = words->value[WORD_RET];
	fp = words->value[WORD_FP];
	sp = words->value[WORD_SP];
	if (!ret)
		return false;
	if (walk->hijacked && ret == walk->call->trampoline)
		ret = hijacked_return(walk->call, words->at[WORD_RET]);
	/* Garbage, not a caller: a frame no one can name, and a new stack for
	 * each value the garbage happens to hold. */
	if (ret >= user_top()) {
		walk->cut = true;
		return false;
	}
	if (at >= walk->limit) {
		walk->truncated = true;
		return false;
	}
	walk->stack->ips[at & (LH_MAX_STACK_DEPTH - 1)] = ret;
	walk->hash = hash_step(walk->hash, ret);
	/* The interrupted code may have run on another stack. */
	if (words->at[WORD_SP])
		walk->regs.top = sp + STACK_SPAN;
	walk->regs.pc = ret;
	walk->regs.sp = sp;
	walk->regs.fp = fp;
	walk->regs.interrupted = step->interrupted;
	walk->regs.at_entry = 0;
	walk->depth = at + 1;
	return true;
}

/* Takes the caller of the frame at walk->pc; false where the stack ends. */
static __always_inline bool take_frame(struct walk *walk, bool direct)
{
	struct step *step = &walk->step;

	__builtin_memset(step, 0, sizeof(*step));
	step->words.value[WORD_FP] = walk->regs.fp;
	step->words.low = walk->regs.sp;
	switch (plan_step(&walk->call->mappings, &walk->regs, step)) {
	case PLAN_GUESSED:
		/* Frames past code without a table may be right (a JIT's, with
		 * frame pointers) or not: the stack cannot be vouched for. */
		walk->guessed = true;
		/* fallthrough */
	case PLAN_STEP:
		return take_step(walk, step, direct);
	case PLAN_END:
		return false;
	case PLAN_PENDING:
		walk->pending = true;
		walk->cut = true;
		return false;
	case PLAN_BUSY:
		count(LH_CNT_MAPPINGS_BUSY);
		walk->cut = true;
		return false;
	case PLAN_CUT_BY_TABLE:
		count(LH_CNT_UNWIND_CUT);
		/* fallthrough */
	default:
		walk->cut = true;
		return false;
	}
}

/* Frames one bpf_loop step takes: a step is a call. One where a frame may
 * take a table's rule, which the verifier would otherwise explore four
 * times over. */
#define FRAMES_PER_STEP (unwind ? 1 : 4)

static __always_inline long walk_frames(struct walk *walk, bool direct)
{
	for (int frame = 0; frame < FRAMES_PER_STEP; frame++) {
		if (!take_frame(walk, direct))
			return 1;
	}
	return 0;
}

static long walk_step_direct(__u32 i, struct walk *walk)
{
	return walk_frames(walk, true);
}

static long walk_step_copy(__u32 i, struct walk *walk)
{
	return walk_frames(walk, false);
}

/* One step of the direct-map walk's check of the thread's memo
 * (walk-memo.bpf.h): a step's worth of its words read again, in the order
 * the walk read them. */
static long memo_check_direct(__u32 i, struct walk *walk)
{
	struct walk_memo *memo = walk_memo_of(walk);
	struct word_reads *reads = &walk->step.words;
	__u32 first = i * STEP_WORDS;

	if (!memo_words(memo, first, reads)) {
		walk->reused = true;
		return 1;
	}
	return !direct_read_words(walk->call, &walk->direct, reads) || !memo_same(memo, first, reads);
}

/* Enough steps for every word a memo holds. */
#define MEMO_CHECK_STEPS (MEMO_WORDS / STEP_WORDS + 1)

/* The memo's stack if it still holds (`fits`: it started here), else a
 * walk, noted down in the memo as it goes. */
static __always_inline void run_walk(struct walk *walk, bool fits, bool direct)
{
	if (fits && direct)
		bpf_loop(MEMO_CHECK_STEPS, memo_check_direct, walk, 0);
	else if (fits)
		walk->reused = window_holds(&walk->copy, walk->window, walk_memo_of(walk));
	if (walk->reused)
		return;
	memo_start(walk_memo_of(walk));
	bpf_loop(LH_MAX_STACK_DEPTH, direct ? walk_step_direct : walk_step_copy, walk, 0);
}

static __always_inline void walk_failed(struct walk *walk)
{
	count(LH_CNT_STACK_FAILURES);
	walk->cut = true;
}

static long clear_step(__u32 i, struct walk *walk)
{
	__u32 at = walk->depth + i;

	if (at >= LH_MAX_STACK_DEPTH)
		return 1;
	walk->stack->ips[at] = 0;
	return 0;
}

/* The processes traced when follow_children: seeded by user space, grown
 * by note_fork. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u32);
} followed SEC(".maps");

static __always_inline __u32 current_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

/* With --cgroup: the processes traced are those in this cgroup or below it,
 * whoever started them (a service's processes are forked by its manager). */
const volatile bool in_cgroup = false;

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cgroup_filter SEC(".maps");

/* Whether the current process is followed (follow_children only). */
static __always_inline bool followed_process(__u32 tgid)
{
	if (in_cgroup)
		return bpf_current_task_under_cgroup(&cgroup_filter, 0) == 1;
	return bpf_map_lookup_elem(&followed, &tgid);
}

/* The knob first: without follow_children the verifier drops the lookup. */
static __always_inline bool traced_process(void)
{
	return !follow_children || followed_process(current_tgid());
}

static __always_inline __u64 current_mm(void)
{
	return (__u64)BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), mm);
}

/* The address space the process last allocated in. An exec replaces it,
 * and every block the old program held goes with it; the new program's
 * first allocation sees another one and says so first. One process only:
 * when following children, hold_at_exec says so instead. */
__u64 process_mm = 0;

static __always_inline void note_exec(void)
{
	__u64 mm = current_mm();

	if (mm == process_mm)
		return;
	if (process_mm)
		emit(LH_EVENT_EXEC, 0, 0, NULL);
	process_mm = mm;
}

/* A stack id stored (0: none), kept as the thread's latest. */
static __always_inline __u64 remember_stack(struct call_state *call, __u64 id)
{
	if (id) {
		call->recent_stacks[1] = call->recent_stacks[0];
		call->recent_stacks[0] = id;
	}
	return id;
}

/* The address space of a probed call: note_exec read it at the entry of
 * the call, for the only process. */
static __always_inline __u64 probed_mm(void)
{
	return follow_children ? current_mm() : process_mm;
}

/* The id of the stack the walk found, stored (0: the table is full). */
static __always_inline __u64 stored_stack(struct walk *walk)
{
	struct call_state *call = walk->call;
	__u64 id = stack_id_of(walk->hash);

	if (id == call->recent_stacks[0] || id == call->recent_stacks[1])
		return id;
	if (bpf_map_lookup_elem(&stacks, &id))
		return remember_stack(call, id);
	/* New stack: the buffer still holds a longer one's tail. */
	bpf_loop(LH_MAX_STACK_DEPTH, clear_step, walk, 0);
	return remember_stack(call, store_stack(id, walk->stack));
}

/* At the allocator's return: the caller's address is the IP, its frame
 * record is where the frame-pointer register points. Where the caller keeps
 * no frame pointer the register holds anything, and the checks of the walk
 * mostly stop it at once; a function that leaves the register alone (most
 * of libc's helpers) still holds its own caller's chain in it. */
static __always_inline __u64 capture_stack(__u64 ip, __u64 sp, __u64 fp, __u64 mm, struct call_state *call,
					   bool direct, bool at_entry, bool hijacked, __u32 *flags)
{
	struct walk walk = {
		.call = call,
		.stack = &call->stack,
		.direct.base = direct_map_base,
		.regs.top = sp + STACK_SPAN,
		.regs.pc = ip,
		.regs.sp = sp,
		.regs.fp = fp,
		.regs.at_entry = at_entry,
		.depth = 1,
		.limit = stack_depth < LH_MAX_STACK_DEPTH ? stack_depth : LH_MAX_STACK_DEPTH,
		.hijacked = hijacked,
		.memo_at = at_entry,
	};
	struct walk_memo *memo = walk_memo_of(&walk);
	/* The trampoline's callers come from the kernel, not the stack; rules
	 * may change with mappings whose changes are not counted. */
	bool keep = !hijacked, fits;
	__u32 seq = 0;
	__u64 id;

	/* After an exec the thread has other page tables. */
	if (direct && mm != call->mm) {
		__builtin_memset(call->pages, 0, sizeof(call->pages));
		call->mm = mm;
	}
	walk.stack->ips[0] = ip;
	walk.hash = hash_step(0, ip);
	if (unwind) {
		mapping_cache_open(&call->mappings, mm ? mm : current_mm());
		keep = keep && call->mappings.mm;
		seq = call->mappings.seq;
	}
	fits = keep && memo_fits(memo, ip, sp, fp, mm, seq);
	if (!fits)
		memo_begin(memo, ip, sp, fp, mm, seq);
	/* An allocation's walk starts where the outermost allocator call
	 * returns: nothing under a uretprobe runs below it. */
	if (hijacked) {
		note_trampoline(call, mm);
		note_hijacked(call);
	}
	/* A walk that cannot run at all is cut too: only the caller is known. */
	if (!direct) {
		walk.window = window_open(&walk.copy, walk.regs.sp, STACK_SPAN);
		if (walk.window)
			run_walk(&walk, fits, false);
		else
			walk_failed(&walk);
		window_close(&walk.copy, walk.window);
	} else if (mm && walk.direct.base)
		run_walk(&walk, fits, true);
	else
		walk_failed(&walk);
	if (walk.reused)
		walk.truncated = memo->flags & LH_FLAG_STACK_TRUNCATED;
	if (walk.truncated) {
		*flags |= LH_FLAG_STACK_TRUNCATED;
		count(LH_CNT_TRUNCATED);
	}
	/* Counted in user space, which can tell a walk cut short from one that
	 * ran past the start of the thread into code without frame pointers. */
	if (walk.cut)
		*flags |= LH_FLAG_STACK_CUT;
	if (walk.pending)
		count(LH_CNT_UNWIND_PENDING);
	/* Frames past code without a table may be right (a JIT's, with frame
	 * pointers) or not: the stack cannot be vouched for. */
	if (walk.guessed) {
		*flags |= LH_FLAG_STACK_CUT;
		count(LH_CNT_GUESSED);
	}
	if (walk.reused)
		return memo->id;
	id = stored_stack(&walk);
	if (keep && id && !walk.cut && !walk.pending && !walk.guessed)
		memo_keep(memo, id, walk.truncated ? LH_FLAG_STACK_TRUNCATED : 0);
	return id;
}

static __always_inline struct call_state *call_state(bool create)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return bpf_task_storage_get(&calls, task, 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

static __always_inline int alloc_enter_fn(struct pt_regs *ctx, __u32 fn, __u64 size,
					  __u64 out_ptr, __u64 old_ptr)
{
	struct call_state *call;

	if (floor_only || recording_stopped || !traced_process())
		return 0;
	call = call_state(true);
	if (!call) {
		count(LH_CNT_STATE_FAILURES);
		return 0;
	}
	if (call->depth++)
		return 0;
	if (!follow_children)
		note_exec();
	call->fn = fn;
	call->size = size;
	call->out_ptr = out_ptr;
	call->old_ptr = old_ptr;
	call->flags = 0;
	call->wanted = size_wanted(size) && (sample_every <= 1 || bpf_get_prandom_u32() % sample_every == 0);
	/* Release realloc's block now, not at return: once realloc has freed it,
	 * another thread may be handed the same address. User space keeps it
	 * aside in case realloc fails. */
	if (old_ptr)
		emit_free(old_ptr, LH_FLAG_REALLOC);
	return 0;
}

/* One entry program for the whole family: the attach cookie says which
 * function this is, and so where its size and pointers are. One program
 * means one link for every entry, and a link costs an RCU grace period to
 * take down. */
SEC("uprobe")
int BPF_KPROBE(alloc_enter, __u64 a0, __u64 a1, __u64 a2)
{
	__u32 fn = bpf_get_attach_cookie(ctx);
	__u64 size = a0, out_ptr = 0, old_ptr = 0;

	switch (fn) {
	case LH_FN_CALLOC:
		size = a0 * a1;
		break;
	case LH_FN_REALLOC:
		size = a1;
		old_ptr = a0;
		break;
	case LH_FN_REALLOCARRAY:
		size = a1 * a2;
		old_ptr = a0;
		break;
	case LH_FN_POSIX_MEMALIGN:
		size = a2;
		out_ptr = a0;
		break;
	case LH_FN_MEMALIGN: /* memalign and aligned_alloc: (alignment, size) */
		size = a1;
		break;
	case LH_FN_PVALLOC: /* whole pages: count what it really reserves */
		size = a0 ? (a0 + page_size - 1) & ~(page_size - 1) : page_size;
		break;
	}
	/* malloc, valloc and every operator new take the size first. */
	return alloc_enter_fn(ctx, fn, size, out_ptr, old_ptr);
}

static __always_inline int alloc_exit_fn(struct pt_regs *ctx, __u64 addr, bool direct)
{
	struct call_state *call;

	if (floor_only || recording_stopped)
		return 0;
	call = call_state(false);
	/* No state, or depth 0: the call began before its entry was probed. */
	if (!call || !call->depth || --call->depth)
		return 0;
	if (call->fn == LH_FN_POSIX_MEMALIGN) {
		if ((__u32)addr || bpf_probe_read_user(&addr, sizeof(addr), (void *)call->out_ptr))
			addr = 0; /* non-zero return: an error code, no block */
	}
	if (addr) {
		if (call->wanted) {
			__u64 stack_id = capture_stack(PT_REGS_IP(ctx), PT_REGS_SP(ctx), PT_REGS_FP(ctx),
						       probed_mm(), call, direct, false, false, &call->flags);

			emit_alloc(addr, call->size, stack_id, call->flags);
		}
	} else if (call->old_ptr && call->size) {
		/* realloc failed and kept the old block (realloc(p, 0) freed it). */
		emit_alloc(call->old_ptr, 0, 0, LH_FLAG_RESTORED);
	}
	return 0;
}

/* Two return programs, one per way of reading the stack; user space loads
 * the one this kernel can run (the direct map's needs bpf_rdonly_cast). */
SEC("uretprobe")
int BPF_KRETPROBE(alloc_exit, void *ret)
{
	return alloc_exit_fn(ctx, (__u64)ret, true);
}

/* Frame records read from copies of the stack (stack-window.bpf.h): any
 * kernel since 5.17. */
SEC("uretprobe")
int BPF_KRETPROBE(alloc_exit_copy, void *ret)
{
	return alloc_exit_fn(ctx, (__u64)ret, false);
}

/* With free_stacks, each free takes its own stack along: user space keeps
 * the recent ones, to name who freed a block first when it is freed again
 * (glibc's abort that follows tells nothing of it). The walk starts at the
 * probe inside free, at its entry (the probe site never follows a change
 * of the stack pointer); user space leaves that frame out. */
static __always_inline int free_enter_fn(struct pt_regs *ctx, __u64 ptr, bool direct)
{
	struct alloc_info info = {};
	struct call_state *call;
	__u32 flags = 0;

	if (floor_only || recording_stopped || !ptr || !traced_process())
		return 0;
	if (free_stacks) {
		/* The direct-map walk needs the address space: a program's first
		 * allocator call may be a free. */
		if (!follow_children)
			note_exec();
		call = call_state(true);
		if (call)
			info.stack_id = capture_stack(PT_REGS_IP(ctx), PT_REGS_SP(ctx), PT_REGS_FP(ctx),
						      probed_mm(), call, direct, true, false, &flags);
		else
			count(LH_CNT_STATE_FAILURES);
	}
	emit(LH_EVENT_FREE, flags, ptr, &info);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(free_enter, void *ptr)
{
	return free_enter_fn(ctx, (__u64)ptr, true);
}

SEC("uprobe")
int BPF_KPROBE(free_enter_copy, void *ptr)
{
	return free_enter_fn(ctx, (__u64)ptr, false);
}

/* A new process forked by a followed one is followed from its first
 * instruction: this runs in the parent before the child is first woken. */
SEC("raw_tp/sched_process_fork")
int BPF_PROG(note_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 parent_tgid = BPF_CORE_READ(parent, tgid);
	__u32 child_tgid = BPF_CORE_READ(child, tgid);
	__u32 one = 1;
	struct alloc_info info = { .size = parent_tgid };

	/* Runs in the parent: in a cgroup, its child is born in it too. */
	if (!follow_children || BPF_CORE_READ(child, pid) != child_tgid || !followed_process(parent_tgid))
		return 0;
	/* Full: the child goes untraced, and its events never come; counted.
	 * (A cgroup's members need no entry.) */
	if (!in_cgroup && bpf_map_update_elem(&followed, &child_tgid, &one, BPF_ANY)) {
		count(LH_CNT_FOLLOW_FULL);
		return 0;
	}
	emit(LH_EVENT_FORK, 0, child_tgid, &info);
	return 0;
}

/* A followed process whose last thread exits is forgotten: its pid may be
 * given to another process before the trace ends. The tracepoint comes
 * after the exiting thread has left signal->live. */
SEC("raw_tp/sched_process_exit")
int BPF_PROG(forget_exited, struct task_struct *task)
{
	__u32 tgid;

	if (!follow_children || in_cgroup || BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	tgid = BPF_CORE_READ(task, tgid);
	bpf_map_delete_elem(&followed, &tgid);
	return 0;
}

/* At each exec of a held process the new program stops itself before its
 * first instruction, so that user space can probe the allocator of the
 * program it became (env LD_PRELOAD=... prog) before any of it runs.
 * exec_hold's keys: */
#define HOLD_PID 0	/* the one process held without follow_children (0: none) */
#define HOLD_COUNT 1	/* holds so far */
#define HOLD_READ 2	/* holds user space has read (set by it) */
#define HOLD_UNHELD 3	/* execs let through unheld: no room to say which */
#define HOLD_RING 64

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} exec_hold SEC(".maps");

/* Hold n at n % HOLD_RING: (n + 1) << 32 | its process id; the n + 1 tells
 * user space the slot is written. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HOLD_RING);
	__type(key, __u32);
	__type(value, __u64);
} exec_held SEC(".maps");

/* The hold numbers taken of late. Two execs at once must not take the same
 * one, and an atomic fetch-and-add needs -mcpu=v3: an insert with
 * BPF_NOEXIST succeeds for one of them only. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * HOLD_RING);
	__type(key, __u32);
	__type(value, __u32);
} hold_numbers SEC(".maps");

/* Execs that may hold at the same instant. */
#define HOLD_TRIES 4

#define SIGSTOP 19

static __always_inline bool held_process(__u32 tgid)
{
	__u32 key = HOLD_PID;
	__u32 *held;

	if (follow_children)
		return followed_process(tgid);
	held = bpf_map_lookup_elem(&exec_hold, &key);
	return held && *held == tgid;
}

static __always_inline __u32 *hold_word(__u32 key)
{
	return bpf_map_lookup_elem(&exec_hold, &key);
}

/* The next hold number, or -1 when none can be had. */
static __always_inline __s64 take_hold_number(__u32 count, __u32 tgid)
{
	for (__u32 i = 0; i < HOLD_TRIES; i++) {
		__u32 number = count + i, done = number - HOLD_RING;

		if (bpf_map_update_elem(&hold_numbers, &number, &tgid, BPF_NOEXIST))
			continue;
		/* The ring holds no hold older than HOLD_RING: user space has read it. */
		bpf_map_delete_elem(&hold_numbers, &done);
		return number;
	}
	return -1;
}

SEC("raw_tp/sched_process_exec")
int hold_at_exec(void *ctx)
{
	__u32 tgid = current_tgid(), number, at;
	__u32 *count = hold_word(HOLD_COUNT), *read = hold_word(HOLD_READ);
	__u32 *unheld = hold_word(HOLD_UNHELD);
	__u64 *slot;
	__s64 taken;

	if (!count || !read || !unheld || !held_process(tgid))
		return 0;
	/* Processes that share the probes cannot tell of their execs by their
	 * address space (note_exec): each does here. */
	if (follow_children)
		emit(LH_EVENT_EXEC, 0, 0, NULL);
	taken = *count - *read < HOLD_RING ? take_hold_number(*count, tgid) : -1;
	if (taken < 0) {
		__sync_fetch_and_add(unheld, 1);
		return 0;
	}
	number = taken;
	at = number % HOLD_RING;
	slot = bpf_map_lookup_elem(&exec_held, &at);
	if (!slot)
		return 0;
	*slot = (__u64)(number + 1) << 32 | tgid;
	__sync_fetch_and_add(count, 1);
	/* Taken on the way back to user space: the new program has not run. */
	bpf_send_signal(SIGSTOP);
	return 0;
}

#include "user-resources.bpf.h"
#include "oom-victim.bpf.h"
#include "exit-stop.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";
