// What the running kernel offers leakhound's BPF programs, probed with
// libbpf, never assumed from a version number.
#pragma once

#include <napi.h>

namespace leakhound {

void init_kernel_features(Napi::Env env, Napi::Object exports);

}  // namespace leakhound
