#include <cerrno>
#include <cstring>

#include "kernel-alloc.skel.h"
#include "kernel-kprobe.skel.h"
#include "loaders.h"

namespace leakhound {

namespace {

// Knobs are numbers, so a command name travels as four little-endian 32-bit
// words: `target_comm_0` holds its first four bytes. Both kernel objects
// (tracepoints, kprobes) have the same knobs.
template <typename Skeleton>
bool set_comm_word(Skeleton* skel, const std::string& name, uint64_t value) {
  static const std::string prefix = "target_comm_";
  if (name.size() != prefix.size() + 1 || name.compare(0, prefix.size(), prefix) != 0) return false;
  uint32_t word = static_cast<uint32_t>(value);
  size_t offset = static_cast<size_t>(name.back() - '0') * sizeof(word);
  if (offset >= sizeof(skel->rodata->target_comm)) return false;
  memcpy(reinterpret_cast<char*>(skel->rodata->target_comm) + offset, &word, sizeof(word));
  return true;
}

template <typename Skeleton>
bool set_knob(Skeleton* skel, const std::string& name, uint64_t value) {
  if (name == "min_size") skel->rodata->min_size = value;
  else if (name == "max_size") skel->rodata->max_size = value;
  else if (name == "page_size") skel->rodata->page_size = value;
  else if (name == "target_tgid") skel->rodata->target_tgid = static_cast<uint32_t>(value);
  else if (name == "target_cgroup") skel->rodata->target_cgroup = value;
  else if (name == "target_cgroup_level") skel->rodata->target_cgroup_level = static_cast<uint32_t>(value);
  else return set_comm_word(skel, name, value);
  return true;
}

// A stack table that allocates as it grows would show up in the very
// kernel allocations it traces: in kernel mode it is allocated up front.
template <typename Skeleton>
void preallocate_stacks(Skeleton* skel) {
  bpf_map__set_map_flags(skel->maps.stacks, 0);
}

}  // namespace

int load_kernel_alloc(const LoadOptions& options, LoadedObject& out, std::string& unknown) {
  return load_skeleton(kernel_alloc__open, kernel_alloc__load, kernel_alloc__destroy, set_knob<kernel_alloc>, options,
                       out, unknown, preallocate_stacks<kernel_alloc>);
}

int load_kernel_kprobe(const LoadOptions& options, LoadedObject& out, std::string& unknown) {
  return load_skeleton(kernel_kprobe__open, kernel_kprobe__load, kernel_kprobe__destroy, set_knob<kernel_kprobe>, options,
                       out, unknown, preallocate_stacks<kernel_kprobe>);
}

}  // namespace leakhound
