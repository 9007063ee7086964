#include "process-control.h"

#include <asm/prctl.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "errors.h"

namespace leakhound {
namespace {

std::vector<std::string> strings(const Napi::Array& array) {
  std::vector<std::string> out;
  for (uint32_t i = 0; i < array.Length(); i++) out.push_back(array.Get(i).As<Napi::String>());
  return out;
}

std::vector<char*> pointers(std::vector<std::string>& values) {
  std::vector<char*> out;
  for (auto& value : values) out.push_back(value.data());
  out.push_back(nullptr);
  return out;
}

// What the forked child reports back when it cannot become the command.
constexpr int kTraceMeFailed = 1;
constexpr int kExecFailed = 2;

int64_t microseconds(const timeval& t) { return int64_t{t.tv_sec} * 1000000 + t.tv_usec; }

// Exit status as a shell reports it (the code, or 128 + the signal), and the
// CPU time the command used: its own and that of the children it waited for.
Napi::Value exit_status(Napi::Env env, int status, const rusage& usage) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("cpuMs", (microseconds(usage.ru_utime) + microseconds(usage.ru_stime)) / 1e3);
  if (WIFSIGNALED(status)) {
    out.Set("code", 128 + WTERMSIG(status));
    out.Set("signal", WTERMSIG(status));
  } else {
    out.Set("code", WEXITSTATUS(status));
    out.Set("signal", env.Null());
  }
  return out;
}

// spawnStopped(path, argv, envp): forks and execs under PTRACE_TRACEME; the
// child is left stopped right after exec, before its first instruction.
Napi::Value SpawnStopped(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  std::vector<std::string> argv_strings = strings(info[1].As<Napi::Array>());
  std::vector<std::string> env_strings = strings(info[2].As<Napi::Array>());
  std::vector<char*> argv = pointers(argv_strings);
  std::vector<char*> envp = pointers(env_strings);

  // The exec error travels back through a close-on-exec pipe: EOF means the
  // exec succeeded.
  int report[2];
  if (pipe2(report, O_CLOEXEC)) throw_error(env, "SPAWN_FAILED", "cannot create a pipe", errno);
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close(report[0]);
    close(report[1]);
    throw_error(env, "SPAWN_FAILED", "cannot fork", err);
  }
  if (pid == 0) {
    // Only async-signal-safe calls here: the parent is multi-threaded.
    // Node ignores SIGPIPE; the command must start with default dispositions.
    struct sigaction dfl = {};
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGPIPE, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    // The command keeps leakhound's stdin, stdout and stderr: Node marks
    // them close-on-exec and non-blocking, neither of which a command expects.
    for (int fd = 0; fd <= 2; fd++) {
      int fd_flags = fcntl(fd, F_GETFD);
      if (fd_flags >= 0) fcntl(fd, F_SETFD, fd_flags & ~FD_CLOEXEC);
      int status_flags = fcntl(fd, F_GETFL);
      if (status_flags >= 0) fcntl(fd, F_SETFL, status_flags & ~O_NONBLOCK);
    }
    // Which step failed, and its errno: a failed PTRACE_TRACEME (the child
    // is already traced, by strace -f say) is not a failed exec.
    int failure[2] = {0, 0};
    if (ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) == 0) {
      execve(path.c_str(), argv.data(), envp.data());
      failure[0] = kExecFailed;
    } else {
      failure[0] = kTraceMeFailed;
    }
    failure[1] = errno;
    (void)!write(report[1], failure, sizeof(failure));
    _exit(127);
  }
  close(report[1]);
  int failure[2] = {0, 0};
  ssize_t n;
  do n = read(report[0], failure, sizeof(failure));
  while (n < 0 && errno == EINTR);
  close(report[0]);
  int status = 0;
  if (n == sizeof(failure)) {
    waitpid(pid, &status, 0);
    if (failure[0] == kTraceMeFailed) throw_error(env, "SPAWN_TRACED", "cannot hold " + path + " before its first instruction (PTRACE_TRACEME)", failure[1]);
    throw_error(env, "SPAWN_FAILED", "cannot execute " + path, failure[1]);
  }
  if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status)) {
    throw_error(env, "SPAWN_FAILED", "the command did not stop after exec", ECHILD);
  }
  // If leakhound dies while the command is held, the command dies too
  // rather than staying stopped forever.
  ptrace(PTRACE_SETOPTIONS, pid, nullptr, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL);
  return Napi::Number::New(env, pid);
}

// runToTlsSetup(pid, maxSyscalls): lets the stopped command run, one system
// call at a time, until it sets up thread-local storage. By then the dynamic
// loader has mapped every library it loads at start-up and no library code
// has run yet: the moment to attach to the allocator. Returns
// { state: 'ready', syscalls } with the command stopped, or
// { state: 'exited', code, signal }.
Napi::Value RunToTlsSetup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t pid = info[0].As<Napi::Number>().Int32Value();
  uint32_t max_syscalls = info[1].As<Napi::Number>().Uint32Value();
  bool entering = true;
  int signal_to_deliver = 0;
  for (uint32_t syscalls = 0; syscalls < max_syscalls;) {
    if (ptrace(PTRACE_SYSCALL, pid, nullptr, reinterpret_cast<void*>(static_cast<long>(signal_to_deliver))))
      throw_error(env, "SPAWN_FAILED", "cannot resume the command", errno);
    signal_to_deliver = 0;
    int status;
    rusage usage;
    if (wait4(pid, &status, 0, &usage) != pid) throw_error(env, "SPAWN_FAILED", "cannot wait for the command", errno);
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      Napi::Object out = exit_status(env, status, usage).As<Napi::Object>();
      out.Set("state", "exited");
      return out;
    }
    if (!WIFSTOPPED(status)) continue;
    if (WSTOPSIG(status) != (SIGTRAP | 0x80)) {
      signal_to_deliver = WSTOPSIG(status) == SIGTRAP ? 0 : WSTOPSIG(status);
      continue;
    }
    if (entering) {
      user_regs_struct regs;
      if (ptrace(PTRACE_GETREGS, pid, nullptr, &regs))
        throw_error(env, "SPAWN_FAILED", "cannot read the command's registers", errno);
      if (regs.orig_rax == SYS_arch_prctl && regs.rdi == ARCH_SET_FS) {
        Napi::Object out = Napi::Object::New(env);
        out.Set("state", "ready");
        out.Set("syscalls", syscalls);
        return out;
      }
      syscalls++;
    }
    entering = !entering;
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("state", "limit");
  out.Set("syscalls", max_syscalls);
  return out;
}

// seize(pid): takes a stopped process (one that stopped itself at exec) as
// a tracee, so that runToTlsSetup can run its loader; release lets it go.
Napi::Value Seize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t pid = info[0].As<Napi::Number>().Int32Value();
  if (ptrace(PTRACE_SEIZE, pid, nullptr, reinterpret_cast<void*>(static_cast<long>(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL))))
    throw_error(env, "SPAWN_FAILED", "cannot hold the command at its exec", errno);
  return env.Undefined();
}

// release(pid): lets the held command run on, no longer traced.
Napi::Value Release(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t pid = info[0].As<Napi::Number>().Int32Value();
  if (ptrace(PTRACE_DETACH, pid, nullptr, nullptr) && errno != ESRCH)
    throw_error(env, "SPAWN_FAILED", "cannot release the command", errno);
  return env.Undefined();
}

// reap(pid): the exit status of a finished child, or null while it runs.
Napi::Value Reap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t pid = info[0].As<Napi::Number>().Int32Value();
  int status;
  rusage usage;
  pid_t done = wait4(pid, &status, WNOHANG, &usage);
  if (done == 0) return env.Null();
  if (done < 0) throw_error(env, "ECHILD", "cannot wait for process " + std::to_string(pid), errno);
  if (WIFSTOPPED(status) || WIFCONTINUED(status)) return env.Null();
  return exit_status(env, status, usage);
}

// Where each watched signal last came from: si_code and si_pid, written by
// the handler and read later from JavaScript.
struct SignalOrigin {
  std::atomic<int> code{0};
  std::atomic<int> pid{0};
  std::atomic<bool> seen{false};
};
SignalOrigin origins[NSIG];
struct sigaction chained[NSIG];

void record_origin(int signal, siginfo_t* info, void* context) {
  origins[signal].code.store(info->si_code, std::memory_order_relaxed);
  origins[signal].pid.store(info->si_pid, std::memory_order_relaxed);
  origins[signal].seen.store(true, std::memory_order_release);
  const struct sigaction& next = chained[signal];
  if (next.sa_flags & SA_SIGINFO) next.sa_sigaction(signal, info, context);
  else if (next.sa_handler != SIG_DFL && next.sa_handler != SIG_IGN) next.sa_handler(signal);
}

// watchSignalOrigins(signals): puts a handler that notes each signal's origin
// in front of the one Node installed (call it after process.on(signal)).
// Node's own handler sees no siginfo, and whether a signal came from the
// terminal (si_code SI_KERNEL: the whole foreground group got it) or from
// kill(2) decides whether a launched command still needs it forwarded.
Napi::Value WatchSignalOrigins(const Napi::CallbackInfo& info) {
  Napi::Array signals = info[0].As<Napi::Array>();
  for (uint32_t i = 0; i < signals.Length(); i++) {
    int signal = signals.Get(i).As<Napi::Number>().Int32Value();
    struct sigaction current = {};
    if (signal <= 0 || signal >= NSIG || sigaction(signal, nullptr, &current)) continue;
    if ((current.sa_flags & SA_SIGINFO) && current.sa_sigaction == record_origin) continue;
    chained[signal] = current;
    struct sigaction wrapper = current;
    wrapper.sa_sigaction = record_origin;
    wrapper.sa_flags = current.sa_flags | SA_SIGINFO;
    sigaction(signal, &wrapper, nullptr);
  }
  return info.Env().Undefined();
}

// signalOrigin(signal): { code, pid } of its last delivery, or null.
Napi::Value GetSignalOrigin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int signal = info[0].As<Napi::Number>().Int32Value();
  if (signal <= 0 || signal >= NSIG || !origins[signal].seen.load(std::memory_order_acquire)) return env.Null();
  Napi::Object out = Napi::Object::New(env);
  out.Set("code", origins[signal].code.load(std::memory_order_relaxed));
  out.Set("pid", origins[signal].pid.load(std::memory_order_relaxed));
  return out;
}

}  // namespace

void init_process_control(Napi::Env env, Napi::Object exports) {
  exports.Set("spawnStopped", Napi::Function::New<SpawnStopped>(env, "spawnStopped"));
  exports.Set("runToTlsSetup", Napi::Function::New<RunToTlsSetup>(env, "runToTlsSetup"));
  exports.Set("release", Napi::Function::New<Release>(env, "release"));
  exports.Set("seize", Napi::Function::New<Seize>(env, "seize"));
  exports.Set("reap", Napi::Function::New<Reap>(env, "reap"));
  exports.Set("watchSignalOrigins", Napi::Function::New<WatchSignalOrigins>(env, "watchSignalOrigins"));
  exports.Set("signalOrigin", Napi::Function::New<GetSignalOrigin>(env, "signalOrigin"));
}

}  // namespace leakhound
