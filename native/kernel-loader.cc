#include <cerrno>
#include <cstring>

#include "kernel-alloc.skel.h"
#include "loaders.h"

namespace leakhound {

namespace {

// Knobs are numbers, so a command name travels as four little-endian 32-bit
// words: `target_comm_0` holds its first four bytes.
bool set_comm_word(kernel_alloc* skel, const std::string& name, uint64_t value) {
  static const std::string prefix = "target_comm_";
  if (name.size() != prefix.size() + 1 || name.compare(0, prefix.size(), prefix) != 0) return false;
  uint32_t word = static_cast<uint32_t>(value);
  size_t offset = static_cast<size_t>(name.back() - '0') * sizeof(word);
  if (offset >= sizeof(skel->rodata->target_comm)) return false;
  memcpy(reinterpret_cast<char*>(skel->rodata->target_comm) + offset, &word, sizeof(word));
  return true;
}

}  // namespace

int load_kernel_alloc(const LoadOptions& options, LoadedObject& out, std::string& unknown) {
  kernel_alloc* skel = kernel_alloc__open();
  if (!skel) return -errno;
  for (const auto& [name, value] : options.knobs) {
    if (name == "min_size") skel->rodata->min_size = value;
    else if (name == "max_size") skel->rodata->max_size = value;
    else if (name == "page_size") skel->rodata->page_size = value;
    else if (name == "target_tgid") skel->rodata->target_tgid = static_cast<uint32_t>(value);
    else if (name == "target_cgroup") skel->rodata->target_cgroup = value;
    else if (name == "target_cgroup_level") skel->rodata->target_cgroup_level = static_cast<uint32_t>(value);
    else if (!set_comm_word(skel, name, value)) {
      unknown = name;
      kernel_alloc__destroy(skel);
      return -EINVAL;
    }
  }
  int err = apply_max_entries(skel->obj, options, unknown);
  if (!err) err = kernel_alloc__load(skel);
  if (err) {
    kernel_alloc__destroy(skel);
    return err;
  }
  out.obj = skel->obj;
  out.destroy = [skel] { kernel_alloc__destroy(skel); };
  return 0;
}

}  // namespace leakhound
