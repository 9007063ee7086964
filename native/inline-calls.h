// Inside inlined code the line table gives the inlined callee's line, while
// the ELF symbol is the function it was inlined into: for a frame to agree
// with itself, its line is where that function made the outermost inlined
// call. Collected once per compilation unit, because asking libdw for the
// scopes of every address walks the unit's DIE tree every time (2 s for
// 10,000 addresses in libc). Header-only: no build wiring of its own.
#pragma once

#include <dwarf.h>
#include <elfutils/libdw.h>

#include <algorithm>
#include <unordered_map>
#include <vector>

namespace leakhound {

struct InlinedCall {
  Dwarf_Addr low;  // DWARF addresses, [low, high)
  Dwarf_Addr high;
  const char* file;  // owned by libdw: valid until dwarf_end
  Dwarf_Word line;
};

class InlinedCalls {
 public:
  // The outermost inlined call covering `address` in `cu`, or nullptr.
  const InlinedCall* find(Dwarf_Die* cu, Dwarf_Addr address) {
    auto [unit, fresh] = by_unit_.try_emplace(dwarf_dieoffset(cu));
    if (fresh) unit->second = collect(cu);
    const std::vector<InlinedCall>& calls = unit->second;
    auto above = std::upper_bound(calls.begin(), calls.end(), address,
                                  [](Dwarf_Addr a, const InlinedCall& call) { return a < call.low; });
    if (above == calls.begin() || address >= (above - 1)->high) return nullptr;
    return &*(above - 1);
  }

 private:
  static std::vector<InlinedCall> collect(Dwarf_Die* cu) {
    std::vector<InlinedCall> calls;
    Dwarf_Files* files = nullptr;
    size_t file_count = 0;
    if (dwarf_getsrcfiles(cu, &files, &file_count) != 0) return calls;
    // Depth-first in file order, with a stack of our own: corrupt DWARF can
    // nest deeper than the call stack allows, and a sibling link pointing
    // backwards would loop, so offsets must only grow.
    std::vector<Dwarf_Die> pending;
    Dwarf_Die next;
    if (dwarf_child(cu, &next) == 0) pending.push_back(next);
    Dwarf_Off last = dwarf_dieoffset(cu);
    while (!pending.empty()) {
      Dwarf_Die die = pending.back();
      pending.pop_back();
      if (dwarf_dieoffset(&die) <= last) continue;
      last = dwarf_dieoffset(&die);
      if (dwarf_siblingof(&die, &next) == 0) pending.push_back(next);
      if (dwarf_tag(&die) == DW_TAG_inlined_subroutine)
        add(die, files, calls);  // calls inlined into this one are not outermost
      else if (dwarf_child(&die, &next) == 0)
        pending.push_back(next);
    }
    std::sort(calls.begin(), calls.end(),
              [](const InlinedCall& a, const InlinedCall& b) { return a.low < b.low; });
    return calls;
  }

  static void add(Dwarf_Die& die, Dwarf_Files* files, std::vector<InlinedCall>& calls) {
    Dwarf_Attribute attribute;
    Dwarf_Word file_index = 0, line = 0;
    if (dwarf_formudata(dwarf_attr(&die, DW_AT_call_file, &attribute), &file_index) != 0 ||
        dwarf_formudata(dwarf_attr(&die, DW_AT_call_line, &attribute), &line) != 0 || line == 0)
      return;
    const char* file = dwarf_filesrc(files, file_index, nullptr, nullptr);
    if (!file) return;
    Dwarf_Addr base = 0, low = 0, high = 0;
    for (ptrdiff_t at = 0; (at = dwarf_ranges(&die, at, &base, &low, &high)) > 0;) {
      if (low < high) calls.push_back({low, high, file, line});
    }
  }

  std::unordered_map<Dwarf_Off, std::vector<InlinedCall>> by_unit_;
};

}  // namespace leakhound
