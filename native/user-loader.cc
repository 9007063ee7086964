#include "loaders.h"
#include "uprobe-multi.h"
#include "user-alloc.skel.h"

namespace leakhound {
namespace {

bool set_knob(user_alloc* skel, const std::string& name, uint64_t value) {
  if (name == "min_size") skel->rodata->min_size = value;
  else if (name == "max_size") skel->rodata->max_size = value;
  else if (name == "stack_depth") skel->rodata->stack_depth = static_cast<uint32_t>(value);
  else if (name == "page_size") skel->rodata->page_size = value;
  else if (name == "floor_only") skel->rodata->floor_only = value != 0;
  else if (name == "follow_children") skel->rodata->follow_children = value != 0;
  else if (name == "in_cgroup") skel->rodata->in_cgroup = value != 0;
  else if (name == "unwind") skel->rodata->unwind = value != 0;
  else if (name == "free_stacks") skel->rodata->free_stacks = value != 0;
  else if (name == "trace_fds") skel->rodata->trace_fds = value != 0;
  else if (name == "trace_mappings") skel->rodata->trace_mappings = value != 0;
  else if (name == "sample_every") skel->rodata->sample_every = static_cast<uint32_t>(value);
  else if (name == "phys_end") skel->rodata->phys_end = value;
  else if (name == "paging_levels") skel->rodata->paging_levels = static_cast<uint32_t>(value);
  else return false;
  return true;
}

void expect_uprobe_multi(user_alloc* skel) {
  bpf_program* program;
  bpf_object__for_each_program(program, skel->obj) {
    bpf_program__set_expected_attach_type(program, static_cast<bpf_attach_type>(kUprobeMultiAttachType));
  }
}

}  // namespace

// Programs meant for uprobe_multi links (kernel 6.6+, probed in TypeScript)
// say so at load; elsewhere they take one link per probe. Kernels before 6.6
// do not all refuse the unknown attach type at load: only the link fails.
int load_user_alloc(const LoadOptions& options, LoadedObject& out, std::string& unknown) {
  int err = load_skeleton(user_alloc__open, user_alloc__load, user_alloc__destroy, set_knob, options, out, unknown,
                          options.uprobe_multi ? expect_uprobe_multi : nullptr);
  out.uprobe_multi = err == 0 && options.uprobe_multi;
  return err;
}

}  // namespace leakhound
