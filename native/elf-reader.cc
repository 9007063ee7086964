// N-API glue over elf-core and module-symbolizer: arguments in, plain
// objects out, ElfError -> ELF_INVALID.
#include "elf-reader.h"

#include <algorithm>

#include "arguments.h"
#include "elf-core.h"
#include "module-symbolizer.h"

namespace leakhound {
namespace {

std::vector<std::string> string_list(const Napi::CallbackInfo& info, size_t index, const char* name) {
  Napi::Array array = array_argument(info, index, name);
  std::vector<std::string> strings;
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value item = array.Get(i);
    if (!item.IsString())
      throw Napi::TypeError::New(info.Env(), std::string(name) + " must hold only strings");
    strings.push_back(item.As<Napi::String>().Utf8Value());
  }
  return strings;
}

std::vector<uint64_t> offset_list(const Napi::CallbackInfo& info, size_t index, const char* name) {
  Napi::Array array = array_argument(info, index, name);
  std::vector<uint64_t> offsets;
  for (uint32_t i = 0; i < array.Length(); ++i)
    offsets.push_back(non_negative_integer(info.Env(), array.Get(i), std::string(name) + "[" + std::to_string(i) + "]"));
  return offsets;
}

Napi::Value string_or_null(Napi::Env env, const std::optional<std::string>& text) {
  return text ? Napi::String::New(env, *text) : env.Null();
}

Napi::Value line_or_null(Napi::Env env, const std::optional<uint64_t>& line) {
  return line ? Napi::Number::New(env, static_cast<double>(*line)) : env.Null();
}

const char* type_name(ElfType type) {
  switch (type) {
    case ElfType::exec: return "exec";
    case ElfType::dyn: return "dyn";
    case ElfType::other: break;
  }
  return "other";
}

Napi::Array symbol_array(Napi::Env env, const std::vector<FunctionSymbol>& symbols) {
  Napi::Array out = Napi::Array::New(env, symbols.size());
  for (uint32_t i = 0; i < symbols.size(); ++i) {
    Napi::Object symbol = Napi::Object::New(env);
    symbol.Set("name", symbols[i].name);
    symbol.Set("address", static_cast<double>(symbols[i].address));
    symbol.Set("fileOffset", static_cast<double>(symbols[i].file_offset));
    symbol.Set("size", static_cast<double>(symbols[i].size));
    out.Set(i, symbol);
  }
  return out;
}

Napi::Value ElfSymbols(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = string_argument(info, 0, "path");
  std::vector<std::string> names = string_list(info, 1, "names");
  return symbol_array(env, reading_elf(env, [&] { return find_function_symbols(path, names); }));
}

// elfFunctionSample(path, max): functions spread over the symbol table (or
// the unwinding table of a stripped object), for judging how the object was
// compiled.
Napi::Value ElfFunctionSample(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = string_argument(info, 0, "path");
  if (!info[1].IsNumber()) throw Napi::TypeError::New(env, "max must be a number");
  size_t max = static_cast<size_t>(std::clamp(info[1].As<Napi::Number>().DoubleValue(), 0.0, 65536.0));
  return symbol_array(env, reading_elf(env, [&] { return sample_function_symbols(path, max); }));
}

Napi::Value ElfInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = string_argument(info, 0, "path");
  ElfSummary summary = reading_elf(env, [&] { return read_elf_summary(path); });
  Napi::Object out = Napi::Object::New(env);
  out.Set("type", type_name(summary.type));
  out.Set("interpreter", string_or_null(env, summary.interpreter));
  out.Set("hasSymtab", summary.has_symtab);
  out.Set("hasDebugInfo", summary.has_debug_info);
  out.Set("buildId", string_or_null(env, summary.build_id));
  return out;
}

class Symbolizer : public Napi::ObjectWrap<Symbolizer> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Symbolizer",
                       {InstanceMethod<&Symbolizer::Symbolize>("symbolize"),
                        InstanceMethod<&Symbolizer::Close>("close")});
  }

  explicit Symbolizer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Symbolizer>(info) {}

 private:
  Napi::Value Symbolize(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string path = string_argument(info, 0, "path");
    std::vector<uint64_t> offsets = offset_list(info, 1, "fileOffsets");
    std::vector<SourceLocation> locations = modules_.symbolize(path, offsets);
    Napi::Array out = Napi::Array::New(env, locations.size());
    for (uint32_t i = 0; i < locations.size(); ++i) {
      const SourceLocation& where = locations[i];
      Napi::Object location = Napi::Object::New(env);
      location.Set("symbol", string_or_null(env, where.symbol));
      location.Set("symbolOffset", static_cast<double>(where.symbol_offset));
      location.Set("file", string_or_null(env, where.file));
      location.Set("line", line_or_null(env, where.line));
      Napi::Array inlined = Napi::Array::New(env, where.inlined.size());
      for (uint32_t j = 0; j < where.inlined.size(); ++j) {
        const InlinedFrame& frame = where.inlined[j];
        Napi::Object call = Napi::Object::New(env);
        call.Set("symbol", string_or_null(env, frame.symbol));
        call.Set("file", string_or_null(env, frame.file));
        call.Set("line", line_or_null(env, frame.line));
        inlined.Set(j, call);
      }
      location.Set("inlined", inlined);
      out.Set(i, location);
    }
    return out;
  }

  void Close(const Napi::CallbackInfo&) { modules_.clear(); }

  ModuleSymbolizer modules_;
};

}  // namespace

void init_elf_reader(Napi::Env env, Napi::Object exports) {
  exports.Set("elfSymbols", Napi::Function::New(env, ElfSymbols, "elfSymbols"));
  exports.Set("elfInfo", Napi::Function::New(env, ElfInfo, "elfInfo"));
  exports.Set("elfFunctionSample", Napi::Function::New(env, ElfFunctionSample, "elfFunctionSample"));
  exports.Set("Symbolizer", Symbolizer::Define(env));
}

}  // namespace leakhound
