#include "module-symbolizer.h"

#include <elf.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "debuginfod-bound.h"
#include "demangle.h"
#include "elf-core.h"
#include "function-index.h"
#include "inline-calls.h"

namespace leakhound {
namespace {

// A .gnu_debuglink names a file. Given "" (or ".", or one with a slash)
// elfutils 0.188 opens a directory as the debug file and leaks its name
// (found by the fuzzer): treat such a name as no debuglink at all.
bool names_a_file(const char* debuglink) {
  return debuglink[0] != '\0' && strchr(debuglink, '/') == nullptr && strcmp(debuglink, ".") != 0 &&
         strcmp(debuglink, "..") != 0;
}

int find_debuginfo(Dwfl_Module* mod, void** userdata, const char* module_name, Dwarf_Addr base,
                   const char* file_name, const char* debuglink, GElf_Word debuglink_crc,
                   char** debuginfo_file_name) {
  if (debuglink && !names_a_file(debuglink)) debuglink = nullptr;
  return find_debuginfo_bounded(mod, userdata, module_name, base, file_name, debuglink,
                                debuglink_crc, debuginfo_file_name);
}

// Offline use: no process; debug files are searched by build-id and
// .gnu_debuglink under the default path (":.debug:/usr/lib/debug"), then
// asked of debuginfod servers when DEBUGINFOD_URLS names some.
const Dwfl_Callbacks kCallbacks = [] {
  Dwfl_Callbacks callbacks{};
  callbacks.find_elf = dwfl_build_id_find_elf;
  callbacks.find_debuginfo = find_debuginfo;
  callbacks.section_address = dwfl_offline_section_address;
  return callbacks;
}();

// Which file a path named when it was opened: a package upgrade replaces
// a library under the same path.
struct FileIdentity {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  timespec mtime{};

  explicit FileIdentity(const struct stat& st)
      : dev(st.st_dev), ino(st.st_ino), size(st.st_size), mtime(st.st_mtim) {}
  FileIdentity() = default;
  bool operator==(const FileIdentity& other) const {
    return dev == other.dev && ino == other.ino && size == other.size &&
           mtime.tv_sec == other.mtime.tv_sec && mtime.tv_nsec == other.mtime.tv_nsec;
  }
};

bool stat_path(const std::string& path, FileIdentity& identity) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return false;
  identity = FileIdentity(st);
  return true;
}

// Frames for the calls inlined at `address`, innermost first, and the line
// of each: the innermost's from the line table, every other's (the
// function's named by the ELF symbol last) where it made the call inside it.
void add_source_lines(Dwfl_Module* mod, Dwarf_Addr address, InlinedCalls& inlined,
                      SourceLocation& where) {
  Dwarf_Addr bias = 0;
  Dwarf_Die* cu = dwfl_module_addrdie(mod, address, &bias);
  std::vector<const InlinedCall*> calls;
  if (cu) calls = inlined.at(cu, address - bias);
  std::optional<std::string> file;
  std::optional<uint64_t> line;
  Dwfl_Line* row = dwfl_module_getsrc(mod, address);
  int row_line = 0;
  const char* row_file = row ? dwfl_lineinfo(row, nullptr, &row_line, nullptr, nullptr, nullptr) : nullptr;
  if (row_file && row_line > 0) {  // line 0: code with no source line
    file = row_file;
    line = static_cast<uint64_t>(row_line);
  }
  for (auto call = calls.rbegin(); call != calls.rend(); ++call) {
    InlinedFrame frame;
    if ((*call)->name) frame.symbol = plain_function_name((*call)->name);
    frame.file = std::move(file);
    frame.line = line;
    where.inlined.push_back(std::move(frame));
    file.reset();
    line.reset();
    if ((*call)->file && (*call)->line > 0) {
      file = (*call)->file;
      line = (*call)->line;
    }
  }
  where.file = std::move(file);
  where.line = line;
}

}  // namespace

// An opened file, or the memory of having failed to open it.
struct ModuleSymbolizer::Module {
  FileIdentity identity;
  std::unique_ptr<Dwfl, decltype(&dwfl_end)> dwfl{nullptr, dwfl_end};
  Dwfl_Module* mod = nullptr;
  Dwarf_Addr bias = 0;
  std::vector<LoadSegment> segments;
  std::optional<FunctionIndex> functions;
  InlinedCalls inlined;  // filled as units are asked about
  // The code at the ELF entry point, [start, end): `_start`, which a stripped
  // program no longer names, but every stack of its main thread ends in.
  Dwarf_Addr entry_start = 0;
  Dwarf_Addr entry_end = 0;

  explicit Module(const std::string& path) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd >= 0 && !report(path, fd)) close(fd);
  }

  SourceLocation locate(uint64_t file_offset) {
    SourceLocation where;
    std::optional<uint64_t> vaddr = file_offset_to_vaddr(segments, file_offset);
    if (!functions || !vaddr) return where;
    Dwarf_Addr address = *vaddr + bias;
    if (const FunctionSymbolAt* function = functions->find(address)) {
      where.symbol = plain_function_name(function->name);
      where.symbol_offset = address - function->start;
    } else if (address >= entry_start && address < entry_end) {
      where.symbol = "_start";
      where.symbol_offset = address - entry_start;
    }
    add_source_lines(mod, address, inlined, where);
    return where;
  }

 private:
  // True when libdwfl took `fd` (it closes it in dwfl_end).
  bool report(const std::string& path, int fd) {
    struct stat st;
    unsigned char magic[SELFMAG];
    // Only ELF reaches libdwfl: given anything else it tries decompressing,
    // and on some of those paths closes our fd itself.
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || pread(fd, magic, SELFMAG, 0) != SELFMAG ||
        memcmp(magic, ELFMAG, SELFMAG) != 0)
      return false;
    identity = FileIdentity(st);
    dwfl.reset(dwfl_begin(&kCallbacks));
    if (!dwfl) return false;
    watch_debuginfod(dwfl.get());
    dwfl_report_begin(dwfl.get());
    // Base 0 with p_vaddr added: module addresses are the file's ELF addresses.
    mod = dwfl_report_elf(dwfl.get(), path.c_str(), path.c_str(), fd, 0, true);
    dwfl_report_end(dwfl.get(), nullptr, nullptr);
    if (!mod) return false;
    Elf* elf = dwfl_module_getelf(mod, &bias);
    if (elf) segments = load_segments(elf, static_cast<uint64_t>(st.st_size));
    functions.emplace(mod);
    if (elf) find_entry(elf);
    return true;
  }

  // The extent of the entry point's code, from the FDE that covers it. The
  // dynamic loader's entry code has none (the unwind tables end its callers'
  // walks there): the few instructions that call _dl_start and _dl_init.
  static constexpr Dwarf_Addr kEntryWithoutFde = 64;

  void find_entry(Elf* elf) {
    GElf_Ehdr header;
    Dwarf_Addr cfi_bias = 0;
    Dwarf_CFI* cfi = dwfl_module_eh_cfi(mod, &cfi_bias);
    Dwarf_Frame* frame = nullptr;
    if (!gelf_getehdr(elf, &header) || header.e_entry == 0 || !cfi) return;
    Dwarf_Addr entry = header.e_entry + bias;
    Dwarf_Addr start = 0, end = 0;
    if (dwarf_cfi_addrframe(cfi, entry - cfi_bias, &frame) != 0) {
      if (!functions->find(entry)) {
        entry_start = entry;
        entry_end = entry + kEntryWithoutFde;
      }
      return;
    }
    if (dwarf_frame_info(frame, &start, &end, nullptr) >= 0 && start + cfi_bias == entry) {
      entry_start = entry;
      entry_end = end + cfi_bias;
    }
    free(frame);
  }
};

ModuleSymbolizer::ModuleSymbolizer() = default;
ModuleSymbolizer::~ModuleSymbolizer() = default;

void ModuleSymbolizer::clear() { modules_.clear(); }

ModuleSymbolizer::Module& ModuleSymbolizer::module_for(const std::string& path) {
  FileIdentity now;
  auto cached = modules_.find(path);
  if (cached != modules_.end() && stat_path(path, now) && cached->second->identity == now)
    return *cached->second;
  std::unique_ptr<Module>& slot = modules_[path];
  slot = std::make_unique<Module>(path);
  return *slot;
}

std::vector<SourceLocation> ModuleSymbolizer::symbolize(const std::string& path,
                                                        const std::vector<uint64_t>& file_offsets) {
  Module& module = module_for(path);
  std::vector<SourceLocation> locations;
  locations.reserve(file_offsets.size());
  for (uint64_t offset : file_offsets) locations.push_back(module.locate(offset));
  return locations;
}

}  // namespace leakhound
