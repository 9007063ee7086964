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

}  // namespace leakhound
