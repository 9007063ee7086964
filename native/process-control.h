// Starting a command so that probes can be attached before its allocator
// runs, and reaping it. Never used on a process leakhound did not start.
#pragma once

#include <napi.h>

namespace leakhound {

void init_process_control(Napi::Env env, Napi::Object exports);

}  // namespace leakhound
