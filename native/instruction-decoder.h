// x86-64 instructions of a function, decoded by Capstone, so TypeScript can
// choose probe addresses the kernel emulates instead of single-stepping.
#pragma once

#include <napi.h>

namespace leakhound {

void init_instruction_decoder(Napi::Env env, Napi::Object exports);

}  // namespace leakhound
