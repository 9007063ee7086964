#include <cerrno>

#include "loaders.h"

namespace leakhound {

int apply_max_entries(bpf_object* obj, const LoadOptions& options, std::string& unknown) {
  for (const auto& [name, entries] : options.max_entries) {
    bpf_map* map = bpf_object__find_map_by_name(obj, name.c_str());
    if (!map) {
      unknown = name;
      return -EINVAL;
    }
    int err = bpf_map__set_max_entries(map, entries);
    if (err) return err;
  }
  return 0;
}

// A program left out is neither checked by the verifier nor attached: the
// other way of doing its job is loaded instead.
int skip_programs(bpf_object* obj, const LoadOptions& options, std::string& unknown) {
  for (const std::string& name : options.skip_programs) {
    bpf_program* program = bpf_object__find_program_by_name(obj, name.c_str());
    if (!program) {
      unknown = name;
      return -EINVAL;
    }
    bpf_program__set_autoload(program, false);
  }
  return 0;
}

}  // namespace leakhound
