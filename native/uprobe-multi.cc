#include "uprobe-multi.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace leakhound {
namespace {

constexpr int kBpfLinkCreate = 28;               // BPF_LINK_CREATE
constexpr uint32_t kUprobeMultiReturn = 1U << 0;  // BPF_F_UPROBE_MULTI_RETURN

// The head of union bpf_attr for BPF_LINK_CREATE with its uprobe_multi
// member, as the kernel's uapi header lays it out (Debian 12's is older).
struct LinkCreateUprobeMulti {
  uint32_t prog_fd;
  uint32_t target_fd;
  uint32_t attach_type;
  uint32_t flags;
  uint64_t path;
  uint64_t offsets;
  uint64_t ref_ctr_offsets;
  uint64_t cookies;
  uint32_t cnt;
  uint32_t multi_flags;
  uint32_t pid;
  uint32_t padding;
};

}  // namespace

int create_uprobe_multi_link(bpf_program* program, const std::string& path, const std::vector<uint64_t>& offsets,
                             const std::vector<uint64_t>& cookies, int pid, bool is_return) {
  LinkCreateUprobeMulti attr = {};
  attr.prog_fd = static_cast<uint32_t>(bpf_program__fd(program));
  attr.attach_type = kUprobeMultiAttachType;
  attr.path = reinterpret_cast<uint64_t>(path.c_str());
  attr.offsets = reinterpret_cast<uint64_t>(offsets.data());
  attr.cookies = reinterpret_cast<uint64_t>(cookies.data());
  attr.cnt = static_cast<uint32_t>(offsets.size());
  attr.multi_flags = is_return ? kUprobeMultiReturn : 0;
  // -1, libbpf's "every process", is 0 to the kernel.
  attr.pid = pid < 0 ? 0 : static_cast<uint32_t>(pid);
  long fd = syscall(__NR_bpf, kBpfLinkCreate, &attr, sizeof(attr));
  return fd < 0 ? -errno : static_cast<int>(fd);
}

}  // namespace leakhound
