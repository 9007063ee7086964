// N-API glue over unwind-table: a path in, the rows and pages out as the
// BPF maps store them; a file that cannot be read -> ELF_INVALID.
#include "unwind-table-addon.h"

#include "arguments.h"
#include "elf-reader.h"
#include "unwind-table.h"

namespace leakhound {
namespace {

template <typename T>
Napi::Buffer<uint8_t> packed(Napi::Env env, const std::vector<T>& items) {
  const uint8_t* bytes = reinterpret_cast<const uint8_t*>(items.data());
  return Napi::Buffer<uint8_t>::Copy(env, bytes, items.size() * sizeof(T));
}

// unwindTable(path): the object's rows and page index.
Napi::Value UnwindTableOf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = string_argument(info, 0, "path");
  UnwindTable table = reading_elf(env, [&] { return read_unwind_table(path); });
  Napi::Object out = Napi::Object::New(env);
  out.Set("rows", packed(env, table.rows));
  out.Set("pages", packed(env, table.pages));
  out.Set("fdes", static_cast<double>(table.fdes));
  out.Set("unsupportedRows", static_cast<double>(table.unsupported_rows));
  return out;
}

}  // namespace

void init_unwind_table(Napi::Env env, Napi::Object exports) {
  exports.Set("unwindTable", Napi::Function::New(env, UnwindTableOf, "unwindTable"));
}

}  // namespace leakhound
