// An object's unwinding rules in the form the BPF unwinder reads (struct
// lh_unwind_row and lh_unwind_page of bpf/leakhound.h), derived from its
// .eh_frame (or .debug_frame): libdw walks its entries, the CFA programs are
// interpreted here, each FDE once. x86-64 only. No N-API: the
// fuzzer drives it as is.
#pragma once

#include <gelf.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../bpf/leakhound.h"

namespace leakhound {

struct UnwindTable {
  // Ascending and distinct by start (a file offset); each holds up to the
  // next one's start, the last to the end of its executable segment.
  std::vector<lh_unwind_row> rows;
  // One per 4 KiB of the file up to the end of its last executable segment.
  std::vector<lh_unwind_page> pages;
  size_t fdes = 0;
  // Rows of the CFI (before merging) with a rule the BPF side cannot
  // follow: they became LH_CFA_UNKNOWN.
  size_t unsupported_rows = 0;
};

// The table of the ELF file `elf`, `file_size` bytes long. A malformed file
// gives what could be read of it, possibly nothing; never throws ElfError.
UnwindTable build_unwind_table(Elf* elf, uint64_t file_size);

// build_unwind_table of the file at `path`. Throws ElfError when it cannot
// be opened or is not an ELF file.
UnwindTable read_unwind_table(const std::string& path);

// The page index over `rows` (as UnwindTable holds them) for file offsets
// [0, end): each page's rows are those a lookup inside it may need.
std::vector<lh_unwind_page> unwind_pages(const std::vector<lh_unwind_row>& rows, uint64_t end);

}  // namespace leakhound
