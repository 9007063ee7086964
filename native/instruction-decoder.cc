#include "instruction-decoder.h"

#include <capstone/capstone.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "errors.h"

namespace leakhound {
namespace {

// A probe site is chosen among a function's first instructions; nothing
// past this many bytes is ever read.
constexpr size_t kMaxBytes = 64 * 1024;

struct CapstoneHandle {
  csh handle = 0;
  ~CapstoneHandle() {
    if (handle) cs_close(&handle);
  }
};

struct Insns {
  cs_insn* insn = nullptr;
  size_t count = 0;
  ~Insns() {
    if (insn) cs_free(insn, count);
  }
};

std::vector<uint8_t> read_at(const std::string& path, uint64_t offset, size_t size, int& err) {
  std::vector<uint8_t> bytes(size);
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    err = errno;
    return {};
  }
  ssize_t n = pread(fd, bytes.data(), size, static_cast<off_t>(offset));
  err = n < 0 ? errno : 0;
  close(fd);
  bytes.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return bytes;
}

// decodeFunction(path, fileOffset, size): the instructions of
// [fileOffset, fileOffset + size), addresses given as file offsets.
Napi::Value DecodeFunction(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  uint64_t offset = static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value());
  size_t size = std::min(static_cast<size_t>(info[2].As<Napi::Number>().Int64Value()), kMaxBytes);
  int err = 0;
  std::vector<uint8_t> bytes = read_at(path, offset, size, err);
  if (err) throw_error(env, "READ_FAILED", "cannot read " + path, err);

  CapstoneHandle cs;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs.handle) != CS_ERR_OK)
    throw_error(env, "DECODE_FAILED", "cannot start the x86 decoder");
  cs_option(cs.handle, CS_OPT_DETAIL, CS_OPT_ON);
  Insns insns;
  insns.count = cs_disasm(cs.handle, bytes.data(), bytes.size(), offset, 0, &insns.insn);

  Napi::Array out = Napi::Array::New(env, insns.count);
  for (size_t i = 0; i < insns.count; i++) {
    const cs_insn& insn = insns.insn[i];
    Napi::Object item = Napi::Object::New(env);
    item.Set("offset", static_cast<double>(insn.address));
    item.Set("size", insn.size);
    item.Set("mnemonic", insn.mnemonic);
    item.Set("operands", insn.op_str);
    item.Set("bytes", Napi::Buffer<uint8_t>::Copy(env, insn.bytes, insn.size));

    Napi::Array groups = Napi::Array::New(env);
    for (uint8_t g = 0; g < insn.detail->groups_count; g++) {
      const char* name = cs_group_name(cs.handle, insn.detail->groups[g]);
      if (name) groups.Set(groups.Length(), name);
    }
    item.Set("groups", groups);

    cs_regs read, written;
    uint8_t read_count = 0, write_count = 0;
    Napi::Array writes = Napi::Array::New(env);
    if (cs_regs_access(cs.handle, &insn, read, &read_count, written, &write_count) == CS_ERR_OK) {
      for (uint8_t r = 0; r < write_count; r++) writes.Set(writes.Length(), cs_reg_name(cs.handle, written[r]));
    }
    item.Set("writes", writes);

    // A direct branch's destination, as a file offset like `offset`.
    const cs_x86& x86 = insn.detail->x86;
    bool direct = x86.op_count == 1 && x86.operands[0].type == X86_OP_IMM &&
                  (cs_insn_group(cs.handle, &insn, CS_GRP_JUMP) || cs_insn_group(cs.handle, &insn, CS_GRP_CALL));
    item.Set("target", direct ? Napi::Number::New(env, static_cast<double>(x86.operands[0].imm)) : env.Null());
    out.Set(i, item);
  }
  return out;
}

}  // namespace

void init_instruction_decoder(Napi::Env env, Napi::Object exports) {
  exports.Set("decodeFunction", Napi::Function::New<DecodeFunction>(env, "decodeFunction"));
}

}  // namespace leakhound
