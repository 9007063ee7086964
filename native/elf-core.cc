#include "elf-core.h"

#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string_view>

#include "eh-frame-hdr.h"

namespace leakhound {
namespace {

// An interpreter path longer than this is corrupt data, not a path.
constexpr size_t kMaxInterpreter = 4096;
// A function told only by where the next one starts is weighed as this
// long at most: what lies between two starts need not all be code.
constexpr uint64_t kMaxUnwoundSize = 64 * 1024;
// .gnu.version marks a symbol that is not its name's default version.
constexpr GElf_Versym kVersymHidden = 0x8000;

std::string invalid(const std::string& path, const std::string& why) {
  return "cannot read ELF file " + path + (why.empty() ? "" : ": " + why);
}

// True when `count` entries of `entsize` bytes at `offset` lie in the file.
bool table_fits(uint64_t offset, uint64_t count, uint64_t entsize, uint64_t file_size) {
  if (count == 0) return true;
  if (offset > file_size || entsize == 0) return false;
  return count <= (file_size - offset) / entsize;
}

// A regular file open for reading, and its size when opened.
class RegularFile {
 public:
  explicit RegularFile(const std::string& path) {
    // O_NONBLOCK: a FIFO planted where a library was expected must not hang us.
    fd_ = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    int err = fd_ < 0 || fstat(fd_, &st) != 0 ? errno : 0;
    if (err || !S_ISREG(st.st_mode)) {
      if (fd_ >= 0) close(fd_);
      throw ElfError(invalid(path, err ? "" : "not a regular file"), err);
    }
    size_ = st.st_size;
  }
  ~RegularFile() { close(fd_); }
  RegularFile(const RegularFile&) = delete;
  RegularFile& operator=(const RegularFile&) = delete;

  int fd() const { return fd_; }
  uint64_t size() const { return size_; }

 private:
  int fd_;
  uint64_t size_ = 0;
};

// The file and the libelf handle over it, released together.
class ElfFile {
 public:
  explicit ElfFile(const std::string& path) : file_(path) {
    static const bool libelf_ready = elf_version(EV_CURRENT) != EV_NONE;
    if (!libelf_ready) fail(path, "libelf refused EV_CURRENT");
    // Read rather than mmap: a file truncated under us fails a read instead
    // of raising SIGBUS.
    elf_.reset(elf_begin(file_.fd(), ELF_C_READ, nullptr));
    if (!elf_ || elf_kind(elf()) != ELF_K_ELF) fail(path, "not an ELF file");
    if (!gelf_getehdr(elf(), &ehdr_)) fail(path, elf_errmsg(-1));
    // libelf quietly shortens header tables that run past the end of the
    // file; the counts the header claims tell a truncated file. (Counts
    // too large for the header are in the first section header: the file
    // must at least hold that one.)
    uint64_t shnum = ehdr_.e_shnum == 0 && ehdr_.e_shoff != 0 ? 1 : ehdr_.e_shnum;
    uint64_t phnum = ehdr_.e_phnum == PN_XNUM ? 1 : ehdr_.e_phnum;
    if (!table_fits(ehdr_.e_shoff, shnum, gelf_fsize(elf(), ELF_T_SHDR, 1, EV_CURRENT), size()) ||
        !table_fits(ehdr_.e_phoff, phnum, gelf_fsize(elf(), ELF_T_PHDR, 1, EV_CURRENT), size()))
      fail(path, "truncated or corrupt header tables");
  }

  Elf* elf() const { return elf_.get(); }
  const GElf_Ehdr& ehdr() const { return ehdr_; }
  uint64_t size() const { return file_.size(); }

 private:
  [[noreturn]] static void fail(const std::string& path, const std::string& why) {
    throw ElfError(invalid(path, why), 0);
  }

  RegularFile file_;
  std::unique_ptr<Elf, decltype(&elf_end)> elf_{nullptr, elf_end};  // ended before file_ closes
  GElf_Ehdr ehdr_{};
};

struct SymbolTable {
  Elf_Scn* scn;
  GElf_Shdr shdr;
  Elf_Data* versions;  // .gnu.version entries, one per symbol; .dynsym only
};

// Lower is better: .dynsym first, then a name's default version.
struct Found {
  FunctionSymbol symbol;
  int rank;
};

Elf_Data* version_data_for(Elf* elf, size_t symtab_index) {
  for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn; scn = elf_nextscn(elf, scn)) {
    GElf_Shdr shdr;
    if (gelf_getshdr(scn, &shdr) && shdr.sh_type == SHT_GNU_versym && shdr.sh_link == symtab_index)
      return elf_getdata(scn, nullptr);
  }
  return nullptr;
}

std::vector<SymbolTable> symbol_tables(Elf* elf, GElf_Word type) {
  std::vector<SymbolTable> tables;
  for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn; scn = elf_nextscn(elf, scn)) {
    GElf_Shdr shdr;
    if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != type) continue;
    Elf_Data* versions = type == SHT_DYNSYM ? version_data_for(elf, elf_ndxscn(scn)) : nullptr;
    tables.push_back({scn, shdr, versions});
  }
  return tables;
}

bool is_defined_function(const GElf_Sym& sym) {
  int type = GELF_ST_TYPE(sym.st_info);
  int bind = GELF_ST_BIND(sym.st_info);
  return (type == STT_FUNC || type == STT_GNU_IFUNC) && (bind == STB_GLOBAL || bind == STB_WEAK) &&
         sym.st_shndx != SHN_UNDEF;
}

void collect(Elf* elf, const SymbolTable& table, int table_rank,
             const std::vector<LoadSegment>& segments,
             const std::set<std::string, std::less<>>& wanted, std::map<std::string, Found>& found) {
  Elf_Data* data = elf_getdata(table.scn, nullptr);
  size_t entsize = gelf_fsize(elf, ELF_T_SYM, 1, EV_CURRENT);
  if (!data || entsize == 0) return;
  size_t count = data->d_size / entsize;
  for (size_t i = 1; i < count; ++i) {  // entry 0 is the null symbol
    GElf_Sym sym;
    if (!gelf_getsym(data, static_cast<int>(i), &sym)) break;
    if (!is_defined_function(sym)) continue;
    const char* raw = elf_strptr(elf, table.shdr.sh_link, sym.st_name);
    if (!raw) continue;
    std::string_view name(raw);
    // .symtab may spell versions into names: "malloc@@GLIBC_2.2.5".
    size_t at = name.find('@');
    bool hidden = at != std::string_view::npos && name.substr(at, 2) != "@@";
    name = name.substr(0, at);
    auto wanted_name = wanted.find(name);
    if (wanted_name == wanted.end()) continue;
    GElf_Versym version;
    if (table.versions && gelf_getversym(table.versions, static_cast<int>(i), &version))
      hidden = (version & kVersymHidden) != 0;
    std::optional<uint64_t> offset = vaddr_to_file_offset(segments, sym.st_value);
    if (!offset) continue;  // not in the file's loaded bytes: nothing to probe
    int rank = table_rank * 2 + (hidden ? 1 : 0);
    auto previous = found.find(*wanted_name);
    if (previous != found.end() && previous->second.rank <= rank) continue;
    found[*wanted_name] = {{*wanted_name, sym.st_value, *offset, sym.st_size}, rank};
  }
}

// A stripped object's functions, from its unwinding table (PT_GNU_EH_FRAME):
// each runs to the next one's start, so the last is left out.
std::vector<FunctionSymbol> unwound_functions(Elf* elf, uint64_t file_size,
                                              const std::vector<LoadSegment>& segments) {
  std::vector<FunctionSymbol> functions;
  size_t count = 0;
  if (elf_getphdrnum(elf, &count) != 0) return functions;
  for (size_t i = 0; i < count; ++i) {
    GElf_Phdr phdr;
    if (!gelf_getphdr(elf, static_cast<int>(i), &phdr)) break;
    if (phdr.p_type != PT_GNU_EH_FRAME) continue;
    if (phdr.p_offset > file_size || phdr.p_filesz > file_size - phdr.p_offset) break;
    Elf_Data* data = elf_getdata_rawchunk(elf, phdr.p_offset, phdr.p_filesz, ELF_T_BYTE);
    if (!data || !data->d_buf) break;
    std::vector<uint64_t> starts =
        eh_frame_hdr_starts(static_cast<const uint8_t*>(data->d_buf), data->d_size, phdr.p_vaddr);
    for (size_t j = 0; j + 1 < starts.size(); ++j) {
      std::optional<uint64_t> offset = vaddr_to_file_offset(segments, starts[j]);
      if (!offset) continue;
      uint64_t size = std::min({starts[j + 1] - starts[j], kMaxUnwoundSize, file_size - *offset});
      functions.push_back({"", starts[j], *offset, size});
    }
    break;
  }
  return functions;
}

std::optional<std::string> read_interpreter(Elf* elf, const GElf_Phdr& phdr) {
  if (phdr.p_filesz == 0 || phdr.p_filesz > kMaxInterpreter) return std::nullopt;
  Elf_Data* data = elf_getdata_rawchunk(elf, phdr.p_offset, phdr.p_filesz, ELF_T_BYTE);
  if (!data || !data->d_buf) return std::nullopt;
  const char* text = static_cast<const char*>(data->d_buf);
  size_t length = strnlen(text, data->d_size);
  if (length == 0) return std::nullopt;
  return std::string(text, length);
}

bool is_dwarf_section(Elf* elf, size_t names_index, const GElf_Shdr& shdr) {
  if (shdr.sh_type == SHT_NOBITS) return false;
  const char* name = elf_strptr(elf, names_index, shdr.sh_name);
  return name && (strcmp(name, ".debug_info") == 0 || strcmp(name, ".zdebug_info") == 0);
}

std::optional<std::string> build_id_hex(Elf* elf) {
  const void* bits = nullptr;
  ssize_t length = dwelf_elf_gnu_build_id(elf, &bits);
  if (length <= 0 || !bits) return std::nullopt;
  static const char digits[] = "0123456789abcdef";
  std::string hex;
  for (ssize_t i = 0; i < length; ++i) {
    uint8_t byte = static_cast<const uint8_t*>(bits)[i];
    hex += digits[byte >> 4];
    hex += digits[byte & 0xf];
  }
  return hex;
}

}  // namespace

void read_elf_file(const std::string& path, const std::function<void(Elf*, uint64_t)>& read) {
  ElfFile file(path);
  read(file.elf(), file.size());
}

std::vector<LoadSegment> load_segments(Elf* elf, uint64_t file_size) {
  std::vector<LoadSegment> segments;
  size_t count = 0;
  if (elf_getphdrnum(elf, &count) != 0) return segments;
  for (size_t i = 0; i < count; ++i) {
    GElf_Phdr phdr;
    if (!gelf_getphdr(elf, static_cast<int>(i), &phdr)) break;
    if (phdr.p_type != PT_LOAD || phdr.p_offset >= file_size) continue;
    // A truncated file keeps the segment's bytes that are still there.
    uint64_t filesz = std::min<uint64_t>(phdr.p_filesz, file_size - phdr.p_offset);
    if (filesz > 0) segments.push_back({phdr.p_vaddr, phdr.p_offset, filesz});
  }
  return segments;
}

std::optional<uint64_t> vaddr_to_file_offset(const std::vector<LoadSegment>& segments,
                                             uint64_t vaddr) {
  for (const LoadSegment& segment : segments) {
    if (vaddr >= segment.vaddr && vaddr - segment.vaddr < segment.filesz)
      return segment.offset + (vaddr - segment.vaddr);
  }
  return std::nullopt;
}

std::optional<uint64_t> file_offset_to_vaddr(const std::vector<LoadSegment>& segments,
                                             uint64_t offset) {
  for (const LoadSegment& segment : segments) {
    if (offset >= segment.offset && offset - segment.offset < segment.filesz)
      return segment.vaddr + (offset - segment.offset);
  }
  return std::nullopt;
}

std::vector<FunctionSymbol> find_function_symbols(const std::string& path,
                                                  const std::vector<std::string>& names) {
  ElfFile file(path);
  std::vector<LoadSegment> segments = load_segments(file.elf(), file.size());
  std::set<std::string, std::less<>> wanted(names.begin(), names.end());
  std::map<std::string, Found> found;
  int table_rank = 0;
  for (GElf_Word type : {SHT_DYNSYM, SHT_SYMTAB}) {
    for (const SymbolTable& table : symbol_tables(file.elf(), type))
      collect(file.elf(), table, table_rank, segments, wanted, found);
    ++table_rank;
  }
  std::vector<FunctionSymbol> symbols;
  for (const std::string& name : names) {  // the caller's order, each name once
    auto it = found.find(name);
    if (it == found.end()) continue;
    symbols.push_back(it->second.symbol);
    found.erase(it);
  }
  return symbols;
}

std::vector<FunctionSymbol> sample_function_symbols(const std::string& path, size_t max) {
  ElfFile file(path);
  std::vector<LoadSegment> segments = load_segments(file.elf(), file.size());
  std::vector<FunctionSymbol> all;
  GElf_Word from = SHT_NULL;
  // .symtab names local functions too: a fairer sample than the exports.
  for (GElf_Word type : {SHT_SYMTAB, SHT_DYNSYM}) {
    from = type;
    for (const SymbolTable& table : symbol_tables(file.elf(), type)) {
      Elf_Data* data = elf_getdata(table.scn, nullptr);
      size_t entsize = gelf_fsize(file.elf(), ELF_T_SYM, 1, EV_CURRENT);
      if (!data || entsize == 0) continue;
      size_t count = data->d_size / entsize;
      for (size_t i = 1; i < count; ++i) {
        GElf_Sym sym;
        if (!gelf_getsym(data, static_cast<int>(i), &sym)) break;
        if (GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF || sym.st_size == 0) continue;
        std::optional<uint64_t> offset = vaddr_to_file_offset(segments, sym.st_value);
        if (offset) all.push_back({"", sym.st_value, *offset, sym.st_size});
      }
    }
    if (!all.empty()) break;
  }
  // Stripped: a few exports (or none, as in a program) say little of how
  // the rest was built, and the unwinding table lists every function.
  if (from != SHT_SYMTAB && all.size() < max) {
    std::vector<FunctionSymbol> unwound = unwound_functions(file.elf(), file.size(), segments);
    if (unwound.size() > all.size()) all = std::move(unwound);
  }
  if (all.size() <= max) return all;
  std::vector<FunctionSymbol> sample;
  for (size_t i = 0; i < max; ++i) sample.push_back(all[i * all.size() / max]);
  return sample;
}

ElfSummary read_elf_summary(const std::string& path) {
  ElfFile file(path);
  Elf* elf = file.elf();
  ElfSummary summary;
  if (file.ehdr().e_type == ET_EXEC) summary.type = ElfType::exec;
  else if (file.ehdr().e_type == ET_DYN) summary.type = ElfType::dyn;

  size_t phnum = 0;
  if (elf_getphdrnum(elf, &phnum) == 0) {
    for (size_t i = 0; i < phnum && !summary.interpreter; ++i) {
      GElf_Phdr phdr;
      if (gelf_getphdr(elf, static_cast<int>(i), &phdr) && phdr.p_type == PT_INTERP)
        summary.interpreter = read_interpreter(elf, phdr);
    }
  }

  size_t names_index = 0;
  bool have_names = elf_getshdrstrndx(elf, &names_index) == 0;
  for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn; scn = elf_nextscn(elf, scn)) {
    GElf_Shdr shdr;
    if (!gelf_getshdr(scn, &shdr)) continue;
    if (shdr.sh_type == SHT_SYMTAB) summary.has_symtab = true;
    if (have_names && is_dwarf_section(elf, names_index, shdr)) summary.has_debug_info = true;
  }
  summary.build_id = build_id_hex(elf);
  return summary;
}

std::vector<ExtentBytes> read_extents(const std::string& path, const std::vector<FileExtent>& extents) {
  RegularFile file(path);
  std::vector<ExtentBytes> out(extents.size());
  for (size_t i = 0; i < extents.size(); ++i) {
    const FileExtent& extent = extents[i];
    ExtentBytes& read = out[i];
    // Extents come from the file's own symbols: nothing past its end is asked for.
    if (extent.offset > file.size() || extent.size > file.size() - extent.offset) {
      read.outside = true;
      continue;
    }
    read.bytes.resize(extent.size);
    ssize_t n = pread(file.fd(), read.bytes.data(), read.bytes.size(), static_cast<off_t>(extent.offset));
    if (n == static_cast<ssize_t>(extent.size)) continue;
    read.err = n < 0 ? errno : 0;
    read.outside = n >= 0;  // short: the file shrank since it was opened
    read.bytes.clear();
  }
  return out;
}

}  // namespace leakhound
