// Reading the registers of a thread of a stopped process, for the
// reachability scan's roots: any process, not only one leakhound started.
#pragma once

#include <napi.h>

namespace leakhound {

void init_thread_registers(Napi::Env env, Napi::Object exports);

}  // namespace leakhound
