// Processes: pidfds, waiting for children libuv did not spawn, subreaper,
// signals, rlimits.
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errors.h"

// Same numbers on every architecture since the 5.x syscall table unification;
// defined here only for headers older than the kernels we run on.
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

namespace hako {
namespace {

// exitCode and signal are mutually exclusive; the other one is null, as in
// child_process's 'exit' event.
Napi::Object StatusObject(Napi::Env env, int status) {
  Napi::Object result = Napi::Object::New(env);
  if (WIFEXITED(status)) {
    result.Set("exitCode", Napi::Number::New(env, WEXITSTATUS(status)));
    result.Set("signal", env.Null());
  } else {
    result.Set("exitCode", env.Null());
    result.Set("signal", Napi::Number::New(env, WTERMSIG(status)));
  }
  return result;
}

Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t pid;
  if (!ArgInt(info, 0, "pid", &pid)) return env.Null();
  // The kernel always makes pidfds close-on-exec, so hooks spawned later do
  // not inherit them.
  long fd = syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) {
    ThrowErrno(env, errno, "pidfd_open");
    return env.Null();
  }
  return Napi::Number::New(env, static_cast<double>(fd));
}

Napi::Value PidfdSendSignal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t pidfd, sig;
  if (!ArgInt(info, 0, "pidfd", &pidfd) || !ArgInt(info, 1, "sig", &sig))
    return env.Null();
  if (syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) < 0)
    ThrowErrno(env, errno, "pidfd_send_signal");
  return env.Undefined();
}

Napi::Value Waitpid(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t pid;
  bool nohang;
  if (!ArgInt(info, 0, "pid", &pid) ||
      !ArgBool(info, 1, "nohang", false, &nohang))
    return env.Null();
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid, &status, nohang ? WNOHANG : 0);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    ThrowErrno(env, errno, "waitpid");
    return env.Null();
  }
  if (r == 0) return env.Null();  // WNOHANG and still running
  Napi::Object result = StatusObject(env, status);
  result.Set("pid", Napi::Number::New(env, r));
  return result;
}

// The container init is cloned with CLONE_PARENT, so it is our child but
// libuv never spawned it and will not report its exit: a blocking waitpid
// has to run off the JS thread. This occupies one libuv threadpool slot (of
// UV_THREADPOOL_SIZE, 4 by default) for as long as the container runs; a
// foreground `run` waits for one process, so that is acceptable.
class WaitWorker : public Napi::AsyncWorker {
 public:
  WaitWorker(Napi::Env env, pid_t pid)
      : Napi::AsyncWorker(env, "hako:waitpid"),
        deferred_(Napi::Promise::Deferred::New(env)),
        pid_(pid) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    pid_t r;
    do {
      r = waitpid(pid_, &status_, 0);
    } while (r < 0 && errno == EINTR);
    if (r < 0) err_ = errno;
    reaped_ = r;
  }

  // Errors travel as an errno rather than through SetError so the rejection
  // carries code/errno/syscall like every synchronous failure.
  void OnOK() override {
    Napi::Env env = Env();
    if (err_ != 0) {
      deferred_.Reject(ErrnoError(env, err_, "waitpid").Value());
      return;
    }
    Napi::Object result = StatusObject(env, status_);
    result.Set("pid", Napi::Number::New(env, reaped_));
    deferred_.Resolve(result);
  }

 private:
  Napi::Promise::Deferred deferred_;
  pid_t pid_;
  pid_t reaped_ = 0;
  int status_ = 0;
  int err_ = 0;
};

Napi::Value WaitpidAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t pid;
  if (!ArgInt(info, 0, "pid", &pid)) return env.Null();
  auto* worker = new WaitWorker(env, pid);  // deletes itself when done
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value SetChildSubreaper(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool on;
  if (!ArgBool(info, 0, "on", true, &on)) return env.Null();
  if (prctl(PR_SET_CHILD_SUBREAPER, on ? 1 : 0, 0, 0, 0) < 0)
    ThrowErrno(env, errno, "prctl");
  return env.Undefined();
}

Napi::Value GetChildSubreaper(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int on = 0;
  if (prctl(PR_GET_CHILD_SUBREAPER, &on, 0, 0, 0) < 0) {
    ThrowErrno(env, errno, "prctl");
    return env.Null();
  }
  return Napi::Boolean::New(env, on != 0);
}

Napi::Value Kill(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t pid, sig;
  if (!ArgInt(info, 0, "pid", &pid) || !ArgInt(info, 1, "sig", &sig))
    return env.Null();
  if (kill(pid, sig) < 0) ThrowErrno(env, errno, "kill");
  return env.Undefined();
}

Napi::Value Getrlimit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t resource;
  if (!ArgInt(info, 0, "resource", &resource)) return env.Null();
  struct rlimit rl;
  if (getrlimit(resource, &rl) < 0) {
    ThrowErrno(env, errno, "getrlimit");
    return env.Null();
  }
  // BigInt: RLIM_INFINITY is 2^64-1, beyond a double's exact range.
  Napi::Object result = Napi::Object::New(env);
  result.Set("soft", Napi::BigInt::New(env, static_cast<uint64_t>(rl.rlim_cur)));
  result.Set("hard", Napi::BigInt::New(env, static_cast<uint64_t>(rl.rlim_max)));
  return result;
}

}  // namespace

void InitProcess(Napi::Env env, Napi::Object exports) {
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen, "pidfdOpen"));
  exports.Set("pidfdSendSignal",
              Napi::Function::New(env, PidfdSendSignal, "pidfdSendSignal"));
  exports.Set("waitpid", Napi::Function::New(env, Waitpid, "waitpid"));
  exports.Set("waitpidAsync",
              Napi::Function::New(env, WaitpidAsync, "waitpidAsync"));
  exports.Set("setChildSubreaper",
              Napi::Function::New(env, SetChildSubreaper, "setChildSubreaper"));
  exports.Set("getChildSubreaper",
              Napi::Function::New(env, GetChildSubreaper, "getChildSubreaper"));
  exports.Set("kill", Napi::Function::New(env, Kill, "kill"));
  exports.Set("getrlimit", Napi::Function::New(env, Getrlimit, "getrlimit"));
}

}  // namespace hako
