// One loader per BPF object: open the embedded skeleton, write its .rodata
// knobs and table sizes from the caller's options, load it into the kernel.
#pragma once

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace leakhound {

struct LoadOptions {
  std::map<std::string, uint64_t> knobs;        // .rodata variables by name
  std::map<std::string, uint32_t> max_entries;  // table sizes by map name
  bool uprobe_multi = true;                     // try uprobe_multi links first
  std::vector<std::string> skip_programs;       // programs not to load
};

struct LoadedObject {
  bpf_object* obj = nullptr;
  std::function<void()> destroy;
  bool uprobe_multi = false;  // programs take uprobe_multi links
};

// Each returns 0 or a negative errno; on failure nothing stays loaded.
// `unknown` receives the first knob name the object does not have.
int load_user_alloc(const LoadOptions& options, LoadedObject& out, std::string& unknown);
int load_kernel_alloc(const LoadOptions& options, LoadedObject& out, std::string& unknown);
int load_kernel_kprobe(const LoadOptions& options, LoadedObject& out, std::string& unknown);

int apply_max_entries(bpf_object* obj, const LoadOptions& options, std::string& unknown);
int skip_programs(bpf_object* obj, const LoadOptions& options, std::string& unknown);

// The sequence every skeleton goes through. `set_knob` writes one .rodata
// variable and returns false for a name the object does not have;
// `prepare` may adjust maps before load.
template <typename Skeleton>
int load_skeleton(Skeleton* (*open)(), int (*load)(Skeleton*), void (*destroy)(Skeleton*),
                  bool (*set_knob)(Skeleton*, const std::string&, uint64_t), const LoadOptions& options,
                  LoadedObject& out, std::string& unknown, void (*prepare)(Skeleton*) = nullptr) {
  Skeleton* skel = open();
  if (!skel) return -errno;
  int err = 0;
  for (const auto& [name, value] : options.knobs) {
    if (!set_knob(skel, name, value)) {
      unknown = name;
      err = -EINVAL;
      break;
    }
  }
  if (!err) err = apply_max_entries(skel->obj, options, unknown);
  if (!err) err = skip_programs(skel->obj, options, unknown);
  if (!err && prepare) prepare(skel);
  if (!err) err = load(skel);
  if (err) {
    destroy(skel);
    return err;
  }
  out.obj = skel->obj;
  out.destroy = [skel, destroy] { destroy(skel); };
  return 0;
}

}  // namespace leakhound
