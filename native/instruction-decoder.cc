#include "instruction-decoder.h"

#include <capstone/capstone.h>

#include <algorithm>
#include <string>
#include <vector>

#include "arguments.h"
#include "elf-core.h"
#include "elf-reader.h"
#include "errors.h"

namespace leakhound {
namespace {

// A probe site is chosen among a function's first instructions, and a
// compilation judged by its functions' first few: no call reads more.
constexpr size_t kMaxBytes = 64 * 1024;
// A sample of an object's functions, not its whole symbol table.
constexpr size_t kMaxExtents = 4096;

struct Insns {
  cs_insn* insn = nullptr;
  size_t count = 0;
  ~Insns() {
    if (insn) cs_free(insn, count);
  }
};

// Capstone and the JavaScript side of what it decodes, for one call: one
// decoder for all its functions. Property, group and register names are
// made once per call, not per instruction: interning them anew cost a
// quarter of the census's decoding.
class Decoder {
 public:
  explicit Decoder(Napi::Env env)
      : env_(env),
        groups_(256),  // cs_detail's group ids are uint8_t
        registers_(X86_REG_ENDING) {
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle_) != CS_ERR_OK)
      throw_error(env, "DECODE_FAILED", "cannot start the x86 decoder");
    cs_option(handle_, CS_OPT_DETAIL, CS_OPT_ON);
  }
  ~Decoder() {
    if (handle_) cs_close(&handle_);
  }
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // The instructions of `bytes`, found at file offset `offset`; addresses
  // are given as file offsets.
  Napi::Array decode(const std::vector<uint8_t>& bytes, uint64_t offset) {
    Insns insns;
    insns.count = cs_disasm(handle_, bytes.data(), bytes.size(), offset, 0, &insns.insn);

    Napi::Array out = Napi::Array::New(env_, insns.count);
    for (size_t i = 0; i < insns.count; i++) {
      const cs_insn& insn = insns.insn[i];
      Napi::Object item = Napi::Object::New(env_);
      item.Set(keys_.offset, static_cast<double>(insn.address));
      item.Set(keys_.size, insn.size);
      item.Set(keys_.mnemonic, insn.mnemonic);
      item.Set(keys_.operands, insn.op_str);
      item.Set(keys_.bytes, Napi::Buffer<uint8_t>::Copy(env_, insn.bytes, insn.size));

      Napi::Array groups = Napi::Array::New(env_);
      for (uint8_t g = 0; g < insn.detail->groups_count; g++) {
        Napi::Value name = cached(groups_, insn.detail->groups[g], cs_group_name(handle_, insn.detail->groups[g]));
        if (!name.IsEmpty()) groups.Set(groups.Length(), name);
      }
      item.Set(keys_.groups, groups);

      cs_regs read, written;
      uint8_t read_count = 0, write_count = 0;
      Napi::Array writes = Napi::Array::New(env_);
      if (cs_regs_access(handle_, &insn, read, &read_count, written, &write_count) == CS_ERR_OK) {
        for (uint8_t r = 0; r < write_count; r++) {
          Napi::Value name = cached(registers_, written[r], cs_reg_name(handle_, written[r]));
          if (!name.IsEmpty()) writes.Set(writes.Length(), name);
        }
      }
      item.Set(keys_.writes, writes);

      // A direct branch's destination, as a file offset like `offset`.
      const cs_x86& x86 = insn.detail->x86;
      bool direct = x86.op_count == 1 && x86.operands[0].type == X86_OP_IMM &&
                    (cs_insn_group(handle_, &insn, CS_GRP_JUMP) || cs_insn_group(handle_, &insn, CS_GRP_CALL));
      item.Set(keys_.target, direct ? Napi::Number::New(env_, static_cast<double>(x86.operands[0].imm)) : env_.Null());
      out.Set(i, item);
    }
    return out;
  }

 private:
  struct Keys {
    explicit Keys(Napi::Env env)
        : offset(Napi::String::New(env, "offset")),
          size(Napi::String::New(env, "size")),
          mnemonic(Napi::String::New(env, "mnemonic")),
          operands(Napi::String::New(env, "operands")),
          bytes(Napi::String::New(env, "bytes")),
          groups(Napi::String::New(env, "groups")),
          writes(Napi::String::New(env, "writes")),
          target(Napi::String::New(env, "target")) {}
    Napi::String offset, size, mnemonic, operands, bytes, groups, writes, target;
  };

  // Capstone's name for `id` as a JavaScript string, empty when it has none.
  Napi::Value cached(std::vector<Napi::Value>& names, unsigned id, const char* text) {
    if (!text) return Napi::Value();
    if (id >= names.size()) return Napi::String::New(env_, text);
    if (names[id].IsEmpty()) names[id] = Napi::String::New(env_, text);
    return names[id];
  }

  Napi::Env env_;
  csh handle_ = 0;
  Keys keys_{env_};
  std::vector<Napi::Value> groups_;
  std::vector<Napi::Value> registers_;
};

// The code of an extent read_extents could not read, as JavaScript sees it.
const char* failure_code(const ExtentBytes& read) { return read.outside ? "OUTSIDE_FILE" : "READ_FAILED"; }

// decodeFunction(path, fileOffset, size): the instructions of
// [fileOffset, fileOffset + size); at most kMaxBytes of them are read.
Napi::Value DecodeFunction(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = string_argument(info, 0, "path");
  FileExtent extent{non_negative_integer(env, info[1], "fileOffset"),
                    std::min<uint64_t>(non_negative_integer(env, info[2], "size"), kMaxBytes)};
  std::vector<ExtentBytes> reads = reading_elf(env, [&] { return read_extents(path, {extent}); });
  const ExtentBytes& read = reads[0];
  if (read.outside || read.err)
    throw_error(env, failure_code(read), "cannot read " + std::to_string(extent.size) + " bytes at " +
                                             std::to_string(extent.offset) + " of " + path, read.err);
  return Decoder(env).decode(read.bytes, extent.offset);
}

// decodeFunctions(path, extents): per {fileOffset, size}, its instructions or
// {code, errno?} when that extent alone could not be read. One open of the
// file for all: the census decodes dozens of prologues per object.
Napi::Value DecodeFunctions(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = string_argument(info, 0, "path");
  Napi::Array items = array_argument(info, 1, "extents");
  if (items.Length() > kMaxExtents)
    throw Napi::RangeError::New(env, "at most " + std::to_string(kMaxExtents) + " extents");
  std::vector<FileExtent> extents;
  uint64_t total = 0;
  for (uint32_t i = 0; i < items.Length(); ++i) {
    Napi::Value item = items.Get(i);
    std::string name = "extents[" + std::to_string(i) + "]";
    if (!item.IsObject()) throw Napi::TypeError::New(env, name + " must be an object");
    Napi::Object extent = item.As<Napi::Object>();
    extents.push_back({non_negative_integer(env, extent.Get("fileOffset"), name + ".fileOffset"),
                       non_negative_integer(env, extent.Get("size"), name + ".size")});
    total += extents.back().size;
    if (total > kMaxBytes)
      throw Napi::RangeError::New(env, "extents may hold at most " + std::to_string(kMaxBytes) + " bytes in all");
  }
  std::vector<ExtentBytes> reads = reading_elf(env, [&] { return read_extents(path, extents); });

  Decoder decoder(env);
  Napi::Array out = Napi::Array::New(env, reads.size());
  for (uint32_t i = 0; i < reads.size(); ++i) {
    if (!reads[i].outside && !reads[i].err) {
      out.Set(i, decoder.decode(reads[i].bytes, extents[i].offset));
      continue;
    }
    Napi::Object failure = Napi::Object::New(env);
    failure.Set("code", failure_code(reads[i]));
    if (reads[i].err) failure.Set("errno", reads[i].err);
    out.Set(i, failure);
  }
  return out;
}

}  // namespace

void init_instruction_decoder(Napi::Env env, Napi::Object exports) {
  exports.Set("decodeFunction", Napi::Function::New<DecodeFunction>(env, "decodeFunction"));
  exports.Set("decodeFunctions", Napi::Function::New<DecodeFunctions>(env, "decodeFunctions"));
}

}  // namespace leakhound
