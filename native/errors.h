// Native failures reach JavaScript as instances of leakhound's own error class
// (LeakhoundError, handed over once by setErrorClass): a stable `code`, the
// `errno` where there is one, and in `log` everything libbpf said during the
// failed operation (a verifier's log included).
#pragma once

#include <napi.h>

#include <string>

namespace leakhound {

// Keeps libbpf's non-debug output instead of printing it: it becomes the
// `log` of the error that explains a failed load or attach. Whole lines, no
// cut; the first 64 KiB and the last 1 MiB when there is more.
void capture_libbpf_output();
std::string take_libbpf_output();

// Exports setErrorClass(cls): native errors are then `new cls(code, message)`.
void init_errors(Napi::Env env, Napi::Object exports);

[[noreturn]] void throw_error(Napi::Env env, const std::string& code,
                              const std::string& message, int err = 0);

}  // namespace leakhound
