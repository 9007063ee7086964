/* SPDX-License-Identifier: MIT */
/* Reading the current thread's user memory with plain loads, not
 * bpf_probe_read_user, whose fixed cost per call (hardened usercopy, SMAP,
 * fault fencing) is more than the rest of a stack walk (bench/RESULTS.md).
 * The thread's page tables give a page's physical address and the kernel's
 * direct map, which maps all of RAM, gives its kernel address. The loads go
 * through bpf_rdonly_cast (kernel 6.2+), which the JIT guards with its
 * exception table: a page that is not there reads as 0, it never faults.
 * Nothing is ever written. x86-64, 4- or 5-level paging.
 * Only the programs of the direct-map path use this; on a kernel without
 * the kfunc they are not loaded, and the weak extern stays unresolved. */
#ifndef LEAKHOUND_USER_MEMORY_BPF_H
#define LEAKHOUND_USER_MEMORY_BPF_H

#include <bpf/bpf_core_read.h>

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;
/* The direct map's start, which KASLR randomizes: the kernel keeps it here. */
extern const void page_offset_base __ksym __weak;

/* Set by user space before load: the end of the highest range of RAM, so
 * that no address read lies outside the direct map's RAM, and the paging
 * depth (5 where the CPU has LA57 and the kernel uses it). */
const volatile __u64 phys_end = 0;
const volatile __u32 paging_levels = 4;

/* Where the direct map begins: set once by find_direct_map before anything
 * is attached. 0 until then. */
__u64 direct_map_base = 0;

#define PTE_PRESENT	(1ULL << 0)
#define PTE_PWT		(1ULL << 3)	/* write-through */
#define PTE_PCD		(1ULL << 4)	/* cache disabled: device memory */
#define PTE_HUGE	(1ULL << 7)	/* in a PUD or PMD entry: a 1 GiB or 2 MiB page */
#define PTE_PAT		(1ULL << 7)	/* in a small page's entry */
#define PTE_SPECIAL	(1ULL << 9)	/* pfn mappings (VM_PFNMAP, VM_MIXEDMAP): not struct-page RAM */
#define PTE_PAT_HUGE	(1ULL << 12)
#define PTE_PHYS	0x000ffffffffff000ULL
#define OFFSET_IN_PAGE	0xfffULL

/* Only present, ordinary write-back RAM is read: an entry with another
 * cache mode or a pfn mapping may be device memory, where a read has side
 * effects. */
static __always_inline bool ordinary_ram(__u64 entry, __u64 pat_bit)
{
	return (entry & PTE_PRESENT) &&
	       !(entry & (PTE_PWT | PTE_PCD | PTE_SPECIAL | pat_bit)) &&
	       (entry & PTE_PHYS) < phys_end;
}

/* One 64-bit word of kernel memory; 0 where nothing is mapped. The cast
 * wants a struct of vmlinux with plain words in it (not void, which kernels
 * before 6.16 refuse): struct bpf_timer is 16 opaque bytes, and its timer
 * meaning plays no part. */
static __always_inline __u64 load_word(__u64 addr)
{
	const struct bpf_timer *words = bpf_rdonly_cast((void *)addr, bpf_core_type_id_kernel(struct bpf_timer));

	return words->__opaque[0];
}

static __always_inline __u64 page_table_of(__u64 mm)
{
	return mm ? load_word(mm + bpf_core_field_offset(struct mm_struct, pgd)) : 0;
}

/* The last level's entry for a small page: where it lies and what it held.
 * While it holds the same, the page has not moved. */
struct page_entry {
	__u64 at;
	__u64 value;
};

/* The kernel address of `addr`, read through the page tables at `pgd` and a
 * direct map at `base`; 0 where no page of ordinary RAM is present. A small
 * page's entry goes to `leaf` (a huge page's leaves it zeroed). A global
 * function: the verifier checks it once, not at every call. */
__noinline __u64 kernel_address(__u64 pgd, __u64 base, __u64 addr, struct page_entry *leaf)
{
	__u64 table = pgd;

	if (!leaf)
		return 0;
	leaf->at = 0;
#pragma unroll
	for (int shift = 48; shift >= 12; shift -= 9) {
		__u64 entry, phys, span, at;

		if (shift == 48 && paging_levels < 5)
			continue;
		at = table + ((addr >> shift) & 511) * 8;
		entry = load_word(at);
		phys = entry & PTE_PHYS;
		if (shift == 12) {
			if (!ordinary_ram(entry, PTE_PAT))
				return 0;
			leaf->at = at;
			leaf->value = entry;
			return base + phys + (addr & OFFSET_IN_PAGE);
		}
		if ((shift == 30 || shift == 21) && (entry & PTE_HUGE)) {
			if (!ordinary_ram(entry, PTE_PAT_HUGE))
				return 0;
			span = (1ULL << shift) - 1;
			return base + (phys & ~span) + (addr & span);
		}
		if (!(entry & PTE_PRESENT) || phys >= phys_end)
			return 0;
		table = base + phys;
	}
	return 0;
}

/* What find_direct_map answers. */
enum direct_map_status {
	DIRECT_MAP_FOUND = 0,
	DIRECT_MAP_NO_SYMBOL = 1,	/* no page_offset_base in kallsyms */
	DIRECT_MAP_UNREADABLE = 2,	/* it could not be read */
	DIRECT_MAP_INCONSISTENT = 3,	/* the page tables do not lead back through it */
};

/* Run once by user space (BPF_PROG_TEST_RUN) before anything is attached.
 * The base is read from the kernel, never guessed, then checked: through
 * it, the page tables must lead back to the top-level page itself. */
SEC("raw_tp")
int find_direct_map(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 base = 0, pgd = (__u64)BPF_CORE_READ(task, mm, pgd);
	struct page_entry leaf;

	if (!bpf_core_type_exists(struct bpf_timer) || !&page_offset_base)
		return DIRECT_MAP_NO_SYMBOL;
	if (bpf_probe_read_kernel(&base, sizeof(base), &page_offset_base) || !base || !pgd)
		return DIRECT_MAP_UNREADABLE;
	if (kernel_address(pgd, base, pgd, &leaf) != pgd)
		return DIRECT_MAP_INCONSISTENT;
	direct_map_base = base;
	return DIRECT_MAP_FOUND;
}

#endif /* LEAKHOUND_USER_MEMORY_BPF_H */
