// Module init only: each part registers its own exports.
#include <napi.h>

#include "../bpf/leakhound.h"
#include "elf-reader.h"
#include "errors.h"
#include "instruction-decoder.h"
#include "kernel-features.h"
#include "process-control.h"
#include "thread-registers.h"
#include "tracer.h"
#include "unwind-table-addon.h"

namespace leakhound {
namespace {

// The record layout as this build compiled it; TypeScript refuses to run
// against an addon whose layout differs from its own.
Napi::Object Layout(Napi::Env env) {
  Napi::Object layout = Napi::Object::New(env);
  layout.Set("eventSize", sizeof(lh_event));
  layout.Set("kind", offsetof(lh_event, kind));
  layout.Set("flags", offsetof(lh_event, flags));
  layout.Set("tgid", offsetof(lh_event, tgid));
  layout.Set("addr", offsetof(lh_event, addr));
  layout.Set("size", offsetof(lh_event, size));
  layout.Set("stackId", offsetof(lh_event, stack_id));
  layout.Set("ticks", offsetof(lh_event, ticks));
  layout.Set("maxStackDepth", LH_MAX_STACK_DEPTH);
  layout.Set("counters", static_cast<uint32_t>(LH_CNT__MAX));
  layout.Set("allocFunctions", static_cast<uint32_t>(LH_FN_NEW) + 1);
  return layout;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  capture_libbpf_output();
  init_errors(env, exports);
  exports.Set("layout", Layout(env));
  exports.Set("Tracer", Tracer::Define(env));
  init_process_control(env, exports);
  init_thread_registers(env, exports);
  init_elf_reader(env, exports);
  init_instruction_decoder(env, exports);
  init_kernel_features(env, exports);
  init_unwind_table(env, exports);
  return exports;
}

}  // namespace
}  // namespace leakhound

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return leakhound::Init(env, exports); }

NODE_API_MODULE(leakhound, InitModule)
