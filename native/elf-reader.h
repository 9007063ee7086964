// ELF and DWARF of binaries leakhound did not build, read through elfutils:
// symbol offsets for probe placement, and address -> function/file/line.
#pragma once

#include <napi.h>

namespace leakhound {

void init_elf_reader(Napi::Env env, Napi::Object exports);

}  // namespace leakhound
