/* SPDX-License-Identifier: MIT */
/* The unwind tables user space derives from each object's .eh_frame (see
 * leakhound.h), and how a walk finds the rule that holds at an address:
 * the mapping the address lies in (bpf_find_vma, cached for the walk), the
 * object by device and inode, the 4 KiB page of its file, then a binary
 * search of the page's rows. Rows and pages live in two arrays that user
 * space fills through mmap, without a system call per row. */
#ifndef LEAKHOUND_UNWIND_TABLES_BPF_H
#define LEAKHOUND_UNWIND_TABLES_BPF_H

#include <bpf/bpf_core_read.h>

/* Sized by user space before load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lh_unwind_row);
} unwind_rows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lh_unwind_page);
} unwind_pages SEC(".maps");

/* Every object a walk has met: the first walk to meet an unknown one puts
 * it here as LH_OBJECT_PENDING and asks user space for its table. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct lh_object_key);
	__type(value, struct lh_unwind_object);
} unwind_objects SEC(".maps");

/* The same objects by process and mapping start, as user space sees them
 * in /proc/PID/maps: the kernel may know a file by another inode than the
 * maps show (an overlayfs file, a container's, is mapped through its
 * backing file on 6.6+), and user space cannot tell which. A walk that finds
 * an object here files it under the inode it knows. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct lh_mapping_key);
	__type(value, struct lh_unwind_object);
} unwind_mappings SEC(".maps");

/* A file mapping of the walked process, as the walk needs it. */
struct mapping {
	__u64 start;
	__u64 end;
	__u64 bias;	/* address - bias = file offset */
	struct lh_unwind_object object;
	__u64 fresh;	/* found in this walk; else by an earlier walk of the thread */
};

/* Mappings a walk keeps: most stacks run through the program and its C
 * library, a few through one more library. */
#define MAPPINGS 4

struct mapping_cache {
	struct mapping slots[MAPPINGS];
	__u64 mm;	/* the address space the slots are of */
	__u32 seq;	/* its mappings' change count when they were known good */
	__u32 next;	/* the slot the next mapping found replaces */
};

/* mm->mm_lock_seq, the count of changes to a process's mappings the kernel
 * keeps for per-VMA locking: an int bumped as each change ends (6.4-6.11),
 * a seqcount odd while one is under way (6.12+), absent before 6.4 or
 * without CONFIG_PER_VMA_LOCK. */
struct seqcount___lh {
	unsigned int sequence;
} __attribute__((preserve_access_index));

struct mm_struct___seqcount {
	struct seqcount___lh mm_lock_seq;
} __attribute__((preserve_access_index));

/* The change count of `mm`'s mappings, where the kernel keeps one and no
 * change is under way; false otherwise. */
static __always_inline bool mappings_unchanged_since(__u64 mm, __u32 *seq)
{
	bool counted = bpf_core_field_exists(((struct mm_struct___seqcount *)0)->mm_lock_seq.sequence);

	if (!bpf_core_field_exists(struct mm_struct, mm_lock_seq) ||
	    bpf_probe_read_kernel(seq, sizeof(*seq), (void *)(mm + bpf_core_field_offset(struct mm_struct, mm_lock_seq))))
		return false;
	return !counted || !(*seq & 1);
}

/* What the bpf_find_vma callback hands back: as small as it can be, for
 * 6.1's verifier bounds the stack of the whole chain of calls at 512 bytes. */
struct found_vma {
	struct lh_mapping_key where; /* the mapping, in this process: unwind_mappings' key */
	__u64 addr;	/* the address looked for */
	__u64 pgoff;
	struct lh_object_key key; /* ino 0: anonymous memory */
	int err;	/* bpf_find_vma's answer */
	int pad;
};

static long note_vma(struct task_struct *task, struct vm_area_struct *vma, struct found_vma *found)
{
	struct inode *inode = BPF_CORE_READ(vma, vm_file, f_inode);

	found->where.start = vma->vm_start;
	found->where.end = vma->vm_end;
	found->pgoff = vma->vm_pgoff;
	if (inode) {
		found->key.ino = BPF_CORE_READ(inode, i_ino);
		found->key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	}
	return 0;
}

#define EBUSY 16

/* One look at the mappings (a bpf_loop step: the verifier checks it once,
 * however many tries). */
static long find_vma_try(__u32 i, struct found_vma *found)
{
	found->err = bpf_find_vma(bpf_get_current_task_btf(), found->addr, note_vma, found, 0);
	return found->err == -EBUSY ? 0 : 1;
}

/* What an object is until user space has built its table (from global
 * data: the stack of this chain of calls is short). */
static const struct lh_unwind_object pending_object = { .kind = LH_OBJECT_PENDING };

static __always_inline void ask_for_table(const struct lh_object_key *key, __u64 addr)
{
	struct lh_event *event = bpf_ringbuf_reserve(&events, sizeof(*event), 0);

	if (!event) {
		count(LH_CNT_RINGBUF_DROPS);
		return;
	}
	__builtin_memset(event, 0, sizeof(*event));
	event->kind = LH_EVENT_NEED_TABLE;
	event->tgid = bpf_get_current_pid_tgid() >> 32;
	event->addr = addr & LH_ADDR_MASK;
	event->size = key->ino;
	event->stack_id = key->dev;
	bpf_ringbuf_submit(event, BPF_RB_NO_WAKEUP);
}

/* The object at `key`; a new one is asked for once, by the first walk that
 * meets it (the insert fails for every later one). */
static __always_inline struct lh_unwind_object *object_of(struct found_vma *found)
{
	const struct lh_object_key *key = &found->key;
	struct lh_unwind_object *object = bpf_map_lookup_elem(&unwind_objects, key);

	if (object)
		return object;
	found->where.tgid = bpf_get_current_pid_tgid() >> 32;
	object = bpf_map_lookup_elem(&unwind_mappings, &found->where);
	if (object && object->kind != LH_OBJECT_PENDING) {
		bpf_map_update_elem(&unwind_objects, key, object, BPF_NOEXIST);
		return object;
	}
	if (!bpf_map_update_elem(&unwind_objects, key, &pending_object, BPF_NOEXIST))
		ask_for_table(key, found->addr);
	return bpf_map_lookup_elem(&unwind_objects, key);
}

/* Looks at the mappings while their lock is taken, before giving up. */
#define FIND_VMA_TRIES 128

/* mapping_at could not look: the mappings' lock was taken. */
#define MAPPING_BUSY (-2)

/* The cache slot of the file mapping `addr` lies in, found in the cache or
 * in the process's mappings; -1 for anonymous memory (JIT code) or no
 * mapping at all, MAPPING_BUSY. A global function: the verifier checks it
 * once. */
__noinline int mapping_at(struct mapping_cache *cache, __u64 addr)
{
	struct found_vma found = {};
	struct lh_unwind_object *object;
	struct mapping *slot;
	__u32 at;
	int err;

	if (!cache)
		return -1;
	for (int i = 0; i < MAPPINGS; i++) {
		slot = &cache->slots[i];
		if (slot->fresh && addr >= slot->start && addr < slot->end)
			return i;
	}
	/* Another thread holds the mappings' lock (it maps or unmaps memory,
	 * often for a new thread's stack or a malloc arena): it holds it for
	 * moments, so try again a few times; then what an earlier walk of this
	 * thread found there is the best guess, a mapping replaced by another
	 * object in between the only way it errs. */
	found.addr = addr;
	bpf_loop(FIND_VMA_TRIES, find_vma_try, &found, 0);
	err = found.err;
	if (err == -EBUSY) {
		for (int i = 0; i < MAPPINGS; i++) {
			slot = &cache->slots[i];
			if (addr >= slot->start && addr < slot->end)
				return i;
		}
		return MAPPING_BUSY;
	}
	if (err || !found.key.ino)
		return -1;
	object = object_of(&found);
	if (!object)
		return -1;
	at = cache->next++ & (MAPPINGS - 1);
	slot = &cache->slots[at];
	slot->start = found.where.start;
	slot->end = found.where.end;
	slot->bias = found.where.start - (found.pgoff << 12);
	slot->object = *object;
	slot->fresh = 1;
	return at;
}

/* What the thread's last walk found holds for this one where the process's
 * mappings have not changed since (the kernel counts changes from 6.4 on);
 * else it is only a fallback: another object may be mapped where one was. */
static __always_inline void mapping_cache_open(struct mapping_cache *cache, __u64 mm)
{
	__u32 seq = 0;
	bool known = mappings_unchanged_since(mm, &seq);

	if (known && cache->mm == mm && cache->seq == seq)
		return;
	for (int i = 0; i < MAPPINGS; i++)
		cache->slots[i].fresh = 0;
	cache->mm = known ? mm : 0;
	cache->seq = seq;
}

/* Rows of one page: at most one per byte, and the one before it. */
#define ROW_SEARCH_STEPS 13

/* The rule that holds at file offset `off` of `object`: false where none
 * does (past the object's code, or a page without rows). Global, like
 * mapping_at. */
__noinline bool find_row(const struct lh_unwind_object *object, __u64 off, struct lh_unwind_row *out)
{
	__u32 page = off >> LH_UNWIND_PAGE_SHIFT, index, first, count;
	struct lh_unwind_page *entry;
	struct lh_unwind_row *row;

	if (!object || !out || page >= object->pages)
		return false;
	index = object->first_page + page;
	entry = bpf_map_lookup_elem(&unwind_pages, &index);
	if (!entry || !entry->count || entry->count > (1U << ROW_SEARCH_STEPS))
		return false;
	first = entry->first;
	count = entry->count;
	/* The last row that starts at or before `off`: rows[first] starts at
	 * or before the page does. */
	for (int step = 0; step < ROW_SEARCH_STEPS && count > 1; step++) {
		__u32 half = count / 2, mid = first + half;

		row = bpf_map_lookup_elem(&unwind_rows, &mid);
		if (!row)
			return false;
		if (row->start <= off)
			first = mid;
		count -= half;
	}
	row = bpf_map_lookup_elem(&unwind_rows, &first);
	/* A page whose code starts inside it has no row at its first byte. */
	if (!row || row->start > off)
		return false;
	*out = *row;
	return true;
}

#endif /* LEAKHOUND_UNWIND_TABLES_BPF_H */
