#include <cerrno>

#include "loaders.h"
#include "user-alloc.skel.h"

namespace leakhound {

int load_user_alloc(const LoadOptions& options, LoadedObject& out, std::string& unknown) {
  user_alloc* skel = user_alloc__open();
  if (!skel) return -errno;
  for (const auto& [name, value] : options.knobs) {
    if (name == "min_size") skel->rodata->min_size = value;
    else if (name == "max_size") skel->rodata->max_size = value;
    else if (name == "stack_depth") skel->rodata->stack_depth = static_cast<uint32_t>(value);
    else if (name == "page_size") skel->rodata->page_size = value;
    else if (name == "floor_only") skel->rodata->floor_only = value != 0;
    else if (name == "sample_every") skel->rodata->sample_every = static_cast<uint32_t>(value);
    else {
      unknown = name;
      user_alloc__destroy(skel);
      return -EINVAL;
    }
  }
  int err = apply_max_entries(skel->obj, options, unknown);
  if (!err) err = user_alloc__load(skel);
  if (err) {
    user_alloc__destroy(skel);
    return err;
  }
  out.obj = skel->obj;
  out.destroy = [skel] { user_alloc__destroy(skel); };
  return 0;
}

}  // namespace leakhound
