// Native failures reach JavaScript as one Error with a stable `code`, the
// errno where there is one, and libbpf's own last words.
#pragma once

#include <napi.h>

#include <string>

namespace leakhound {

// Keeps libbpf's warnings instead of printing them: they become part of the
// error that explains a failed load or attach.
void capture_libbpf_output();
std::string take_libbpf_output();

[[noreturn]] void throw_error(Napi::Env env, const std::string& code,
                              const std::string& message, int err = 0);

}  // namespace leakhound
