// File offsets in other people's binaries -> function, file and line,
// through libdwfl (which also finds separate debug files by build-id,
// .gnu_debuglink and debuginfod).
// Each file stays open across calls. No N-API here: the fuzzer drives it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace leakhound {

// A function inlined where the address lies: its own frame.
struct InlinedFrame {
  std::optional<std::string> symbol;  // plain name, demangled
  std::optional<std::string> file;    // its innermost line at the address, else where it called the next one in
  std::optional<uint64_t> line;
};

struct SourceLocation {
  std::optional<std::string> symbol;  // plain name, demangled
  uint64_t symbol_offset = 0;         // from the symbol's start
  std::optional<std::string> file;    // as DWARF names it; in inlined code, the outermost inlined call
  std::optional<uint64_t> line;
  std::vector<InlinedFrame> inlined;  // innermost first: the functions inlined into `symbol` here
};

class ModuleSymbolizer {
 public:
  ModuleSymbolizer();
  ~ModuleSymbolizer();
  ModuleSymbolizer(const ModuleSymbolizer&) = delete;
  ModuleSymbolizer& operator=(const ModuleSymbolizer&) = delete;

  // One location per offset; an unreadable file or an unknown offset gives
  // an empty location, never an exception.
  std::vector<SourceLocation> symbolize(const std::string& path,
                                        const std::vector<uint64_t>& file_offsets);

  // Closes every file; later calls reopen what they need.
  void clear();

 private:
  struct Module;
  Module& module_for(const std::string& path);

  std::unordered_map<std::string, std::unique_ptr<Module>> modules_;
};

}  // namespace leakhound
