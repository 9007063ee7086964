// libFuzzer entry: each input is an ELF file someone could hand leakhound,
// read the way the addon reads it (summary, symbols, prologue bytes, then
// symbolization), and also bytes taken as an .eh_frame_hdr as they are.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "../demangle.h"
#include "../eh-frame-hdr.h"
#include "../elf-core.h"
#include "../module-symbolizer.h"

namespace {

// The readers take paths: one memfd, rewritten per input, serves as the file.
const std::string& write_input(const uint8_t* data, size_t size) {
  static const int fd = memfd_create("elf-fuzz-input", MFD_CLOEXEC);
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (fd < 0 || ftruncate(fd, 0) != 0 ||
      pwrite(fd, data, size, 0) != static_cast<ssize_t>(size))
    abort();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = write_input(data, size);
  std::vector<uint64_t> offsets;
  // The census's reads: each sampled function's first bytes, and here its
  // whole claimed size too, which the file need not hold.
  std::vector<leakhound::FileExtent> extents;
  try {
    leakhound::read_elf_summary(path);
    // Names the seeds define: an IFUNC, and one name in several versions.
    for (const auto& symbol : leakhound::find_function_symbols(
             path, {"main", "_start", "chosen_alloc", "__libpthread_version_placeholder"}))
      offsets.push_back(symbol.file_offset + 1);
    for (const auto& symbol : leakhound::sample_function_symbols(path, 8)) {
      offsets.push_back(symbol.file_offset);
      extents.push_back({symbol.file_offset, std::min<uint64_t>(symbol.size, 16)});
      extents.push_back({symbol.file_offset, symbol.size});
    }
  } catch (const leakhound::ElfError&) {
  }
  // A few offsets picked by the input itself reach the DWARF readers
  // elsewhere, and extents across (and past) the end of the file.
  for (size_t i = 0; i + sizeof(uint64_t) <= size && offsets.size() < 8; i += size / 4 + 1) {
    uint64_t value;
    memcpy(&value, data + i, sizeof value);
    offsets.push_back(value % (size + 1));
    extents.push_back({value % (size + 2), value >> 56});
    extents.push_back({value, 16});
  }
  try {
    std::vector<leakhound::ExtentBytes> reads = leakhound::read_extents(path, extents);
    // What is read is the whole extent, or nothing and a reason.
    for (size_t i = 0; i < reads.size(); ++i) {
      bool read = !reads[i].outside && !reads[i].err;
      if (read ? reads[i].bytes.size() != extents[i].size : !reads[i].bytes.empty()) abort();
    }
  } catch (const leakhound::ElfError&) {
  }
  // The table's parser straight on the input, at an address picked by the
  // input: starts come back ascending and distinct, whatever the bytes.
  uint64_t at = 0;
  if (size >= 12) memcpy(&at, data + 4, sizeof at);
  std::vector<uint64_t> starts = leakhound::eh_frame_hdr_starts(data, size, at);
  if (std::adjacent_find(starts.begin(), starts.end(), std::greater_equal<uint64_t>()) != starts.end()) abort();
  leakhound::ModuleSymbolizer symbolizer;
  symbolizer.symbolize(path, offsets);
  leakhound::plain_function_name(
      std::string(reinterpret_cast<const char*>(data), std::min<size_t>(size, 512)));
  return 0;
}
