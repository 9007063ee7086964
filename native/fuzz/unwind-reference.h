// The reference derivation of unwind rows (libdw, row by row), for tests.
#pragma once

#include "../unwind-table.h"

namespace leakhound::reference {

UnwindTable build_unwind_table(Elf* elf, uint64_t file_size);

}  // namespace leakhound::reference
