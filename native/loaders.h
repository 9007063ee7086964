// One loader per BPF object: open the embedded skeleton, write its .rodata
// knobs and table sizes from the caller's options, load it into the kernel.
#pragma once

#include <bpf/libbpf.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace leakhound {

struct LoadOptions {
  std::map<std::string, uint64_t> knobs;        // .rodata variables by name
  std::map<std::string, uint32_t> max_entries;  // table sizes by map name
};

struct LoadedObject {
  bpf_object* obj = nullptr;
  std::function<void()> destroy;
};

// Each returns 0 or a negative errno; on failure nothing stays loaded.
// `unknown` receives the first knob name the object does not have.
int load_user_alloc(const LoadOptions& options, LoadedObject& out, std::string& unknown);
int load_kernel_alloc(const LoadOptions& options, LoadedObject& out, std::string& unknown);

int apply_max_entries(bpf_object* obj, const LoadOptions& options, std::string& unknown);

}  // namespace leakhound
