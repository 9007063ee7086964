// Inlined calls, each its own frame: at an address inside inlined code the
// line table gives the innermost inlined function's line, the ELF symbol the
// function it was all inlined into, and the DWARF tree the calls in between
// (DW_TAG_inlined_subroutine, each with the site its caller called it from).
// Collected once per compilation unit, because asking libdw for the scopes of
// every address walks the unit's DIE tree every time (2 s for 10,000
// addresses in libc). Header-only: no build wiring of its own.
#pragma once

#include <dwarf.h>
#include <elfutils/libdw.h>

#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace leakhound {

// One inlined call: which function was inlined, and where its caller called
// it. Strings are owned by libdw: valid until dwarf_end.
struct InlinedCall {
  const char* name;  // linkage name where there is one, else the plain name; may be null
  const char* file;  // of the call site; may be null
  Dwarf_Word line;   // of the call site; 0 when unknown
};

class InlinedCalls {
 public:
  // The calls inlined at `address` in `cu`, outermost first: empty outside
  // inlined code.
  std::vector<const InlinedCall*> at(Dwarf_Die* cu, Dwarf_Addr address) {
    auto [unit, fresh] = by_unit_.try_emplace(dwarf_dieoffset(cu));
    if (fresh) unit->second = collect(cu);
    const Unit& calls = unit->second;
    std::vector<const InlinedCall*> chain;
    // A call's spans hold only calls collected after it, so this ends.
    for (const std::vector<Span>* spans = &calls.outermost; !spans->empty();) {
      auto above = std::upper_bound(spans->begin(), spans->end(), address,
                                    [](Dwarf_Addr a, const Span& span) { return a < span.low; });
      if (above == spans->begin() || address >= (above - 1)->high) break;
      uint32_t call = (above - 1)->call;
      chain.push_back(&calls.calls[call]);
      spans = &calls.inside[call];
    }
    return chain;
  }

 private:
  struct Span {
    Dwarf_Addr low;  // DWARF addresses, [low, high)
    Dwarf_Addr high;
    uint32_t call;
  };

  struct Unit {
    std::vector<InlinedCall> calls;
    std::vector<Span> outermost;           // of the calls not inside another
    std::vector<std::vector<Span>> inside;  // per call: of the calls directly inside it
  };

  static constexpr uint32_t kNone = UINT32_MAX;

  static Unit collect(Dwarf_Die* cu) {
    Unit unit;
    Dwarf_Files* files = nullptr;
    size_t file_count = 0;
    if (dwarf_getsrcfiles(cu, &files, &file_count) != 0) files = nullptr;
    // Depth-first in file order, with a stack of our own: corrupt DWARF can
    // nest deeper than the call stack allows, and a sibling link pointing
    // backwards would loop, so offsets must only grow. Each DIE carries the
    // inlined call it lies in (kNone: none).
    struct Pending {
      Dwarf_Die die;
      uint32_t within;
    };
    std::vector<Pending> pending;
    Dwarf_Die next;
    if (dwarf_child(cu, &next) == 0) pending.push_back({next, kNone});
    Dwarf_Off last = dwarf_dieoffset(cu);
    while (!pending.empty()) {
      auto [die, within] = pending.back();
      pending.pop_back();
      if (dwarf_dieoffset(&die) <= last) continue;
      last = dwarf_dieoffset(&die);
      if (dwarf_siblingof(&die, &next) == 0) pending.push_back({next, within});
      uint32_t holder = within;
      if (dwarf_tag(&die) == DW_TAG_inlined_subroutine) {
        holder = add(die, files, unit, within);
        if (holder == kNone) continue;  // no code of its own: nothing inside can be reached
      }
      if (dwarf_child(&die, &next) == 0) pending.push_back({next, holder});
    }
    auto by_low = [](const Span& a, const Span& b) { return a.low < b.low; };
    std::sort(unit.outermost.begin(), unit.outermost.end(), by_low);
    for (std::vector<Span>& spans : unit.inside) std::sort(spans.begin(), spans.end(), by_low);
    return unit;
  }

  // The call's index, or kNone when it covers no address.
  static uint32_t add(Dwarf_Die& die, Dwarf_Files* files, Unit& unit, uint32_t within) {
    if (unit.calls.size() >= kNone) return kNone;
    uint32_t call = static_cast<uint32_t>(unit.calls.size());
    std::vector<Span> spans;
    Dwarf_Addr base = 0, low = 0, high = 0;
    for (ptrdiff_t at = 0; (at = dwarf_ranges(&die, at, &base, &low, &high)) > 0;) {
      if (low < high) spans.push_back({low, high, call});
    }
    if (spans.empty()) return kNone;
    Dwarf_Attribute attribute;
    Dwarf_Word file_index = 0, line = 0;
    const char* file = nullptr;
    if (files && dwarf_formudata(dwarf_attr(&die, DW_AT_call_file, &attribute), &file_index) == 0)
      file = dwarf_filesrc(files, file_index, nullptr, nullptr);
    if (dwarf_formudata(dwarf_attr(&die, DW_AT_call_line, &attribute), &line) != 0) line = 0;
    unit.calls.push_back({name_of(die), file, line});
    unit.inside.emplace_back();
    std::vector<Span>& holder = within == kNone ? unit.outermost : unit.inside[within];
    holder.insert(holder.end(), spans.begin(), spans.end());
    return call;
  }

  // Through DW_AT_abstract_origin (and DW_AT_specification) to the function's
  // own DIE: the linkage name qualifies a C++ name, as the ELF symbol does.
  static const char* name_of(Dwarf_Die& die) {
    Dwarf_Attribute attribute;
    for (int name : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name, DW_AT_name}) {
      if (const char* text = dwarf_formstring(dwarf_attr_integrate(&die, name, &attribute)))
        return text;
    }
    return nullptr;
  }

  std::unordered_map<Dwarf_Off, Unit> by_unit_;
};

}  // namespace leakhound
