// Kernel 6.6+ attaches many uprobes through one link, and takes them all
// down with one RCU grace period (about 0.1 s each here) instead of one per
// probe. libbpf 1.1 predates it, so the link is made with the bpf syscall.
#pragma once

#include <bpf/libbpf.h>

#include <cstdint>
#include <string>
#include <vector>

namespace leakhound {

// Programs must be loaded with this expected attach type to use such links.
constexpr uint32_t kUprobeMultiAttachType = 48;  // BPF_TRACE_UPROBE_MULTI

// Returns the link's fd, or a negative errno.
int create_uprobe_multi_link(bpf_program* program, const std::string& path, const std::vector<uint64_t>& offsets,
                             const std::vector<uint64_t>& cookies, int pid, bool is_return);

}  // namespace leakhound
