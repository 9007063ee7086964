// What leakhound reads from other people's ELF files, through libelf, with
// every read bounded by the file. No N-API here: the fuzzer drives it as is.
#pragma once

#include <gelf.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace leakhound {

// The file is missing, unreadable or not a well-formed ELF; what() names it.
class ElfError : public std::runtime_error {
 public:
  ElfError(const std::string& message, int err) : std::runtime_error(message), err_(err) {}
  int err() const { return err_; }  // errno, or 0 when the content is at fault

 private:
  int err_;
};

struct FunctionSymbol {
  std::string name;
  uint64_t address;      // ELF virtual address (st_value)
  uint64_t file_offset;  // where those bytes are in the file: what uprobes take
  uint64_t size;
};

enum class ElfType { exec, dyn, other };

struct ElfSummary {
  ElfType type = ElfType::other;
  std::optional<std::string> interpreter;
  bool has_symtab = false;
  bool has_debug_info = false;  // DWARF in the file itself
  std::optional<std::string> build_id;  // lowercase hex
};

// One PT_LOAD's file-backed bytes.
struct LoadSegment {
  uint64_t vaddr;
  uint64_t offset;
  uint64_t filesz;
};

// Defined GLOBAL/WEAK functions named in `names`, at most one per name,
// .dynsym before .symtab. Throws ElfError.
std::vector<FunctionSymbol> find_function_symbols(const std::string& path,
                                                  const std::vector<std::string>& names);

// Up to `max` functions with a size, spread over .symtab; without one, over
// .dynsym, or over .eh_frame_hdr's table where .dynsym lists fewer than
// `max` and the table more. Names are left empty. Throws ElfError.
std::vector<FunctionSymbol> sample_function_symbols(const std::string& path, size_t max);

// Throws ElfError.
ElfSummary read_elf_summary(const std::string& path);

// [offset, offset + size) of a file.
struct FileExtent {
  uint64_t offset;
  uint64_t size;
};

// One extent's bytes, or why there are none.
struct ExtentBytes {
  std::vector<uint8_t> bytes;
  bool outside = false;  // the extent does not lie wholly within the file
  int err = 0;           // errno of a failed read
};

// Each extent's bytes, in order, from one open of the file; an extent that
// cannot be read fails alone. Any file, ELF or not, as long as it is a
// regular one. Throws ElfError when it cannot be opened.
std::vector<ExtentBytes> read_extents(const std::string& path, const std::vector<FileExtent>& extents);

// Runs `read` over the libelf handle of `path` and the file's size, the
// file checked as every reader here checks it. Throws ElfError.
void read_elf_file(const std::string& path, const std::function<void(Elf*, uint64_t)>& read);

// PT_LOADs clipped to the file's `file_size` bytes; empty when the program
// headers cannot be read.
std::vector<LoadSegment> load_segments(Elf* elf, uint64_t file_size);
std::optional<uint64_t> vaddr_to_file_offset(const std::vector<LoadSegment>& segments,
                                             uint64_t vaddr);
std::optional<uint64_t> file_offset_to_vaddr(const std::vector<LoadSegment>& segments,
                                             uint64_t offset);

}  // namespace leakhound
