// Address -> function over a libdwfl module's symbol table, sorted once:
// libdwfl's own lookup scans the whole table on every call (about 1 ms per
// address in libc with its debug symbols). Header-only, so that it needs
// no build wiring of its own.
#pragma once

#include <elfutils/libdwfl.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

namespace leakhound {

struct FunctionSymbolAt {
  const char* name;  // owned by the module's ELF: valid until dwfl_end
  Dwarf_Addr start;
  Dwarf_Addr size;
};

class FunctionIndex {
 public:
  explicit FunctionIndex(Dwfl_Module* mod) {
    std::vector<Entry> entries;
    int count = dwfl_module_getsymtab(mod);
    for (int i = 1; i < count; ++i) {  // entry 0 is the null symbol
      GElf_Sym sym;
      GElf_Addr address = 0;
      GElf_Word section = 0;
      const char* name = dwfl_module_getsym_info(mod, i, &sym, &address, &section, nullptr, nullptr);
      int type = GELF_ST_TYPE(sym.st_info);
      // Section -1 is libdwfl's mark for a symbol in a section never loaded.
      if (!name || !*name || (type != STT_FUNC && type != STT_GNU_IFUNC) || section == SHN_UNDEF ||
          section == static_cast<GElf_Word>(-1))
        continue;
      entries.push_back({{name, address, sym.st_size}, badness(sym, name)});
    }
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
      return a.function.start != b.function.start ? a.function.start < b.function.start
                                                  : a.badness > b.badness;
    });
    Dwarf_Addr reach = 0;
    for (const Entry& entry : entries) {
      const FunctionSymbolAt& function = entry.function;
      Dwarf_Addr room = std::numeric_limits<Dwarf_Addr>::max() - function.start;
      reach = std::max(reach, function.start + std::min(function.size, room));
      functions_.push_back(function);
      reach_.push_back(reach);
    }
  }

  // The function containing `address` (or, for a symbol without a size,
  // the nearest one below it); nullptr when none does.
  const FunctionSymbolAt* find(Dwarf_Addr address) const {
    auto above = std::upper_bound(functions_.begin(), functions_.end(), address,
                                  [](Dwarf_Addr a, const FunctionSymbolAt& f) { return a < f.start; });
    size_t below = above - functions_.begin();
    for (size_t i = below; i-- > 0 && reach_[i] > address;) {
      if (address - functions_[i].start < functions_[i].size) return &functions_[i];
    }
    if (below > 0 && functions_[below - 1].size == 0) return &functions_[below - 1];
    return nullptr;
  }

 private:
  struct Entry {
    FunctionSymbolAt function;
    int badness;
  };

  // Of aliases at one address (malloc, __libc_malloc) show the public name:
  // global before weak before local, then fewer leading underscores, then
  // the shorter name. Lower is better.
  static int badness(const GElf_Sym& sym, const char* name) {
    int binding = GELF_ST_BIND(sym.st_info);
    int rank = binding == STB_GLOBAL ? 0 : binding == STB_WEAK ? 1 : 2;
    int underscores = static_cast<int>(std::min<size_t>(strspn(name, "_"), 99));
    int length = static_cast<int>(std::min<size_t>(strlen(name), 9'999));
    return rank * 1'000'000 + underscores * 10'000 + length;
  }

  // By start; where several names share a start, the one to show is last.
  std::vector<FunctionSymbolAt> functions_;
  // reach_[i]: the furthest end among functions_[0..i], so that a search
  // backwards for an enclosing function knows where to stop.
  std::vector<Dwarf_Addr> reach_;
};

}  // namespace leakhound
