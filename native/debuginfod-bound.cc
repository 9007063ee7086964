#include "debuginfod-bound.h"

#include <elfutils/debuginfod.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <string>
#include <unordered_set>

namespace leakhound {
namespace {

using Clock = std::chrono::steady_clock;

// The lookup under way on this thread: libdebuginfod calls back on it.
struct Lookup {
  Clock::time_point last_progress = Clock::now();
  long bytes = -1;
};
thread_local Lookup* current = nullptr;

// Set once a lookup was cut: a server that stalled once is not waited for again.
std::atomic<bool> server_stalled{false};

std::mutex missing_mutex;
std::unordered_set<std::string> missing;  // build-ids (hex) nothing had a debug file for

Clock::duration stall_limit() {
  const char* timeout = getenv(DEBUGINFOD_TIMEOUT_ENV_VAR);
  long seconds = timeout ? strtol(timeout, nullptr, 10) : 0;
  return std::chrono::seconds(seconds > 0 ? seconds : 10);
}

// Called about once a second; nonzero aborts the lookup. Until a server
// answers with a length, `bytes` only counts the calls: the limit then runs
// from the lookup's start.
int on_progress(debuginfod_client*, long bytes, long length) {
  if (!current) return 0;
  if (server_stalled) return 1;
  Clock::time_point now = Clock::now();
  if (length > 0 && bytes != current->bytes) {
    current->bytes = bytes;
    current->last_progress = now;
    return 0;
  }
  if (now - current->last_progress < stall_limit()) return 0;
  server_stalled = true;
  return 1;
}

std::string build_id_of(Dwfl_Module* mod) {
  const unsigned char* bits = nullptr;
  GElf_Addr vaddr = 0;
  int length = dwfl_module_build_id(mod, &bits, &vaddr);
  static const char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (int i = 0; i < length; ++i) {
    hex += kDigits[bits[i] >> 4];
    hex += kDigits[bits[i] & 0xf];
  }
  return hex;
}

}  // namespace

void watch_debuginfod(Dwfl* dwfl) {
  if (debuginfod_client* client = dwfl_get_debuginfod_client(dwfl))
    debuginfod_set_progressfn(client, on_progress);
}

int find_debuginfo_bounded(Dwfl_Module* mod, void** userdata, const char* module_name,
                           Dwarf_Addr base, const char* file_name, const char* debuglink,
                           GElf_Word debuglink_crc, char** debuginfo_file_name) {
  std::string build_id = build_id_of(mod);
  if (!build_id.empty()) {
    std::lock_guard<std::mutex> lock(missing_mutex);
    if (missing.count(build_id)) return -1;
  }
  Lookup lookup;
  current = &lookup;
  int fd = dwfl_standard_find_debuginfo(mod, userdata, module_name, base, file_name, debuglink,
                                        debuglink_crc, debuginfo_file_name);
  current = nullptr;
  if (fd < 0 && !build_id.empty()) {
    std::lock_guard<std::mutex> lock(missing_mutex);
    missing.insert(build_id);
  }
  return fd;
}

}  // namespace leakhound
