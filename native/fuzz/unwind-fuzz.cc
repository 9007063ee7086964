// libFuzzer entry: each input is an ELF file whose CFI becomes an unwind
// table, read from memory as libelf reads a file. Whatever the bytes, the
// rows ascend and the page index points only at rows.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "../unwind-table.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool libelf_ready = elf_version(EV_CURRENT) != EV_NONE;
  if (!libelf_ready) abort();
  // libelf may write to the image it is given: a copy, not the input.
  std::vector<char> image(data, data + size);
  Elf* elf = elf_memory(image.data(), image.size());
  if (!elf) return 0;
  leakhound::UnwindTable table = leakhound::build_unwind_table(elf, size);
  elf_end(elf);
  for (size_t i = 1; i < table.rows.size(); ++i)
    if (table.rows[i - 1].start >= table.rows[i].start) abort();
  for (const lh_unwind_page& page : table.pages)
    if (page.count > 0 && (page.first >= table.rows.size() || page.count > table.rows.size() - page.first)) abort();
  return 0;
}
