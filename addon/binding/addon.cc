// Registers every binding and the constants TypeScript passes back to them.
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>

#include "errors.h"

namespace hako {
namespace {

// Node's fs.constants lacks O_PATH and os.constants lacks RLIMIT_*; exporting
// the values the addon was compiled against keeps both sides in agreement on
// every architecture.
Napi::Object Constants(Napi::Env env) {
  Napi::Object c = Napi::Object::New(env);
#define K(name) c.Set(#name, Napi::Number::New(env, name));
  K(O_RDONLY) K(O_WRONLY) K(O_RDWR) K(O_CREAT) K(O_EXCL) K(O_NOCTTY)
  K(O_TRUNC) K(O_APPEND) K(O_NONBLOCK) K(O_DIRECTORY) K(O_NOFOLLOW)
  K(O_CLOEXEC) K(O_PATH)
  K(POLLIN) K(POLLOUT) K(POLLERR) K(POLLHUP) K(POLLNVAL)
  K(RLIMIT_CPU) K(RLIMIT_FSIZE) K(RLIMIT_DATA) K(RLIMIT_STACK)
  K(RLIMIT_CORE) K(RLIMIT_RSS) K(RLIMIT_NPROC) K(RLIMIT_NOFILE)
  K(RLIMIT_MEMLOCK) K(RLIMIT_AS) K(RLIMIT_LOCKS) K(RLIMIT_SIGPENDING)
  K(RLIMIT_MSGQUEUE) K(RLIMIT_NICE) K(RLIMIT_RTPRIO) K(RLIMIT_RTTIME)
#undef K
  c.Set("RLIM_INFINITY",
        Napi::BigInt::New(env, static_cast<uint64_t>(RLIM_INFINITY)));
  c.Freeze();
  return c;
}

}  // namespace
}  // namespace hako

// At file scope: NODE_API_MODULE pastes the function name into an identifier.
static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace hako;
  InitProcess(env, exports);
  InitFs(env, exports);
  InitTerm(env, exports);
  InitFdPass(env, exports);
  InitSeccomp(env, exports);
  InitSeccompNotify(env, exports);
  InitBpf(env, exports);
  InitPtyProxy(env, exports);
  InitNetlink(env, exports);
  InitExitWatch(env, exports);
  exports.Set("constants", Constants(env));
  return exports;
}

NODE_API_MODULE(hako_addon, Init)
