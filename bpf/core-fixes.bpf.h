/* SPDX-License-Identifier: MIT */
/* Every difference between kernel versions that leakhound's BPF programs
 * depend on, in one place. Each check is a CO-RE relocation, resolved
 * against the running kernel's BTF when the object is loaded: the branch a
 * kernel cannot take is dead code the verifier never sees. */
#ifndef LEAKHOUND_CORE_FIXES_BPF_H
#define LEAKHOUND_CORE_FIXES_BPF_H

#include <bpf/bpf_core_read.h>

/* kmem:kmem_cache_alloc passes the cache (call_site, ptr, s, gfp, node)
 * since 6.1 (commit 2c1d697fb8ba, "mm/slab_common: drop kmem_alloc & avoid
 * dereferencing fields when not using"); before, it shared the kmem_alloc
 * class with kmalloc: (call_site, ptr, bytes_req, bytes_alloc, gfp). The
 * record struct of that class exists only on the older kernels. */
struct trace_event_raw_kmem_alloc___pre61 {
	unsigned long call_site;
} __attribute__((preserve_access_index));

static __always_inline bool kmem_cache_alloc_has_cache(void)
{
	return !bpf_core_type_exists(struct trace_event_raw_kmem_alloc___pre61);
}

/* percpu:percpu_alloc_percpu gained call_site (first) and bytes_alloc in
 * 5.19 (commit f67bed134a05, "mm/percpu: Add call_site, bytes_alloc and
 * gfp_flags"); before: (reserved, is_atomic, size, align, base_addr, off,
 * ptr), and the block's size is `size`. */
static __always_inline bool percpu_alloc_has_call_site(void)
{
	return bpf_core_field_exists(struct trace_event_raw_percpu_alloc_percpu, call_site);
}

#endif /* LEAKHOUND_CORE_FIXES_BPF_H */
