// The unwindTable export: native/unwind-table's rows for JavaScript to load
// into the BPF maps.
#pragma once

#include <napi.h>

namespace leakhound {

void init_unwind_table(Napi::Env env, Napi::Object exports);

}  // namespace leakhound
