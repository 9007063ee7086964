#include "tracer.h"

#include <bpf/bpf.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "errors.h"
#include "../bpf/leakhound.h"
#include "uprobe-multi.h"

namespace leakhound {
namespace {

LoadOptions read_options(const Napi::Object& options) {
  LoadOptions out;
  auto read_numbers = [&](const char* field, auto& into) {
    if (!options.Has(field)) return;
    Napi::Object table = options.Get(field).As<Napi::Object>();
    Napi::Array names = table.GetPropertyNames();
    for (uint32_t i = 0; i < names.Length(); i++) {
      std::string name = names.Get(i).As<Napi::String>();
      into[name] = static_cast<std::remove_reference_t<decltype(into[name])>>(
          table.Get(name).As<Napi::Number>().Int64Value());
    }
  };
  read_numbers("knobs", out.knobs);
  read_numbers("maxEntries", out.max_entries);
  if (options.Has("uprobeMulti")) out.uprobe_multi = options.Get("uprobeMulti").As<Napi::Boolean>();
  if (options.Has("skipPrograms")) {
    Napi::Array names = options.Get("skipPrograms").As<Napi::Array>();
    for (uint32_t i = 0; i < names.Length(); i++) out.skip_programs.push_back(names.Get(i).As<Napi::String>());
  }
  return out;
}

}  // namespace

Napi::Function Tracer::Define(Napi::Env env) {
  return DefineClass(env, "Tracer",
                     {
                         InstanceMethod<&Tracer::AttachUprobes>("attachUprobes"),
                         InstanceMethod<&Tracer::AttachTracepoint>("attachTracepoint"),
                         InstanceMethod<&Tracer::AttachKprobes>("attachKprobes"),
                         InstanceMethod<&Tracer::Drain>("drain"),
                         InstanceMethod<&Tracer::Counters>("counters"),
                         InstanceMethod<&Tracer::MissedRuns>("missedRuns"),
                         InstanceMethod<&Tracer::Stack>("stack"),
                         InstanceMethod<&Tracer::Clock>("clock"),
                         InstanceMethod<&Tracer::Run>("run"),
                         InstanceMethod<&Tracer::Lookup>("lookup"),
                         InstanceMethod<&Tracer::Update>("update"),
                         InstanceMethod<&Tracer::WriteArray>("writeArray"),
                         InstanceMethod<&Tracer::Detach>("detach"),
                         InstanceMethod<&Tracer::Close>("close"),
                     });
}

// new Tracer(kind: 'user', { knobs, maxEntries, batchBytes })
Tracer::Tracer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Tracer>(info) {
  Napi::Env env = info.Env();
  std::string kind = info[0].As<Napi::String>();
  Napi::Object options = info[1].As<Napi::Object>();
  batch_limit_ = options.Get("batchBytes").As<Napi::Number>().Int64Value();
  LoadOptions load = read_options(options);
  std::string unknown;
  int err;
  if (kind == "user") err = load_user_alloc(load, loaded_, unknown);
  else if (kind == "kernel") err = load_kernel_alloc(load, loaded_, unknown);
  else if (kind == "kernel-kprobe") err = load_kernel_kprobe(load, loaded_, unknown);
  else throw_error(env, "EINVAL", "unknown tracer kind '" + kind + "'");
  if (!unknown.empty()) throw_error(env, "EINVAL", "BPF object has no setting '" + unknown + "'");
  if (err) throw_error(env, err == -EPERM ? "EPERM" : "LOAD_FAILED", "cannot load the BPF programs", -err);
  err = session_.open(bpf_object__find_map_by_name(loaded_.obj, "events"),
                      bpf_object__find_map_by_name(loaded_.obj, "counters"),
                      bpf_object__find_map_by_name(loaded_.obj, "stacks"));
  if (err) {
    Release();
    throw_error(env, "LOAD_FAILED", "cannot open the ring buffer", -err);
  }
}

void Tracer::Release() {
  session_.close();
  for (const auto& [map, mapping] : mapped_) munmap(mapping.at, mapping.length);
  mapped_.clear();
  if (loaded_.destroy) loaded_.destroy();
  loaded_ = LoadedObject{};
}

bpf_program* Tracer::Program(Napi::Env env, const std::string& name) {
  if (!loaded_.obj) throw_error(env, "CLOSED", "tracer is closed");
  bpf_program* program = bpf_object__find_program_by_name(loaded_.obj, name.c_str());
  if (!program) throw_error(env, "EINVAL", "no BPF program named '" + name + "'");
  return program;
}

// attachUprobes(program, path, fileOffsets, cookies, pid, isReturn): one
// uprobe_multi link for them all where the kernel has such links, else one
// link per probe. The cookie reaches the program (bpf_get_attach_cookie).
Napi::Value Tracer::AttachUprobes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_program* program = Program(env, info[0].As<Napi::String>());
  std::string path = info[1].As<Napi::String>();
  Napi::Array offset_array = info[2].As<Napi::Array>();
  Napi::Array cookie_array = info[3].As<Napi::Array>();
  int pid = info[4].As<Napi::Number>().Int32Value();
  bool is_return = info[5].As<Napi::Boolean>();
  std::vector<uint64_t> offsets, cookies;
  for (uint32_t i = 0; i < offset_array.Length(); i++) {
    offsets.push_back(static_cast<uint64_t>(offset_array.Get(i).As<Napi::Number>().Int64Value()));
    cookies.push_back(static_cast<uint64_t>(cookie_array.Get(i).As<Napi::Number>().Int64Value()));
  }
  auto fail = [&](int err, size_t at) {
    char where[32];
    snprintf(where, sizeof(where), "+0x%llx", static_cast<unsigned long long>(offsets[at]));
    throw_error(env, "ATTACH_FAILED",
                std::string("cannot attach ") + (is_return ? "uretprobe" : "uprobe") + " to " + path + where, err);
  };
  if (loaded_.uprobe_multi) {
    int fd = create_uprobe_multi_link(program, path, offsets, cookies, pid, is_return);
    if (fd < 0) fail(-fd, 0);
    session_.add_link_fd(fd);
    return env.Undefined();
  }
  for (size_t i = 0; i < offsets.size(); i++) {
    LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = cookies[i], .retprobe = is_return);
    bpf_link* link = bpf_program__attach_uprobe_opts(program, pid, path.c_str(), offsets[i], &opts);
    if (!link) fail(errno, i);
    session_.add_link(link);
  }
  return env.Undefined();
}

// attachTracepoint(program, category, name)
Napi::Value Tracer::AttachTracepoint(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_program* program = Program(env, info[0].As<Napi::String>());
  std::string category = info[1].As<Napi::String>();
  std::string name = info[2].As<Napi::String>();
  // A raw tracepoint is named without its category and needs no tracefs.
  bpf_link* link = bpf_program__type(program) == BPF_PROG_TYPE_RAW_TRACEPOINT
                       ? bpf_program__attach_raw_tracepoint(program, name.c_str())
                       : bpf_program__attach_tracepoint(program, category.c_str(), name.c_str());
  if (!link) {
    int err = errno;
    throw_error(env, "ATTACH_FAILED", "cannot attach to tracepoint " + category + ":" + name, err);
  }
  session_.add_link(link);
  return env.Undefined();
}

// attachKprobes(program, functions, cookies, isReturn): one kprobe (or
// kretprobe) link per kernel function, each with its cookie, which reaches
// the program (bpf_get_attach_cookie).
Napi::Value Tracer::AttachKprobes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_program* program = Program(env, info[0].As<Napi::String>());
  Napi::Array function_array = info[1].As<Napi::Array>();
  Napi::Array cookie_array = info[2].As<Napi::Array>();
  bool is_return = info[3].As<Napi::Boolean>();
  if (function_array.Length() != cookie_array.Length())
    throw_error(env, "EINVAL", "attachKprobes: one cookie per function");
  for (uint32_t i = 0; i < function_array.Length(); i++) {
    std::string function = function_array.Get(i).As<Napi::String>();
    uint64_t cookie = static_cast<uint64_t>(cookie_array.Get(i).As<Napi::Number>().Int64Value());
    LIBBPF_OPTS(bpf_kprobe_opts, opts, .bpf_cookie = cookie, .retprobe = is_return);
    bpf_link* link = bpf_program__attach_kprobe_opts(program, function.c_str(), &opts);
    if (!link) {
      int err = errno;
      throw_error(env, "ATTACH_FAILED", std::string("cannot attach ") + (is_return ? "kretprobe" : "kprobe") + " to " + function,
                  err);
    }
    session_.add_link(link);
  }
  return env.Undefined();
}

// drain(): Buffer of whole records, or null when none are waiting.
Napi::Value Tracer::Drain(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!session_.is_open()) throw_error(env, "CLOSED", "tracer is closed");
  int err = session_.drain(batch_, batch_limit_);
  if (err) throw_error(env, "READ_FAILED", "cannot read the ring buffer", -err);
  if (batch_.empty()) return env.Null();
  return Napi::Buffer<uint8_t>::Copy(env, batch_.data(), batch_.size());
}

Napi::Value Tracer::Counters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!session_.is_open()) throw_error(env, "CLOSED", "tracer is closed");
  std::vector<uint64_t> values = session_.counters();
  Napi::Array out = Napi::Array::New(env, values.size());
  for (uint32_t i = 0; i < values.size(); i++) out.Set(i, Napi::Number::New(env, static_cast<double>(values[i])));
  return out;
}

// missedRuns(): how often the kernel skipped one of our programs because a
// BPF program was already running on that CPU; each skip is a lost event.
Napi::Value Tracer::MissedRuns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!loaded_.obj) throw_error(env, "CLOSED", "tracer is closed");
  uint64_t missed = 0;
  bpf_program* program;
  bpf_object__for_each_program(program, loaded_.obj) {
    bpf_prog_info prog_info = {};
    uint32_t length = sizeof(prog_info);
    if (bpf_obj_get_info_by_fd(bpf_program__fd(program), &prog_info, &length) == 0) missed += prog_info.recursion_misses;
  }
  return Napi::Number::New(env, static_cast<double>(missed));
}

// Runs one of the object's never-attached programs once (BPF_PROG_TEST_RUN)
// and returns what it returned.
uint32_t Tracer::run_program(Napi::Env env, const char* name) {
  if (!loaded_.obj) throw_error(env, "CLOSED", "tracer is closed");
  bpf_program* program = bpf_object__find_program_by_name(loaded_.obj, name);
  if (!program) throw_error(env, "EINVAL", std::string("the BPF object has no ") + name + " program");
  LIBBPF_OPTS(bpf_test_run_opts, opts);
  int err = bpf_prog_test_run_opts(bpf_program__fd(program), &opts);
  if (err) throw_error(env, "RUN_FAILED", std::string("cannot run the BPF program ") + name, -err);
  return opts.retval;
}

// run(name): the program's return value.
Napi::Value Tracer::Run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "run(name): name must be a string");
  return Napi::Number::New(env, run_program(env, info[0].As<Napi::String>().Utf8Value().c_str()));
}

// clock(): {ticks, ns}, the kernel's tick count and monotonic nanoseconds,
// read together by the object's read_clock program into clock_reading.
Napi::Value Tracer::Clock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  run_program(env, "read_clock");
  bpf_map* reading = bpf_object__find_map_by_name(loaded_.obj, "clock_reading");
  lh_clock clock = {};
  uint32_t zero = 0;
  int err = reading ? bpf_map__lookup_elem(reading, &zero, sizeof(zero), &clock, sizeof(clock), 0) : -ENOENT;
  if (err) throw_error(env, "READ_FAILED", "cannot read the kernel's clocks", -err);
  Napi::Object out = Napi::Object::New(env);
  out.Set("ticks", static_cast<double>(clock.ticks));
  out.Set("ns", static_cast<double>(clock.ns));
  return out;
}

// stack(id): BigUint64Array of return addresses, innermost first.
Napi::Value Tracer::Stack(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!session_.is_open()) throw_error(env, "CLOSED", "tracer is closed");
  uint64_t id = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
  std::vector<uint64_t> ips = session_.stack(id);
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, ips.size() * sizeof(uint64_t));
  if (!ips.empty()) memcpy(buffer.Data(), ips.data(), ips.size() * sizeof(uint64_t));
  return Napi::TypedArrayOf<uint64_t>::New(env, ips.size(), buffer, 0, napi_biguint64_array);
}

namespace {

bpf_map* named_map(Napi::Env env, bpf_object* obj, const Napi::Value& name_value) {
  std::string name = name_value.As<Napi::String>();
  bpf_map* map = bpf_object__find_map_by_name(obj, name.c_str());
  if (!map) throw_error(env, "EINVAL", "no BPF map named '" + name + "'");
  return map;
}

// A map of the loaded object by name, and its key: a number in the width
// the map takes, or a Buffer of the key's bytes (a struct key).
struct MapKey {
  bpf_map* map;
  std::vector<uint8_t> bytes;
  const void* data() const { return bytes.data(); }
  size_t size() const { return bytes.size(); }
};

MapKey map_key(Napi::Env env, bpf_object* obj, const Napi::CallbackInfo& info) {
  bpf_map* map = named_map(env, obj, info[0]);
  size_t size = bpf_map__key_size(map);
  MapKey out{map, std::vector<uint8_t>(size)};
  if (info[1].IsBuffer()) {
    Napi::Buffer<uint8_t> key = info[1].As<Napi::Buffer<uint8_t>>();
    if (key.Length() != size)
      throw_error(env, "EINVAL", "BPF map '" + std::string(bpf_map__name(map)) + "' takes keys of " + std::to_string(size) + " bytes");
    memcpy(out.bytes.data(), key.Data(), size);
    return out;
  }
  uint64_t key = static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value());
  uint32_t key32 = static_cast<uint32_t>(key);
  if (size == sizeof(key)) memcpy(out.bytes.data(), &key, size);
  else if (size == sizeof(key32)) memcpy(out.bytes.data(), &key32, size);
  else throw_error(env, "EINVAL", "BPF map '" + std::string(bpf_map__name(map)) + "' has no numeric key");
  return out;
}

}  // namespace

// lookup(mapName, key): the value under a numeric (u32 or u64) key, as a
// Buffer, or null when there is none. Not for per-CPU maps.
Napi::Value Tracer::Lookup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!loaded_.obj) throw_error(env, "CLOSED", "tracer is closed");
  MapKey key = map_key(env, loaded_.obj, info);
  std::vector<uint8_t> value(bpf_map__value_size(key.map));
  int err = bpf_map__lookup_elem(key.map, key.data(), key.size(), value.data(), value.size(), 0);
  if (err == -ENOENT) return env.Null();
  if (err) throw_error(env, "READ_FAILED", "cannot read BPF map '" + std::string(bpf_map__name(key.map)) + "'", -err);
  return Napi::Buffer<uint8_t>::Copy(env, value.data(), value.size());
}

// update(mapName, key, value): writes a value (a Buffer of the map's value
// size) under a numeric key. Not for per-CPU maps.
Napi::Value Tracer::Update(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!loaded_.obj) throw_error(env, "CLOSED", "tracer is closed");
  MapKey key = map_key(env, loaded_.obj, info);
  Napi::Buffer<uint8_t> value = info[2].As<Napi::Buffer<uint8_t>>();
  if (value.Length() != bpf_map__value_size(key.map))
    throw_error(env, "EINVAL", "BPF map '" + std::string(bpf_map__name(key.map)) + "' takes values of " + std::to_string(bpf_map__value_size(key.map)) + " bytes");
  int err = bpf_map__update_elem(key.map, key.data(), key.size(), value.Data(), value.Length(), BPF_ANY);
  if (err) throw_error(env, "WRITE_FAILED", "cannot write BPF map '" + std::string(bpf_map__name(key.map)) + "'", -err);
  return env.Undefined();
}

// writeArray(mapName, index, bytes): copies whole values into an mmap-able
// array from `index` on, through its mapping: no system call per value,
// which matters for the million rows of a large program's unwind table.
Napi::Value Tracer::WriteArray(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!loaded_.obj) throw_error(env, "CLOSED", "tracer is closed");
  bpf_map* map = named_map(env, loaded_.obj, info[0]);
  std::string name = bpf_map__name(map);
  uint64_t index = static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value());
  Napi::Buffer<uint8_t> bytes = info[2].As<Napi::Buffer<uint8_t>>();
  size_t value_size = bpf_map__value_size(map);
  uint64_t entries = bpf_map__max_entries(map);
  if (!(bpf_map__map_flags(map) & BPF_F_MMAPABLE) || bpf_map__type(map) != BPF_MAP_TYPE_ARRAY)
    throw_error(env, "EINVAL", "BPF map '" + name + "' is not an mmap-able array");
  if (bytes.Length() % value_size || index > entries || bytes.Length() / value_size > entries - index)
    throw_error(env, "EINVAL", "BPF map '" + name + "': " + std::to_string(bytes.Length()) + " bytes at entry " + std::to_string(index) + " do not fit its " + std::to_string(entries) + " entries of " + std::to_string(value_size) + " bytes");
  auto mapped = mapped_.find(map);
  if (mapped == mapped_.end()) {
    size_t length = value_size * entries;
    void* at = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(map), 0);
    if (at == MAP_FAILED) throw_error(env, "WRITE_FAILED", "cannot map BPF map '" + name + "'", errno);
    mapped = mapped_.emplace(map, Mapping{at, length}).first;
  }
  memcpy(static_cast<uint8_t*>(mapped->second.at) + index * value_size, bytes.Data(), bytes.Length());
  return env.Undefined();
}

Napi::Value Tracer::Detach(const Napi::CallbackInfo& info) {
  session_.detach();
  return info.Env().Undefined();
}

Napi::Value Tracer::Close(const Napi::CallbackInfo& info) {
  Release();
  return info.Env().Undefined();
}

}  // namespace leakhound
