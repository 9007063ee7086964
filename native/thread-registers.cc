#include "thread-registers.h"

#include <sys/ptrace.h>
#include <sys/user.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include <cerrno>
#include <cstdint>

#include "arguments.h"

namespace leakhound {
namespace {

// A thread already group-stopped reaches its trap at once; this bounds the
// wait should it not (another tracer's games, a kernel that differs).
constexpr long kTrapWaitNs = 100 * 1000 * 1000;
constexpr long kPollNs = 100 * 1000;

long elapsed_ns(const timespec& from) {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - from.tv_sec) * 1000000000L + (now.tv_nsec - from.tv_nsec);
}

// Waits for the seized thread's trap-stop; false when it did not come.
// Stops only (no WEXITED): leakhound is a launched command's parent, and
// should the command die meanwhile its exit status is reap()'s to take.
bool await_trap(pid_t tid) {
  timespec from;
  clock_gettime(CLOCK_MONOTONIC, &from);
  const timespec poll = {0, kPollNs};
  for (;;) {
    siginfo_t stop = {};
    int got = waitid(P_PID, tid, &stop, WSTOPPED | __WALL | WNOHANG);
    if (got == 0 && stop.si_pid == tid) return true;
    if (got < 0 && errno != EINTR) return false;
    if (elapsed_ns(from) > kTrapWaitNs) return false;
    nanosleep(&poll, nullptr);
  }
}

// threadRegisters(tid): the thread's struct user_regs_struct as a Buffer
// (27 little-endian u64s), or null when a step failed (EPERM: another
// tracer holds it, or no CAP_SYS_PTRACE; ESRCH: it is gone). Seize (no
// SIGSTOP sent), interrupt, wait, read, detach: a thread of a group-stopped
// process stays stopped after the detach. Nothing is written to the thread.
Napi::Value ThreadRegisters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t tid = static_cast<pid_t>(non_negative_integer(env, info[0], "tid"));
  if (ptrace(PTRACE_SEIZE, tid, nullptr, nullptr)) return env.Null();
  user_regs_struct regs;
  bool read = ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) == 0 && await_trap(tid) &&
              ptrace(PTRACE_GETREGS, tid, nullptr, &regs) == 0;
  ptrace(PTRACE_DETACH, tid, nullptr, nullptr);
  if (!read) return env.Null();
  return Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(&regs), sizeof(regs));
}

}  // namespace

void init_thread_registers(Napi::Env env, Napi::Object exports) {
  exports.Set("threadRegisters", Napi::Function::New<ThreadRegisters>(env, "threadRegisters"));
}

}  // namespace leakhound
