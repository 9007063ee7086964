// The JavaScript handle on one loaded BPF object: `new Tracer(kind, options)`
// loads it, attach* adds probes, drain() hands over a batch of raw records,
// close() takes everything down. Policy lives in TypeScript.
#pragma once

#include <napi.h>

#include <map>
#include <vector>

#include "bpf-session.h"
#include "loaders.h"

namespace leakhound {

class Tracer : public Napi::ObjectWrap<Tracer> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Tracer(const Napi::CallbackInfo& info);
  ~Tracer() override { Release(); }

 private:
  Napi::Value AttachUprobes(const Napi::CallbackInfo& info);
  Napi::Value AttachTracepoint(const Napi::CallbackInfo& info);
  Napi::Value AttachKprobes(const Napi::CallbackInfo& info);
  Napi::Value Drain(const Napi::CallbackInfo& info);
  Napi::Value Counters(const Napi::CallbackInfo& info);
  Napi::Value MissedRuns(const Napi::CallbackInfo& info);
  Napi::Value Stack(const Napi::CallbackInfo& info);
  Napi::Value Clock(const Napi::CallbackInfo& info);
  Napi::Value Run(const Napi::CallbackInfo& info);
  Napi::Value Lookup(const Napi::CallbackInfo& info);
  Napi::Value Update(const Napi::CallbackInfo& info);
  Napi::Value WriteArray(const Napi::CallbackInfo& info);
  Napi::Value Detach(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  bpf_program* Program(Napi::Env env, const std::string& name);
  void Release();

  uint32_t run_program(Napi::Env env, const char* name);

  LoadedObject loaded_;
  BpfSession session_;
  std::vector<uint8_t> batch_;
  // Arrays mapped by writeArray, unmapped before the object is closed.
  struct Mapping {
    void* at;
    size_t length;
  };
  std::map<bpf_map*, Mapping> mapped_;
  size_t batch_limit_ = 0;
};

}  // namespace leakhound
