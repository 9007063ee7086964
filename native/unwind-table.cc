#include "unwind-table.h"

#include <dwarf.h>
#include <elfutils/libdw.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "eh-frame-hdr.h"
#include "elf-core.h"

namespace leakhound {
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
constexpr uint64_t kPageSize = 1ULL << LH_UNWIND_PAGE_SHIFT;

// The kernel's rt_sigframe on x86-64 holds the interrupted rsp 160 bytes
// above the signal frame's rsp (uc_mcontext.rsp): glibc's __restore_rt says
// so as its CFA.
constexpr uint64_t kSigframeRsp = 160;

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
// The return address is undefined: the process's or thread's first frame.
constexpr Rule kOutermost{LH_CFA_END, 0, LH_RBP_UNCHANGED};

// The CFI section the rows come from, as dwarf_next_cfi reads it. Every
// read of CFI below stays within [begin, end).
struct CfiSection {
  Elf_Data* data = nullptr;
  uint64_t vaddr = 0;
  bool eh_frame = true;
  const uint8_t* begin = nullptr;
  const uint8_t* end = nullptr;
  bool big_endian = false;
  bool aarch64 = false;  // DW_CFA_GNU_window_save means nothing there
};

// LEB128 as libdw reads CFI, so that malformed programs read alike: the
// first byte whatever `end` says, then at most 10 (signed: 9, and one more
// where it fits) and none at or past `end`; unterminated: the type's
// maximum. False only where a byte would lie past the section (`limit`).
bool read_uleb(const uint8_t*& p, const uint8_t* end, const uint8_t* limit, uint64_t& value) {
  if (p >= limit) return false;
  size_t max = p < end ? std::min<size_t>(10, end - p) : 0;
  value = 0;
  for (size_t i = 0;; ++i) {
    uint8_t byte = *p++;
    value |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if (!(byte & 0x80)) return true;
    if (i + 1 >= max) break;
  }
  value = UINT64_MAX;
  return true;
}

bool read_sleb(const uint8_t*& p, const uint8_t* end, const uint8_t* limit, int64_t& value) {
  if (p >= limit) return false;
  size_t max = p < end ? std::min<size_t>(9, end - p) : 0;
  uint64_t bits = 0;
  for (size_t i = 0;; ++i) {
    uint8_t byte = *p++;
    bits |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if (!(byte & 0x80)) {
      if (byte & 0x40) bits |= -(static_cast<uint64_t>(1) << (7 * (i + 1)));
      value = static_cast<int64_t>(bits);
      return true;
    }
    if (i + 1 >= max) break;
  }
  value = INT64_MAX;
  if (p == end) return true;
  if (p >= limit) return false;
  uint8_t last = *p++;
  if (!(last & 0x80)) value = static_cast<int64_t>(bits | static_cast<uint64_t>(last) << (7 * max));
  return true;
}

uint64_t read_fixed(const uint8_t*& p, size_t size, bool big_endian) {
  uint64_t value = 0;
  for (size_t i = 0; i < size; ++i)
    value |= static_cast<uint64_t>(p[i]) << (8 * (big_endian ? size - 1 - i : i));
  p += size;
  return value;
}

// One DWARF expression op, of the few the recognized expressions hold.
struct Op {
  uint8_t atom = 0;
  uint64_t number = 0;
  uint64_t number2 = 0;
};

constexpr size_t kMaxOps = 9;

// The ops of the expression at [at, at + size) in the section, or 0 where
// it holds an op none of the recognized expressions has, or too many.
size_t decode_ops(const CfiSection& section, uint64_t at, uint64_t size, Op (&ops)[kMaxOps]) {
  const uint8_t* p = section.begin + at;
  const uint8_t* end = p + size;
  size_t count = 0;
  while (p < end) {
    if (count == kMaxOps) return 0;
    Op& op = ops[count++];
    op = {*p++, 0, 0};
    int64_t signed_number = 0;
    if ((op.atom >= DW_OP_lit0 && op.atom <= DW_OP_lit31) || op.atom == DW_OP_and || op.atom == DW_OP_ge ||
        op.atom == DW_OP_shl || op.atom == DW_OP_plus || op.atom == DW_OP_deref) {
      continue;
    } else if (op.atom == DW_OP_plus_uconst) {
      if (!read_uleb(p, end, section.end, op.number)) return 0;
    } else if (op.atom >= DW_OP_breg0 && op.atom <= DW_OP_breg31) {
      if (!read_sleb(p, end, section.end, signed_number)) return 0;
      op.number = static_cast<uint64_t>(signed_number);
    } else if (op.atom == DW_OP_bregx) {
      if (!read_uleb(p, end, section.end, op.number) || p >= end || !read_sleb(p, end, section.end, signed_number))
        return 0;
      op.number2 = static_cast<uint64_t>(signed_number);
    } else {
      return 0;
    }
  }
  return count;
}

bool is_op(const Op& op, uint8_t atom, uint64_t number) { return op.atom == atom && op.number == number; }

// The lazy-binding PLT's CFA: rsp + 8, and 16 once its push has run (rip &
// 15 at or past 11, or 10 in the variant with longer jumps).
bool is_plt_expression(const Op* ops, size_t count) {
  return count == 9 && is_op(ops[0], DW_OP_breg7, 8) && is_op(ops[1], DW_OP_breg16, 0) &&
         ops[2].atom == DW_OP_lit15 && ops[3].atom == DW_OP_and &&
         (ops[4].atom == DW_OP_lit11 || ops[4].atom == DW_OP_lit10) && ops[5].atom == DW_OP_ge &&
         ops[6].atom == DW_OP_lit3 && ops[7].atom == DW_OP_shl && ops[8].atom == DW_OP_plus;
}

bool is_sigframe_expression(const Op* ops, size_t count) {
  return count == 2 && is_op(ops[0], DW_OP_breg7, kSigframeRsp) && ops[1].atom == DW_OP_deref;
}

// A register's rule in one row (DWARF 5, 6.4.1), as far as the rows need it.
enum class RegisterRule : uint8_t {
  kUnspecified,  // not mentioned: undefined on x86-64
  kUndefined,
  kSameValue,
  kOffset,       // saved at CFA + value
  kValOffset,
  kRegister,
  kExpression,   // saved at the address the expression at value (its bytes) computes from the CFA
  kValExpression,
};

struct Register {
  RegisterRule rule = RegisterRule::kUnspecified;
  int64_t value = 0;
  uint64_t size = 0;  // an expression's bytes
};

enum class CfaRule : uint8_t { kUndefined, kOffset, kExpression, kInvalid };

// What one row of the CFI says of the CFA, rbp and the return address.
struct FrameState {
  CfaRule cfa = CfaRule::kUndefined;
  uint64_t cfa_register = 0;
  uint64_t cfa_offset = 0;  // or where the CFA's expression starts
  uint64_t cfa_size = 0;    // its bytes
  Register rbp;
  Register return_address;
};

// Where a register was saved, as an offset from the CFA, when its rule says
// so plainly: offset(N), or an expression that only adds N to the CFA.
std::optional<int64_t> saved_at(const CfiSection& section, const Register& reg) {
  if (reg.rule == RegisterRule::kOffset) return reg.value;
  if (reg.rule != RegisterRule::kExpression || reg.size == 0) return std::nullopt;
  Op ops[kMaxOps];
  size_t count = decode_ops(section, reg.value, reg.size, ops);
  if (count != 1 || ops[0].atom != DW_OP_plus_uconst) return std::nullopt;
  return static_cast<int64_t>(ops[0].number);
}

// Unknown unless the caller's rip is at CFA - 8, as every x86-64 call leaves
// it, or the row is the kernel's signal frame.
Rule translate(const CfiSection& section, const FrameState& fs, bool signal) {
  Op ops[kMaxOps];
  if (signal) {
    // The registers, rip among them, come from the frame's ucontext (the
    // row names each one's place there): the BPF side knows that layout.
    bool sigframe = fs.cfa == CfaRule::kExpression &&
                    is_sigframe_expression(ops, decode_ops(section, fs.cfa_offset, fs.cfa_size, ops));
    return sigframe ? Rule{LH_CFA_SIGNAL, 0, LH_RBP_UNCHANGED} : kUnknown;
  }
  const Register& ra = fs.return_address;
  // Undefined (or never mentioned, or an empty expression): the outermost frame.
  if (ra.rule == RegisterRule::kUnspecified || ra.rule == RegisterRule::kUndefined ||
      (ra.rule == RegisterRule::kExpression && ra.size == 0))
    return kOutermost;
  if (saved_at(section, ra) != -8) return kUnknown;

  Rule rule;
  if (fs.rbp.rule == RegisterRule::kSameValue) {
    rule.rbp_offset = LH_RBP_UNCHANGED;
  } else if (std::optional<int64_t> at = saved_at(section, fs.rbp);
             at && *at % 8 == 0 && *at / 8 > LH_RBP_LOST && *at / 8 <= INT8_MAX) {
    rule.rbp_offset = static_cast<int8_t>(*at / 8);
  }

  uint64_t cfa_register = fs.cfa_register, cfa_offset = fs.cfa_offset;
  if (fs.cfa == CfaRule::kExpression) {
    size_t count = decode_ops(section, fs.cfa_offset, fs.cfa_size, ops);
    if (is_plt_expression(ops, count)) {
      rule.cfa_rule = LH_CFA_PLT;
      rule.cfa_offset = 1;
      return rule;
    }
    // An expression of one DW_OP_bregx says what DW_CFA_def_cfa says.
    if (count != 1 || ops[0].atom != DW_OP_bregx) return kUnknown;
    cfa_register = ops[0].number;
    cfa_offset = ops[0].number2;
  } else if (fs.cfa != CfaRule::kOffset) {
    return kUnknown;
  }
  if (cfa_register != kRsp && cfa_register != kRbp) return kUnknown;
  int64_t offset = static_cast<int64_t>(cfa_offset);
  if (offset % 8 != 0 || offset / 8 < INT16_MIN || offset / 8 > INT16_MAX) return kUnknown;
  rule.cfa_rule = cfa_register == kRsp ? LH_CFA_RSP : LH_CFA_RBP;
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

// A CIE as its FDEs need it: how they encode addresses (none: they cannot
// be read), its factors, and the row its initial instructions leave.
struct Cie {
  Dwarf_Off offset = 0;
  std::optional<uint8_t> encoding;
  uint64_t code_alignment = 0;
  int64_t data_alignment = 0;
  uint64_t return_register = 0;
  bool sized_augmentation = false;  // 'z': FDEs have self-sized augmentation data
  bool signal = false;              // 'S'
  bool initial_valid = false;       // the initial instructions could be run
  FrameState initial;
};

// One FDE: the code it covers, [start, start + size), its CIE (an index
// into the CIEs) and its instructions in the section, unless it cannot be
// interpreted at all.
struct Fde {
  uint64_t start;
  uint64_t size;
  uint32_t cie;
  bool readable;
  size_t instructions;
  size_t instructions_end;
};

// Runs CFA instructions (DWARF 5, 6.4.2) over a FrameState, for the rules
// of rbp, the return address and the CFA; every other register's are only
// checked. One pass, no allocation: remembered states live in a fixed stack.
class CfiProgram {
 public:
  CfiProgram(const CfiSection& section, const Cie& cie) : section_(section), cie_(cie) {}

  // The CIE's initial instructions: no row may start there, nor any
  // register be restored. False if they cannot be run.
  bool run_initial(size_t from, size_t to, FrameState& fs) {
    uint64_t loc = 0;
    return run(from, to, fs, loc, true, [](uint64_t) { return false; });
  }

  // An FDE's instructions from `fs` at `loc`: at each instruction that moves
  // loc, advanced(loc) with fs the row up to there, which returns false to
  // stop. False for a malformed program (or remembered states past the
  // stack's depth): what was advanced to holds, the rest is unknown.
  template <typename Advanced>
  bool run_fde(size_t from, size_t to, FrameState& fs, uint64_t loc, Advanced advanced) {
    return run(from, to, fs, loc, false, advanced);
  }

 private:
  static constexpr size_t kDepth = 16;
  // libdw's bound on register numbers, so that malformed programs fail alike.
  static constexpr uint64_t kRegisters = INT32_MAX / 8;

  bool set(FrameState& fs, uint64_t regno, RegisterRule rule, uint64_t value, uint64_t size = 0) {
    if (regno >= kRegisters) return false;
    // libdw keeps values in 61 bits.
    Register reg{rule, static_cast<int64_t>(value << 3) >> 3, size};
    if (regno == kRbp) fs.rbp = reg;
    else if (regno == kReturnAddress) fs.return_address = reg;
    return true;
  }

  bool restore(FrameState& fs, uint64_t regno, bool initial) {
    if (initial || regno >= kRegisters) return false;
    if (regno == kRbp) fs.rbp = cie_.initial.rbp;
    else if (regno == kReturnAddress) fs.return_address = cie_.initial.return_address;
    return true;
  }

  static void def_cfa(FrameState& fs, uint64_t regno, uint64_t offset) {
    fs.cfa = CfaRule::kOffset;
    fs.cfa_register = regno;
    fs.cfa_offset = offset;
  }

  static void require_cfa_offset(FrameState& fs) {
    if (fs.cfa != CfaRule::kOffset) fs.cfa = CfaRule::kInvalid;
  }

  template <typename Advanced>
  bool run(size_t from, size_t to, FrameState& fs, uint64_t loc, bool initial, Advanced advanced) {
    const uint8_t* limit = section_.end;
    const uint8_t* p = section_.begin + from;
    const uint8_t* end = section_.begin + to;
    const uint64_t data_alignment = static_cast<uint64_t>(cie_.data_alignment);
    FrameState stack[kDepth];
    size_t depth = 0;
    auto uleb = [&](uint64_t& value) { return read_uleb(p, end, limit, value); };
    auto sleb = [&](int64_t& value) { return read_sleb(p, end, limit, value); };
    auto fixed = [&](size_t size, uint64_t& value) {
      if (size > static_cast<size_t>(end - p)) return false;
      value = read_fixed(p, size, section_.big_endian);
      return true;
    };
    while (p < end) {
      uint8_t opcode = *p++;
      uint64_t regno = 0, operand = opcode & 0x3f, offset = 0;
      int64_t factored = 0;
      bool ok = true;
      switch (opcode & 0xc0) {
        case DW_CFA_advance_loc:
          loc += operand * cie_.code_alignment;
          break;
        case DW_CFA_offset:
          ok = uleb(offset) && set(fs, operand, RegisterRule::kOffset, offset * data_alignment);
          if (!ok) return false;
          continue;
        case DW_CFA_restore:
          if (!restore(fs, operand, initial)) return false;
          continue;
        default:
          switch (opcode) {
            case DW_CFA_set_loc: {
              size_t length = 0;
              ok = cie_.encoding && decode_eh_pointer(section_.begin, limit - section_.begin, p - section_.begin,
                                                      *cie_.encoding, section_.vaddr, &loc, &length);
              p += ok ? length : 0;
              break;
            }
            case DW_CFA_advance_loc1:
              ok = p < limit;
              if (ok) loc += *p++ * cie_.code_alignment;
              break;
            case DW_CFA_advance_loc2:
              ok = fixed(2, operand);
              loc += operand * cie_.code_alignment;
              break;
            case DW_CFA_advance_loc4:
              ok = fixed(4, operand);
              loc += operand * cie_.code_alignment;
              break;
            case DW_CFA_MIPS_advance_loc8:
              ok = fixed(8, operand);
              loc += operand * cie_.code_alignment;
              break;
            case DW_CFA_def_cfa:
              if (!uleb(regno) || p >= end || !uleb(offset)) return false;
              def_cfa(fs, regno, offset);
              continue;
            case DW_CFA_def_cfa_sf:
              if (!uleb(regno) || p >= end || !sleb(factored)) return false;
              def_cfa(fs, regno, static_cast<uint64_t>(factored) * data_alignment);
              continue;
            case DW_CFA_def_cfa_register:
              if (!uleb(regno)) return false;
              require_cfa_offset(fs);
              fs.cfa_register = regno;
              continue;
            case DW_CFA_def_cfa_offset:
            case DW_CFA_def_cfa_offset_sf:
              if (opcode == DW_CFA_def_cfa_offset ? !uleb(offset) : !sleb(factored)) return false;
              require_cfa_offset(fs);
              fs.cfa_offset = opcode == DW_CFA_def_cfa_offset ? offset : static_cast<uint64_t>(factored) * data_alignment;
              continue;
            case DW_CFA_def_cfa_expression:
              if (!uleb(operand) || p > end || operand > static_cast<uint64_t>(end - p)) return false;
              fs.cfa = CfaRule::kExpression;
              fs.cfa_offset = p - section_.begin;
              fs.cfa_size = operand;
              p += operand;
              continue;
            case DW_CFA_undefined:
            case DW_CFA_same_value:
              ok = uleb(regno) && set(fs, regno, opcode == DW_CFA_undefined ? RegisterRule::kUndefined
                                                                             : RegisterRule::kSameValue, 0);
              if (!ok) return false;
              continue;
            case DW_CFA_offset_extended:
              ok = uleb(regno) && p < end && uleb(offset) &&
                   set(fs, regno, RegisterRule::kOffset, offset * data_alignment);
              if (!ok) return false;
              continue;
            case DW_CFA_offset_extended_sf:
              ok = uleb(regno) && sleb(factored) &&
                   set(fs, regno, RegisterRule::kOffset, static_cast<uint64_t>(factored) * data_alignment);
              if (!ok) return false;
              continue;
            case DW_CFA_GNU_negative_offset_extended:
              ok = uleb(regno) && p < end && uleb(offset) &&
                   set(fs, regno, RegisterRule::kOffset, (0 - offset) * data_alignment);
              if (!ok) return false;
              continue;
            case DW_CFA_val_offset:
              ok = uleb(regno) && p < end && uleb(offset) &&
                   set(fs, regno, RegisterRule::kValOffset, offset * data_alignment);
              if (!ok) return false;
              continue;
            case DW_CFA_val_offset_sf:
              ok = uleb(regno) && p < end && sleb(factored) &&
                   set(fs, regno, RegisterRule::kValOffset, static_cast<uint64_t>(factored) * data_alignment);
              if (!ok) return false;
              continue;
            case DW_CFA_register:
              ok = uleb(regno) && p < end && uleb(operand) && set(fs, regno, RegisterRule::kRegister, operand);
              if (!ok) return false;
              continue;
            case DW_CFA_expression:
            case DW_CFA_val_expression: {
              if (!uleb(regno) || (opcode == DW_CFA_expression && p >= end) || !uleb(operand) || p > end ||
                  operand > static_cast<uint64_t>(end - p))
                return false;
              uint64_t at = p - section_.begin;
              p += operand;
              RegisterRule rule = opcode == DW_CFA_expression ? RegisterRule::kExpression : RegisterRule::kValExpression;
              if (!set(fs, regno, rule, at, operand)) return false;
              continue;
            }
            case DW_CFA_restore_extended:
              if (!uleb(operand) || !restore(fs, operand, initial)) return false;
              continue;
            case DW_CFA_remember_state:
              if (depth == kDepth) return false;
              stack[depth++] = fs;
              continue;
            case DW_CFA_restore_state:
              if (depth == 0) return false;
              fs = stack[--depth];
              continue;
            case DW_CFA_nop:
              continue;
            case DW_CFA_GNU_window_save:
              // SPARC's shorthand, which among others saves register 16 at CFA + 0.
              if (!section_.aarch64) fs.return_address = {RegisterRule::kOffset, 0, 0};
              continue;
            case DW_CFA_GNU_args_size:
              if (!uleb(operand)) return false;
              continue;
            default:
              return false;
          }
      }
      // Only the instructions that move loc get here.
      if (!ok || initial) return false;
      if (!advanced(loc)) return true;
    }
    return true;
  }

  const CfiSection& section_;
  const Cie& cie_;
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

Cie read_cie(const CfiSection& section, Dwarf_Off offset, const Dwarf_CIE& entry) {
  Cie cie;
  cie.offset = offset;
  cie.encoding = address_encoding(entry, section.eh_frame);
  cie.code_alignment = entry.code_alignment_factor;
  cie.data_alignment = entry.data_alignment_factor;
  cie.return_register = entry.return_address_register;
  const char* augmentation = entry.augmentation ? entry.augmentation : "";
  cie.sized_augmentation = augmentation[0] == 'z';
  cie.signal = cie.sized_augmentation && strchr(augmentation, 'S');
  // The x86-64 ABI's rules before any CIE's: rbp and the return address
  // keep their values, the CFA is not defined yet.
  cie.initial.rbp = {RegisterRule::kSameValue, 0, 0};
  cie.initial.return_address = {RegisterRule::kSameValue, 0, 0};
  const uint8_t* from = entry.initial_instructions;
  const uint8_t* to = entry.initial_instructions_end;
  if (from >= section.begin && from <= to && to <= section.end) {
    FrameState state = cie.initial;
    cie.initial_valid = CfiProgram(section, cie).run_initial(from - section.begin, to - section.begin, state);
    if (cie.initial_valid) cie.initial = state;
  }
  return cie;
}

// Every FDE of the section, sorted by start and distinct, and the CIEs they
// refer to; an entry that cannot be read is skipped when dwarf_next_cfi can
// step over it, else the rest is.
std::vector<Fde> read_fdes(Elf* elf, const CfiSection& section, std::vector<Cie>& cies) {
  std::vector<Fde> fdes;
  const unsigned char* ident = reinterpret_cast<const unsigned char*>(elf_getident(elf, nullptr));
  if (!ident || !section.begin) return fdes;
  const uint8_t* bytes = section.begin;
  size_t size = section.end - section.begin;
  // An estimate (FDEs of real objects take about 50 bytes), to grow once at most.
  fdes.reserve(std::min<size_t>(kMaxFdes, size / 32 + 16));
  cies.reserve(64);
  Dwarf_Off offset = 0, next = 0;
  while (fdes.size() < kMaxFdes && offset < size) {
    Dwarf_CFI_Entry entry;
    int result = dwarf_next_cfi(ident, section.data, section.eh_frame, offset, &next, &entry);
    if (result == 1 || (result != 0 && next <= offset)) break;
    Dwarf_Off at = offset;
    offset = next;
    if (result != 0) continue;
    if (dwarf_cfi_cie_p(&entry)) {
      if (cies.size() < kMaxFdes) cies.push_back(read_cie(section, at, entry.cie));
      continue;
    }
    auto cie = std::lower_bound(cies.begin(), cies.end(), entry.fde.CIE_pointer,
                                [](const Cie& a, Dwarf_Off b) { return a.offset < b; });
    if (cie == cies.end() || cie->offset != entry.fde.CIE_pointer || !cie->encoding) continue;
    uint8_t encoding = *cie->encoding;
    size_t field = entry.fde.start - bytes, length = 0, range_length = 0;
    uint64_t start = 0, range = 0;
    if (!decode_eh_pointer(bytes, size, field, encoding, section.vaddr, &start, &length) ||
        !decode_eh_pointer(bytes, size, field + length, encoding & 0x0f, 0, &range, &range_length) || range == 0)
      continue;
    // libdw's reading of the instructions' start, so that what it rejects
    // here is rejected alike: an FDE whose range wraps, or whose
    // augmentation data runs past its end.
    const uint8_t* instructions = entry.fde.start + length + range_length;
    const uint8_t* end = entry.fde.end;
    bool readable = start + range > start && instructions <= end;
    uint64_t augmentation = 0;
    if (readable && cie->sized_augmentation) {
      readable = read_uleb(instructions, end, section.end, augmentation) &&
                 (instructions > end || augmentation <= static_cast<uint64_t>(end - instructions));
      if (readable) instructions = instructions > end ? end : instructions + augmentation;
    }
    size_t from = readable ? instructions - bytes : 0;
    fdes.push_back({start, range, static_cast<uint32_t>(cie - cies.begin()), readable, from,
                    readable ? static_cast<size_t>(end - bytes) : 0});
  }
  std::sort(fdes.begin(), fdes.end(), [](const Fde& a, const Fde& b) { return a.start < b.start; });
  fdes.erase(std::unique(fdes.begin(), fdes.end(), [](const Fde& a, const Fde& b) { return a.start == b.start; }),
             fdes.end());
  return fdes;
}

// The rows of one FDE from its start while they begin before `limit`, in
// one pass over its instructions; where they stopped (a malformed program
// stops them at the row it could not read).
template <typename Offset>
uint64_t fde_rows(const CfiSection& section, const Cie& cie, const Fde& fde, uint64_t limit, Offset offset,
                  UnwindTable& table, RowWriter& writer) {
  uint64_t pc = fde.start;
  if (!fde.readable || !cie.initial_valid || pc >= limit || writer.full()) return pc;
  FrameState fs = cie.initial;
  // The row [pc, to) is fs: written, and whether another may follow.
  auto row = [&](uint64_t to) {
    Rule rule = cie.return_register == kReturnAddress ? translate(section, fs, cie.signal) : kUnknown;
    if (rule == kUnknown) ++table.unsupported_rows;
    writer.add(offset(pc), rule);
    pc = to;
    return pc < limit && !writer.full();
  };
  bool more = true;
  // A row starts where loc passes the current one's start; a loc that goes
  // back (DW_CFA_set_loc) only changes the rules of the current row.
  bool valid = CfiProgram(section, cie).run_fde(fde.instructions, fde.instructions_end, fs, fde.start,
                                                [&](uint64_t loc) { return loc <= pc || (more = row(loc)); });
  // The end of the instructions ends the last row at the FDE's end.
  if (valid && more) row(fde.start + fde.size);
  return pc;
}

// The rows of one segment: each FDE's, row by row, up to its end or the
// next FDE's start; a range no FDE covers is unknown, but for the ELF entry
// point's: the dynamic loader's entry code has no FDE, and is where the
// process's outermost frame returns to (after the constructors it calls).
void segment_rows(const CfiSection& section, const std::vector<Cie>& cies, const Segment& segment,
                  const std::vector<Fde>& fdes, uint64_t entry, UnwindTable& table, RowWriter& writer) {
  uint64_t end = segment.vaddr + segment.size;
  auto offset = [&](uint64_t vaddr) { return segment.offset + (vaddr - segment.vaddr); };
  auto outermost_in = [&](uint64_t from, uint64_t to) {
    if (entry >= from && entry < to) writer.add(offset(entry), kOutermost);
  };
  auto first = std::lower_bound(fdes.begin(), fdes.end(), segment.vaddr,
                                [](const Fde& fde, uint64_t vaddr) { return fde.start < vaddr; });
  outermost_in(segment.vaddr, first != fdes.end() ? std::min(first->start, end) : end);
  for (auto it = first; it != fdes.end() && it->start < end && !writer.full(); ++it) {
    uint64_t next = it + 1 != fdes.end() ? std::min((it + 1)->start, end) : end;
    uint64_t limit = std::min(next, it->start + std::min(it->size, end - it->start));
    ++table.fdes;
    uint64_t pc = fde_rows(section, cies[it->cie], *it, limit, offset, table, writer);
    // Past the FDE's end (or what could be read of it), nothing is known.
    if (pc < end) writer.add(offset(pc), kUnknown);
    outermost_in(pc, next);
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
  // .debug_frame may be compressed, as libdw would have undone.
  if ((shdr.sh_flags & SHF_COMPRESSED) && elf_compress(scn, 0, 0) < 0) return section;
  section.data = elf_getdata(scn, nullptr);
  if (!section.data || !section.data->d_buf) {
    section.data = nullptr;
    return section;
  }
  section.vaddr = shdr.sh_addr;
  section.begin = static_cast<const uint8_t*>(section.data->d_buf);
  section.end = section.begin + section.data->d_size;
  const char* ident = elf_getident(elf, nullptr);
  section.big_endian = ident && ident[EI_DATA] == ELFDATA2MSB;
  GElf_Ehdr ehdr;
  section.aarch64 = gelf_getehdr(elf, &ehdr) && ehdr.e_machine == EM_AARCH64;
  return section;
}

}  // namespace

std::vector<lh_unwind_page> unwind_pages(const std::vector<lh_unwind_row>& rows, uint64_t end) {
  std::vector<lh_unwind_page> pages((end + kPageSize - 1) / kPageSize);
  size_t next = 0;  // the first row starting at or past the page's start
  for (size_t page = 0; page < pages.size(); ++page) {
    uint64_t from = page * kPageSize, to = from + kPageSize;
    while (next < rows.size() && rows[next].start < from) ++next;
    size_t inside = next;
    while (inside < rows.size() && rows[inside].start < to) ++inside;
    // The row that holds at the page's first byte, unless one starts there.
    bool holding = next > 0 && (next == rows.size() || rows[next].start != from);
    size_t first = holding ? next - 1 : next;
    pages[page] = {static_cast<__u32>(first), static_cast<__u32>(inside - first)};
  }
  return pages;
}

UnwindTable build_unwind_table(Elf* elf, uint64_t file_size) {
  UnwindTable table;
  std::vector<Segment> segments = code_segments(elf, file_size);
  std::sort(segments.begin(), segments.end(),
            [](const Segment& a, const Segment& b) { return a.offset < b.offset; });
  // .eh_frame is what the loaded program has; .debug_frame only where the
  // object was built without it.
  CfiSection section = cfi_section(elf, ".eh_frame", true);
  if (!section.data) section = cfi_section(elf, ".debug_frame", false);
  if (section.data) {
    std::vector<Cie> cies;
    std::vector<Fde> fdes = read_fdes(elf, section, cies);
    // Real objects have a row per 5 bytes of CFI or so: room for all at once.
    table.rows.reserve(std::min<size_t>(kMaxRows, (section.end - section.begin) / 4 + 2 * segments.size() + 16));
    RowWriter writer(table);
    GElf_Ehdr ehdr;
    uint64_t entry = gelf_getehdr(elf, &ehdr) ? ehdr.e_entry : 0;
    for (const Segment& segment : segments) segment_rows(section, cies, segment, fdes, entry, table, writer);
  }
  uint64_t end = segments.empty() ? 0 : segments.back().offset + segments.back().size;
  table.pages = unwind_pages(table.rows, end);
  return table;
}

UnwindTable read_unwind_table(const std::string& path) {
  UnwindTable table;
  read_elf_file(path, [&](Elf* elf, uint64_t size) { table = build_unwind_table(elf, size); });
  return table;
}

}  // namespace leakhound
