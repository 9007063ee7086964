// ELF and DWARF of binaries leakhound did not build, read through elfutils:
// symbol offsets for probe placement, and address -> function/file/line.
#pragma once

#include <napi.h>

#include "elf-core.h"
#include "errors.h"

namespace leakhound {

// Runs a read of a file through elf-core; a malformed or unreadable file
// becomes a JavaScript error with code ELF_INVALID.
template <typename Read>
auto reading_elf(Napi::Env env, Read read) -> decltype(read()) {
  try {
    return read();
  } catch (const ElfError& error) {
    throw_error(env, "ELF_INVALID", error.what(), error.err());
  }
}

void init_elf_reader(Napi::Env env, Napi::Object exports);

}  // namespace leakhound
