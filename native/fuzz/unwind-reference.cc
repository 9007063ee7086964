// The unwind table as the addon built it before native/unwind-table.cc
// interpreted CFI itself: libdw's dwarf_cfi_addrframe for every row, which
// replays the FDE from its start each time. Kept only as the reference the
// comparison (unwind-compare.cc) holds the addon's rows to; not shipped.
#include "unwind-reference.h"

#include <dwarf.h>
#include <elfutils/libdw.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>

#include "../eh-frame-hdr.h"
#include "../elf-core.h"

namespace leakhound {
namespace reference {
namespace {

// x86-64's DWARF register numbers.
constexpr int kRbp = 6;
constexpr int kRsp = 7;
constexpr int kReturnAddress = 16;

// A table this long is a hostile file, not a program: cc1plus, among the
// largest, has under 1M rows.
constexpr size_t kMaxRows = 32u << 20;
constexpr size_t kMaxFdes = 8u << 20;
// Rows are 32-bit file offsets.
constexpr uint64_t kMaxOffset = UINT32_MAX;
// CFI bytes libdw may interpret per object (see Budget): per byte of the
// section, at least and at most. cc1plus needs about 100 per byte.
constexpr uint64_t kBudgetPerByte = 1024;
constexpr uint64_t kMinBudget = 1ULL << 28;
constexpr uint64_t kMaxBudget = 1ULL << 34;
constexpr uint64_t kPageSize = 1ULL << LH_UNWIND_PAGE_SHIFT;

// The kernel's rt_sigframe on x86-64 holds the interrupted rsp 160 bytes
// above the signal frame's rsp (uc_mcontext.rsp): glibc's __restore_rt says
// so as its CFA.
constexpr Dwarf_Word kSigframeRsp = 160;

struct Segment {
  uint64_t vaddr;
  uint64_t offset;
  uint64_t size;
};

// Executable PT_LOADs' file-backed bytes, within the file and 32-bit
// offsets: code is only ever there.
std::vector<Segment> code_segments(Elf* elf, uint64_t file_size) {
  std::vector<Segment> segments;
  size_t count = 0;
  if (elf_getphdrnum(elf, &count) != 0) return segments;
  uint64_t limit = std::min(file_size, kMaxOffset);
  for (size_t i = 0; i < count && i < 4096; ++i) {
    GElf_Phdr phdr;
    if (!gelf_getphdr(elf, static_cast<int>(i), &phdr)) break;
    if (phdr.p_type != PT_LOAD || !(phdr.p_flags & PF_X) || phdr.p_offset >= limit) continue;
    uint64_t size = std::min<uint64_t>(phdr.p_filesz, limit - phdr.p_offset);
    if (size > 0) segments.push_back({phdr.p_vaddr, phdr.p_offset, size});
  }
  return segments;
}

// The rule of one CFI row, as the BPF side reads it.
struct Rule {
  uint8_t cfa_rule = LH_CFA_UNKNOWN;
  int16_t cfa_offset = 0;
  int8_t rbp_offset = LH_RBP_LOST;

  bool operator==(const Rule& other) const {
    return cfa_rule == other.cfa_rule && cfa_offset == other.cfa_offset && rbp_offset == other.rbp_offset;
  }
};

constexpr Rule kUnknown{};

bool is_op(const Dwarf_Op& op, uint8_t atom, Dwarf_Word number) { return op.atom == atom && op.number == number; }

// The lazy-binding PLT's CFA: rsp + 8, and 16 once its push has run (rip &
// 15 at or past 11, or 10 in the variant with longer jumps).
bool is_plt_expression(const Dwarf_Op* ops, size_t count) {
  return count == 9 && is_op(ops[0], DW_OP_breg7, 8) && is_op(ops[1], DW_OP_breg16, 0) &&
         ops[2].atom == DW_OP_lit15 && ops[3].atom == DW_OP_and &&
         (ops[4].atom == DW_OP_lit11 || ops[4].atom == DW_OP_lit10) && ops[5].atom == DW_OP_ge &&
         ops[6].atom == DW_OP_lit3 && ops[7].atom == DW_OP_shl && ops[8].atom == DW_OP_plus;
}

bool is_sigframe_expression(const Dwarf_Op* ops, size_t count) {
  return count == 2 && is_op(ops[0], DW_OP_breg7, kSigframeRsp) && ops[1].atom == DW_OP_deref;
}

// Where a register was saved, as an offset from the CFA: the ops libdw gives
// for DW_CFA_offset and kin.
std::optional<int64_t> saved_at(const Dwarf_Op* ops, size_t count) {
  if (count == 1 && ops[0].atom == DW_OP_call_frame_cfa) return 0;
  if (count == 2 && ops[0].atom == DW_OP_call_frame_cfa && ops[1].atom == DW_OP_plus_uconst)
    return static_cast<int64_t>(ops[1].number);
  return std::nullopt;
}

// Unknown unless the caller's rip is at CFA - 8, as every x86-64 call leaves
// it, or the row is the kernel's signal frame.
Rule translate(Dwarf_Frame* frame, bool signal) {
  Dwarf_Op memory[3];
  Dwarf_Op* ops = nullptr;
  size_t count = 0;
  if (signal) {
    // The registers, rip among them, come from the frame's ucontext (the
    // row names each one's place there): the BPF side knows that layout.
    bool sigframe = dwarf_frame_cfa(frame, &ops, &count) == 0 && is_sigframe_expression(ops, count);
    return sigframe ? Rule{LH_CFA_SIGNAL, 0, LH_RBP_UNCHANGED} : kUnknown;
  }
  if (dwarf_frame_register(frame, kReturnAddress, memory, &ops, &count) != 0) return kUnknown;
  if (count == 0 && ops) return {LH_CFA_END, 0, LH_RBP_UNCHANGED};  // undefined: the outermost frame
  std::optional<int64_t> return_address = saved_at(ops, count);
  if (!ops || return_address != -8) return kUnknown;

  Rule rule;
  if (dwarf_frame_register(frame, kRbp, memory, &ops, &count) == 0) {
    if (count == 0 && !ops) {
      rule.rbp_offset = LH_RBP_UNCHANGED;
    } else if (std::optional<int64_t> at = ops ? saved_at(ops, count) : std::nullopt;
               at && *at % 8 == 0 && *at / 8 > LH_RBP_LOST && *at / 8 <= INT8_MAX) {
      rule.rbp_offset = static_cast<int8_t>(*at / 8);
    }
  }

  if (dwarf_frame_cfa(frame, &ops, &count) != 0 || count == 0) return kUnknown;
  if (is_plt_expression(ops, count)) {
    rule.cfa_rule = LH_CFA_PLT;
    rule.cfa_offset = 1;
    return rule;
  }
  // DW_CFA_def_cfa and kin: DW_OP_bregx, register in number, offset in number2.
  if (count != 1 || ops[0].atom != DW_OP_bregx || (ops[0].number != kRsp && ops[0].number != kRbp))
    return kUnknown;
  int64_t offset = static_cast<int64_t>(ops[0].number2);
  if (offset % 8 != 0 || offset / 8 < INT16_MIN || offset / 8 > INT16_MAX) return kUnknown;
  rule.cfa_rule = ops[0].number == kRsp ? LH_CFA_RSP : LH_CFA_RBP;
  rule.cfa_offset = static_cast<int16_t>(offset / 8);
  return rule;
}

// Rows in file offsets, merged as they come.
class RowWriter {
 public:
  explicit RowWriter(UnwindTable& table) : table_(table) {}

  bool full() const { return table_.rows.size() >= kMaxRows; }

  void add(uint64_t offset, const Rule& rule) {
    std::vector<lh_unwind_row>& rows = table_.rows;
    if (!rows.empty() && rows.back().start == offset) {
      rows.pop_back();  // an empty range: the later rule holds
    }
    if (!rows.empty() && rows.back().start > offset) return;  // out of order: a hostile file
    if (!rows.empty() && same_rule(rows.back(), rule)) return;
    if (full()) return;
    rows.push_back({static_cast<__u32>(offset), rule.cfa_offset, rule.cfa_rule, rule.rbp_offset});
  }

 private:
  static bool same_rule(const lh_unwind_row& row, const Rule& rule) {
    return row.cfa_rule == rule.cfa_rule && row.cfa_offset == rule.cfa_offset && row.rbp_offset == rule.rbp_offset;
  }

  UnwindTable& table_;
};

// One FDE: the code it covers, [start, start + size), and the length of its
// entry, which bounds what reading one of its rows costs.
struct Fde {
  uint64_t start;
  uint64_t size;
  uint64_t length;
};

// The CFI section the rows come from, as dwarf_next_cfi reads it.
struct CfiSection {
  Elf_Data* data = nullptr;
  uint64_t vaddr = 0;
  bool eh_frame = true;
};

// How a CIE's FDEs encode their addresses: .eh_frame says so in the
// augmentation ('R'), .debug_frame always uses plain 8-byte addresses.
std::optional<uint8_t> address_encoding(const Dwarf_CIE& cie, bool eh_frame) {
  constexpr uint8_t kAbsolute8 = 0x04;  // DW_EH_PE_udata8
  if (!eh_frame) return kAbsolute8;
  const char* augmentation = cie.augmentation;
  if (!augmentation || augmentation[0] != 'z') return augmentation && !*augmentation ? std::optional<uint8_t>(0) : std::nullopt;
  const uint8_t* data = cie.augmentation_data;
  size_t size = cie.augmentation_data_size, at = 0;
  for (const char* letter = augmentation + 1; *letter && data; ++letter) {
    switch (*letter) {
      case 'L': ++at; break;  // the LSDA's encoding
      case 'P': {             // the personality routine: its encoding, then the pointer
        if (at >= size) return std::nullopt;
        uint64_t ignored = 0;
        size_t length = 0;
        if (!decode_eh_pointer(data, size, at + 1, data[at] & 0x7f, 0, &ignored, &length)) return std::nullopt;
        at += 1 + length;
        break;
      }
      case 'R': return at < size ? std::optional<uint8_t>(data[at]) : std::nullopt;
      case 'S': case 'B': break;
      default: return std::nullopt;  // what follows cannot be found
    }
  }
  return 0;  // DW_EH_PE_absptr
}

// Every FDE of the section, sorted by start and distinct; an entry that
// cannot be read is skipped when libdw can step over it, else the rest is.
std::vector<Fde> read_fdes(Elf* elf, const CfiSection& section) {
  std::vector<Fde> fdes;
  const unsigned char* ident = reinterpret_cast<const unsigned char*>(elf_getident(elf, nullptr));
  if (!ident || !section.data || !section.data->d_buf) return fdes;
  const uint8_t* bytes = static_cast<const uint8_t*>(section.data->d_buf);
  size_t size = section.data->d_size;
  std::vector<std::pair<Dwarf_Off, std::optional<uint8_t>>> cies;  // in section order
  Dwarf_Off offset = 0, next = 0;
  while (fdes.size() < kMaxFdes && offset < size) {
    Dwarf_CFI_Entry entry;
    int result = dwarf_next_cfi(ident, section.data, section.eh_frame, offset, &next, &entry);
    if (result == 1 || (result != 0 && next <= offset)) break;
    Dwarf_Off at = offset;
    offset = next;
    if (result != 0) continue;
    if (dwarf_cfi_cie_p(&entry)) {
      if (cies.size() < kMaxFdes) cies.push_back({at, address_encoding(entry.cie, section.eh_frame)});
      continue;
    }
    auto cie = std::lower_bound(cies.begin(), cies.end(), std::make_pair(entry.fde.CIE_pointer, std::optional<uint8_t>()),
                                [](const auto& a, const auto& b) { return a.first < b.first; });
    if (cie == cies.end() || cie->first != entry.fde.CIE_pointer || !cie->second) continue;
    uint8_t encoding = *cie->second;
    size_t field = entry.fde.start - bytes, length = 0;
    uint64_t start = 0, range = 0;
    if (!decode_eh_pointer(bytes, size, field, encoding, section.vaddr, &start, &length) ||
        !decode_eh_pointer(bytes, size, field + length, encoding & 0x0f, 0, &range, &length) || range == 0)
      continue;
    fdes.push_back({start, range, static_cast<uint64_t>(entry.fde.end - entry.fde.start)});
  }
  std::sort(fdes.begin(), fdes.end(), [](const Fde& a, const Fde& b) { return a.start < b.start; });
  fdes.erase(std::unique(fdes.begin(), fdes.end(), [](const Fde& a, const Fde& b) { return a.start == b.start; }),
             fdes.end());
  return fdes;
}

using FramePtr = std::unique_ptr<Dwarf_Frame, decltype(&free)>;

// libdw interprets an FDE from its start for each row asked of it: a row
// costs up to the FDE's length. What one object may cost in all, in bytes
// of CFI interpreted; the largest real objects need a fraction of it.
class Budget {
 public:
  explicit Budget(uint64_t bytes) : left_(bytes) {}
  bool spend(uint64_t bytes) {
    left_ = bytes < left_ ? left_ - bytes : 0;
    return left_ > 0;
  }
  bool spent() const { return left_ == 0; }

 private:
  uint64_t left_;
};

// The rows of one segment: each FDE's, row by row, up to its end or the
// next FDE's start; a range no FDE covers is unknown.
void segment_rows(Dwarf_CFI* cfi, const Segment& segment, const std::vector<Fde>& fdes, Budget& budget,
                  UnwindTable& table, RowWriter& writer) {
  uint64_t end = segment.vaddr + segment.size;
  auto offset = [&](uint64_t vaddr) { return segment.offset + (vaddr - segment.vaddr); };
  auto first = std::lower_bound(fdes.begin(), fdes.end(), segment.vaddr,
                                [](const Fde& fde, uint64_t vaddr) { return fde.start < vaddr; });
  for (auto it = first; it != fdes.end() && it->start < end && !writer.full() && !budget.spent(); ++it) {
    uint64_t limit = std::min({it + 1 != fdes.end() ? (it + 1)->start : end, end,
                               it->start + std::min(it->size, end - it->start)});
    uint64_t pc = it->start;
    ++table.fdes;
    while (pc < limit && !writer.full() && budget.spend(it->length + 64)) {
      Dwarf_Frame* raw = nullptr;
      if (dwarf_cfi_addrframe(cfi, pc, &raw) != 0) break;
      FramePtr frame(raw, free);
      Dwarf_Addr from = 0, to = 0;
      bool signal = false;
      int return_register = dwarf_frame_info(frame.get(), &from, &to, &signal);
      // A row that does not move on would loop: a malformed FDE.
      if (to <= pc) break;
      Rule rule = return_register == kReturnAddress ? translate(frame.get(), signal) : kUnknown;
      if (rule == kUnknown) ++table.unsupported_rows;
      writer.add(offset(pc), rule);
      pc = to;
    }
    // Past the FDE's end (or what could be read of it), nothing is known.
    if (pc < end) writer.add(offset(pc), kUnknown);
  }
  writer.add(offset(end), kUnknown);
}

Elf_Scn* section_named(Elf* elf, const char* name) {
  size_t names = 0;
  if (elf_getshdrstrndx(elf, &names) != 0) return nullptr;
  for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn; scn = elf_nextscn(elf, scn)) {
    GElf_Shdr shdr;
    if (!gelf_getshdr(scn, &shdr) || shdr.sh_type == SHT_NOBITS) continue;
    const char* found = elf_strptr(elf, names, shdr.sh_name);
    if (found && strcmp(found, name) == 0) return scn;
  }
  return nullptr;
}

CfiSection cfi_section(Elf* elf, const char* name, bool eh_frame) {
  CfiSection section;
  section.eh_frame = eh_frame;
  Elf_Scn* scn = section_named(elf, name);
  GElf_Shdr shdr;
  if (!scn || !gelf_getshdr(scn, &shdr)) return section;
  section.data = elf_getdata(scn, nullptr);
  section.vaddr = shdr.sh_addr;
  return section;
}

}  // namespace

UnwindTable build_unwind_table(Elf* elf, uint64_t file_size) {
  UnwindTable table;
  std::vector<Segment> segments = code_segments(elf, file_size);
  std::sort(segments.begin(), segments.end(),
            [](const Segment& a, const Segment& b) { return a.offset < b.offset; });
  // .eh_frame is what the loaded program has; .debug_frame only where the
  // object was built without it.
  CfiSection section = cfi_section(elf, ".eh_frame", true);
  Dwarf* dwarf = nullptr;
  Dwarf_CFI* cfi = nullptr;
  if (section.data) {
    cfi = dwarf_getcfi_elf(elf);
  } else if ((section = cfi_section(elf, ".debug_frame", false)).data &&
             (dwarf = dwarf_begin_elf(elf, DWARF_C_READ, nullptr))) {
    cfi = dwarf_getcfi(dwarf);  // owned by dwarf
  }
  if (cfi) {
    std::vector<Fde> fdes = read_fdes(elf, section);
    Budget budget(std::clamp<uint64_t>(kBudgetPerByte * section.data->d_size, kMinBudget, kMaxBudget));
    RowWriter writer(table);
    for (const Segment& segment : segments) segment_rows(cfi, segment, fdes, budget, table, writer);
  }
  if (dwarf) dwarf_end(dwarf);
  else if (cfi) dwarf_cfi_end(cfi);
  uint64_t end = segments.empty() ? 0 : segments.back().offset + segments.back().size;
  table.pages = unwind_pages(table.rows, end);
  return table;
}

}  // namespace reference
}  // namespace leakhound
