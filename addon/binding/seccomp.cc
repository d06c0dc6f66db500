// libseccomp: for now only probes; the OCI profile compiler (profile → BPF
// bytes for the launcher) lands here later.
#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "errors.h"

namespace hako {
namespace {

// True when the kernel accepts seccomp filters and libseccomp can build one
// for this architecture. A filter applies only to the container, so probing
// never installs anything here.
Napi::Value SeccompAvailable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool kernel;
#ifdef SECCOMP_GET_ACTION_AVAIL
  uint32_t action = SECCOMP_RET_ALLOW;
  if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0) {
    kernel = true;
  } else
#endif
  {
    // Kernels before 4.14 lack GET_ACTION_AVAIL; PR_GET_SECCOMP still tells
    // whether seccomp is configured in at all (EINVAL when not).
    kernel = prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
  }
  if (!kernel) return Napi::Boolean::New(env, false);
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (ctx == nullptr) return Napi::Boolean::New(env, false);
  seccomp_release(ctx);
  return Napi::Boolean::New(env, true);
}

// The version of the libseccomp actually loaded, which may be newer than the
// headers we were built against.
Napi::Value SeccompVersion(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const struct scmp_version* v = seccomp_version();
  std::string text = std::to_string(v->major) + "." +
                     std::to_string(v->minor) + "." + std::to_string(v->micro);
  return Napi::String::New(env, text);
}

}  // namespace

void InitSeccomp(Napi::Env env, Napi::Object exports) {
  exports.Set("seccompAvailable",
              Napi::Function::New(env, SeccompAvailable, "seccompAvailable"));
  exports.Set("seccompVersion",
              Napi::Function::New(env, SeccompVersion, "seccompVersion"));
}

}  // namespace hako
