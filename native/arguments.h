// Checks of what JavaScript hands the addon: a wrong type is a TypeError, a
// number out of range a RangeError, before any file is touched.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>

namespace leakhound {

inline std::string string_argument(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (!info[index].IsString())
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a string");
  return info[index].As<Napi::String>().Utf8Value();
}

inline Napi::Array array_argument(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (!info[index].IsArray())
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be an array");
  return info[index].As<Napi::Array>();
}

// A file offset or size: an integer JavaScript holds exactly.
inline uint64_t non_negative_integer(Napi::Env env, const Napi::Value& value, const std::string& name) {
  constexpr double kMaxSafeInteger = 9007199254740991.0;  // 2^53 - 1
  double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : -1;
  if (!(number >= 0 && number <= kMaxSafeInteger && std::floor(number) == number))
    throw Napi::RangeError::New(env, name + " must be a non-negative integer");
  return static_cast<uint64_t>(number);
}

}  // namespace leakhound
