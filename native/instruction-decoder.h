// x86-64 instructions of functions, decoded by Capstone, so TypeScript can
// choose probe addresses the kernel emulates instead of single-stepping, and
// tell the objects that keep frame pointers by their functions' prologues.
#pragma once

#include <napi.h>

namespace leakhound {

void init_instruction_decoder(Napi::Env env, Napi::Object exports);

}  // namespace leakhound
