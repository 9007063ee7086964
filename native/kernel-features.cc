#include "kernel-features.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <cstring>

namespace leakhound {
namespace {

// libbpf's probes load a tiny program or map: 1 when the kernel took it.
bool map_type_loads(bpf_map_type type) { return libbpf_probe_bpf_map_type(type, nullptr) == 1; }
bool helper_available(bpf_prog_type type, bpf_func_id helper) {
  return libbpf_probe_bpf_helper(type, helper, nullptr) == 1;
}

bool has_func(const btf* vmlinux, const char* name) {
  return vmlinux && btf__find_by_name_kind(vmlinux, name, BTF_KIND_FUNC) > 0;
}

// A link or attach type exists when the kernel's own enum bpf_attach_type
// names it (this machine's uapi header may be older than the kernel).
bool has_attach_type(const btf* vmlinux, const char* name) {
  if (!vmlinux) return false;
  int id = btf__find_by_name_kind(vmlinux, "bpf_attach_type", BTF_KIND_ENUM);
  if (id <= 0) return false;
  const btf_type* type = btf__type_by_id(vmlinux, id);
  const struct btf_enum* values = btf_enum(type);
  for (int i = 0; i < btf_vlen(type); i++) {
    if (strcmp(btf__name_by_offset(vmlinux, values[i].name_off), name) == 0) return true;
  }
  return false;
}

// kernelFeatures(): each feature leakhound can use, true where this kernel has it.
Napi::Value KernelFeatures(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  btf* vmlinux = btf__load_vmlinux_btf();
  if (libbpf_get_error(vmlinux)) vmlinux = nullptr;
  Napi::Object out = Napi::Object::New(env);
  out.Set("btf", vmlinux != nullptr);
  out.Set("ringBuffer", map_type_loads(BPF_MAP_TYPE_RINGBUF));
  out.Set("taskStorage", map_type_loads(BPF_MAP_TYPE_TASK_STORAGE));
  out.Set("bpfLoop", helper_available(BPF_PROG_TYPE_KPROBE, BPF_FUNC_loop));
  out.Set("attachCookie", helper_available(BPF_PROG_TYPE_KPROBE, BPF_FUNC_get_attach_cookie));
  out.Set("rdonlyCast", has_func(vmlinux, "bpf_rdonly_cast"));
  out.Set("uprobeMulti", has_attach_type(vmlinux, "BPF_TRACE_UPROBE_MULTI"));
  btf__free(vmlinux);
  return out;
}

}  // namespace

void init_kernel_features(Napi::Env env, Napi::Object exports) {
  exports.Set("kernelFeatures", Napi::Function::New(env, KernelFeatures, "kernelFeatures"));
}

}  // namespace leakhound
