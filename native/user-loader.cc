#include "loaders.h"
#include "user-alloc.skel.h"

namespace leakhound {
namespace {

bool set_knob(user_alloc* skel, const std::string& name, uint64_t value) {
  if (name == "min_size") skel->rodata->min_size = value;
  else if (name == "max_size") skel->rodata->max_size = value;
  else if (name == "stack_depth") skel->rodata->stack_depth = static_cast<uint32_t>(value);
  else if (name == "page_size") skel->rodata->page_size = value;
  else if (name == "floor_only") skel->rodata->floor_only = value != 0;
  else if (name == "sample_every") skel->rodata->sample_every = static_cast<uint32_t>(value);
  else return false;
  return true;
}

}  // namespace

int load_user_alloc(const LoadOptions& options, LoadedObject& out, std::string& unknown) {
  return load_skeleton(user_alloc__open, user_alloc__load, user_alloc__destroy, set_knob, options, out, unknown);
}

}  // namespace leakhound
