/* SPDX-License-Identifier: MIT */
/* Reading the current thread's user memory with plain loads, not
 * bpf_probe_read_user. One such call costs ~0.3 us on this kind of guest
 * whatever it copies (hardened usercopy checks the destination, SMAP is
 * toggled, page faults are fenced off), more than the rest of a stack walk.
 * Instead the thread's page tables give a page's physical address and the
 * kernel's direct map, which maps all of RAM, gives its kernel address. The
 * loads go through bpf_rdonly_cast, which the JIT guards with its exception
 * table: a page that is not there reads as 0, it never faults. Nothing is
 * ever written. x86-64, 4- or 5-level paging. */
#ifndef LEAKHOUND_USER_MEMORY_BPF_H
#define LEAKHOUND_USER_MEMORY_BPF_H

#include <bpf/bpf_core_read.h>

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

/* Set by user space before load: the end of the highest range of RAM, so
 * that no address read lies outside the direct map's RAM, and the paging
 * depth (5 where the CPU has LA57 and the kernel uses it). */
const volatile __u64 phys_end = 0;
const volatile __u32 paging_levels = 4;

/* Where the direct map begins (randomized at boot): set once by
 * find_direct_map before anything is attached. 0 until then. */
__u64 direct_map_base = 0;

#define PTE_PRESENT	(1ULL << 0)
#define PTE_HUGE	(1ULL << 7)	/* in a PUD or PMD entry: a 1 GiB or 2 MiB page */
#define PTE_PHYS	0x000ffffffffff000ULL
#define OFFSET_IN_PAGE	0xfffULL

/* One 64-bit word of kernel memory; 0 where nothing is mapped. The cast
 * wants a struct of vmlinux with plain words in it (not void, which kernels
 * before 6.16 refuse): struct bpf_timer is 16 opaque bytes, and its timer
 * meaning plays no part. */
static __always_inline __u64 load_word(__u64 addr)
{
	const struct bpf_timer *words = bpf_rdonly_cast((void *)addr, bpf_core_type_id_kernel(struct bpf_timer));

	return words->__opaque[0];
}

/* The current thread's address space, and its top-level page table. */
static __always_inline __u64 current_mm(void)
{
	return load_word(bpf_get_current_task() + bpf_core_field_offset(struct task_struct, mm));
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
 * direct map at `base`; 0 where no page is present. A small page's entry
 * goes to `leaf` (a huge page's leaves it zeroed). A global function: the
 * verifier checks it once, not at every call (load 0.25 -> 0.10 s). */
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
		if (!(entry & PTE_PRESENT) || phys >= phys_end)
			return 0;
		if (shift == 12) {
			leaf->at = at;
			leaf->value = entry;
			return base + phys + (addr & OFFSET_IN_PAGE);
		}
		if ((shift == 30 || shift == 21) && (entry & PTE_HUGE)) {
			span = (1ULL << shift) - 1;
			return base + (phys & ~span) + (addr & span);
		}
		table = base + phys;
	}
	return 0;
}

struct direct_map_search {
	__u64 pgd;
};

/* The page-table page is in the direct map, at base + its physical address,
 * and the base is 1 GiB aligned: so its physical address shares the low 30
 * bits with its kernel address, and only the GiB is unknown. The right GiB
 * is the one through which the page tables lead back to the page itself.
 * A wrong guess reads within phys_end of the true base: RAM, or the unmapped
 * space around the direct map (KASLR pads it by 10 TiB), which reads as 0. */
static long try_gib(__u32 gib, struct direct_map_search *search)
{
	__u64 phys = (search->pgd & ((1ULL << 30) - 1)) + ((__u64)gib << 30);
	__u64 base = search->pgd - phys;
	struct page_entry leaf;

	if (phys >= phys_end)
		return 1;
	if (kernel_address(search->pgd, base, search->pgd, &leaf) != search->pgd)
		return 0;
	direct_map_base = base;
	return 1;
}

/* Run once by user space (BPF_PROG_TEST_RUN) before anything is attached;
 * returns 0 when it found the direct map. */
SEC("raw_tp")
int find_direct_map(void *ctx)
{
	struct direct_map_search search = { .pgd = page_table_of(current_mm()) };

	if (search.pgd)
		bpf_loop((phys_end >> 30) + 1, try_gib, &search, 0);
	return direct_map_base ? 0 : 1;
}

#endif /* LEAKHOUND_USER_MEMORY_BPF_H */
