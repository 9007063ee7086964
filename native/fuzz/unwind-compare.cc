// The addon's unwind tables against the reference derivation (libdw's
// dwarf_cfi_addrframe row by row, unwind-reference.cc) over whole objects:
// rows, pages and counts must be identical. `unwind-compare FILE...` prints
// one line per file with both times; exits 1 at the first difference.
// `unwind-compare --only=new|reference FILE...` builds with one alone (to
// count what one costs, e.g. its mallocs under a preloaded counter).
#include <chrono>
#include <cstdio>
#include <cstring>

#include "../elf-core.h"
#include "unwind-reference.h"

namespace {

const char* only = nullptr;

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

template <typename T>
size_t first_difference(const std::vector<T>& a, const std::vector<T>& b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && memcmp(&a[i], &b[i], sizeof(T)) == 0) ++i;
  return i;
}

bool compare(const char* path) {
  leakhound::UnwindTable table, reference;
  double built = 0, referenced = 0;
  leakhound::read_elf_file(path, [&](Elf* elf, uint64_t size) {
    auto start = std::chrono::steady_clock::now();
    if (!only || strcmp(only, "new") == 0) table = leakhound::build_unwind_table(elf, size);
    built = ms_since(start);
    start = std::chrono::steady_clock::now();
    if (!only || strcmp(only, "reference") == 0) reference = leakhound::reference::build_unwind_table(elf, size);
    referenced = ms_since(start);
  });
  if (only) {
    printf("%s: %.1f ms\n", path, built + referenced);
    return true;
  }
  size_t row = first_difference(table.rows, reference.rows);
  size_t page = first_difference(table.pages, reference.pages);
  bool same = row == table.rows.size() && row == reference.rows.size() && page == table.pages.size() &&
              page == reference.pages.size() && table.fdes == reference.fdes &&
              table.unsupported_rows == reference.unsupported_rows;
  printf("%s %s: %zu rows, %zu pages, %zu FDEs, %zu unsupported; %.1f ms (reference %.1f ms)\n",
         same ? "same" : "DIFFERENT", path, table.rows.size(), table.pages.size(), table.fdes,
         table.unsupported_rows, built, referenced);
  if (!same) {
    printf("  reference: %zu rows, %zu pages, %zu FDEs, %zu unsupported\n", reference.rows.size(),
           reference.pages.size(), reference.fdes, reference.unsupported_rows);
    for (size_t i = row > 2 ? row - 2 : 0; i < row + 3; ++i) {
      auto print = [](const char* who, const std::vector<lh_unwind_row>& rows, size_t i) {
        if (i < rows.size())
          printf("  %s row %zu: start 0x%x rule %u offset %d rbp %d\n", who, i, rows[i].start, rows[i].cfa_rule,
                 rows[i].cfa_offset, rows[i].rbp_offset);
      };
      print("new", table.rows, i);
      print("ref", reference.rows, i);
    }
  }
  return same;
}

}  // namespace

int main(int argc, char** argv) {
  if (elf_version(EV_CURRENT) == EV_NONE) return 2;
  int i = 1;
  if (argc > 1 && strncmp(argv[1], "--only=", 7) == 0) only = argv[i++] + 7;
  for (; i < argc; ++i) {
    try {
      if (!compare(argv[i])) return 1;
    } catch (const std::exception& error) {
      printf("skipped %s: %s\n", argv[i], error.what());
    }
  }
  return 0;
}
