#include "errors.h"

#include <bpf/libbpf.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <vector>

namespace leakhound {
namespace {

constexpr size_t kHeadBytes = 64 << 10;  // what libbpf said first: which object, which program
constexpr size_t kTailBytes = 1 << 20;   // and last: the verifier's verdict ends its log

// libbpf's output for one operation, bounded: a verifier log can run to
// hundreds of megabytes for a large program.
class BoundedLog {
 public:
  void append(const char* text, size_t size) {
    if (head_.size() < kHeadBytes) {
      size_t n = std::min(size, kHeadBytes - head_.size());
      head_.append(text, n);
      text += n;
      size -= n;
    }
    if (size == 0) return;
    tail_.append(text, size);
    if (tail_.size() >= 2 * kTailBytes) trim();  // amortised: trim once per MiB
  }

  std::string take() {
    trim();
    std::string out;
    out.swap(head_);
    if (dropped_ > 0) {
      // The tail restarts at a line so that no half line follows the marker.
      size_t line = tail_.find('\n');
      if (line != std::string::npos && line + 1 < tail_.size()) {
        dropped_ += line + 1;
        tail_.erase(0, line + 1);
      }
      if (!out.empty() && out.back() != '\n') out += '\n';
      out += "[leakhound: " + std::to_string(dropped_) + " bytes of libbpf output left out]\n";
    }
    out += tail_;
    tail_.clear();
    dropped_ = 0;
    return out;
  }

 private:
  void trim() {
    if (tail_.size() <= kTailBytes) return;
    size_t excess = tail_.size() - kTailBytes;
    tail_.erase(0, excess);
    dropped_ += excess;
  }

  std::string head_;
  std::string tail_;
  size_t dropped_ = 0;
};

std::mutex log_mutex;
BoundedLog log_text;

int keep_libbpf_output(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  // Formatted whole: a verifier log arrives as one multi-megabyte string.
  char small[1024];
  va_list copy;
  va_copy(copy, args);
  int n = vsnprintf(small, sizeof(small), format, copy);
  va_end(copy);
  if (n < 0) return n;
  std::lock_guard<std::mutex> lock(log_mutex);
  if (static_cast<size_t>(n) < sizeof(small)) {
    log_text.append(small, n);
  } else {
    std::vector<char> large(static_cast<size_t>(n) + 1);
    vsnprintf(large.data(), large.size(), format, args);
    log_text.append(large.data(), n);
  }
  return n;
}

// The class JavaScript handed over, per environment (worker threads have their own).
struct ErrorClass {
  Napi::FunctionReference constructor;
};

Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) throw Napi::TypeError::New(env, "setErrorClass(cls): cls must be a class");
  auto* data = new ErrorClass{Napi::Persistent(info[0].As<Napi::Function>())};
  env.SetInstanceData<ErrorClass>(data);  // deletes any earlier one
  return env.Undefined();
}

}  // namespace

void capture_libbpf_output() { libbpf_set_print(keep_libbpf_output); }

std::string take_libbpf_output() {
  std::lock_guard<std::mutex> lock(log_mutex);
  return log_text.take();
}

void init_errors(Napi::Env env, Napi::Object exports) {
  exports.Set("setErrorClass", Napi::Function::New<SetErrorClass>(env, "setErrorClass"));
}

void throw_error(Napi::Env env, const std::string& code, const std::string& message, int err) {
  std::string text = message;
  if (err) text += ": " + std::string(strerror(err));
  std::string log = take_libbpf_output();
  Napi::Object error;
  ErrorClass* cls = env.GetInstanceData<ErrorClass>();
  if (cls && !cls->constructor.IsEmpty()) {
    error = cls->constructor.New({Napi::String::New(env, code), Napi::String::New(env, text)});
  } else {
    error = Napi::Error::New(env, text).Value();
    error.Set("code", Napi::String::New(env, code));
  }
  if (err) error.Set("errno", Napi::Number::New(env, err));
  if (!log.empty()) error.Set("log", Napi::String::New(env, log));
  throw Napi::Error(env, error);
}

}  // namespace leakhound
