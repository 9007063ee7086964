#include "errors.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>

namespace leakhound {
namespace {

std::mutex log_mutex;
std::string log_text;

int keep_libbpf_line(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char line[1024];
  int n = vsnprintf(line, sizeof(line), format, args);
  std::lock_guard<std::mutex> lock(log_mutex);
  // Bounded: a verifier log can be megabytes; the tail says what failed.
  log_text.append(line);
  if (log_text.size() > 16384) log_text.erase(0, log_text.size() - 16384);
  return n;
}

}  // namespace

void capture_libbpf_output() { libbpf_set_print(keep_libbpf_line); }

std::string take_libbpf_output() {
  std::lock_guard<std::mutex> lock(log_mutex);
  std::string text;
  text.swap(log_text);
  return text;
}

void throw_error(Napi::Env env, const std::string& code, const std::string& message, int err) {
  std::string text = message;
  if (err) text += ": " + std::string(strerror(err));
  Napi::Error error = Napi::Error::New(env, text);
  error.Set("code", Napi::String::New(env, code));
  if (err) error.Set("errno", Napi::Number::New(env, err));
  std::string log = take_libbpf_output();
  if (!log.empty()) error.Set("detail", Napi::String::New(env, log));
  throw error;
}

}  // namespace leakhound
