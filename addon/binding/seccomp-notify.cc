// The agent's side of SCMP_ACT_NOTIFY: receiving a notification from a
// listener fd and answering it (seccomp_unotify(2)). hako itself only passes
// listeners on (src/seccomp/notify.ts); these serve agents written against
// the library and hako's own tests.
#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "errors.h"

namespace hako {
namespace {

// The kernel's structs may have grown past our headers' (it says how big
// they are): receive into a buffer of the larger size, zeroed, as
// SECCOMP_IOCTL_NOTIF_RECV demands.
size_t NotifSize() {
  struct seccomp_notif_sizes sizes;
  memset(&sizes, 0, sizeof sizes);
  if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0) return sizeof(struct seccomp_notif);
  return std::max<size_t>(sizes.seccomp_notif, sizeof(struct seccomp_notif));
}

bool ArgId(const Napi::CallbackInfo& info, size_t i, uint64_t* out) {
  if (info.Length() <= i || !info[i].IsBigInt()) {
    ThrowType(info.Env(), "argument 'id' must be a bigint");
    return false;
  }
  bool lossless = false;
  *out = info[i].As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) {
    ThrowType(info.Env(), "argument 'id' must fit in 64 unsigned bits");
    return false;
  }
  return true;
}

// poll(2) first, so that a caller can wait with a timeout and learn that no
// process uses the filter any more (POLLHUP, Linux 5.8): the ioctl alone
// would block for ever then.
Napi::Value NotifRecv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd, timeout;
  if (!ArgInt(info, 0, "fd", &fd) || !ArgIntOr(info, 1, "timeoutMs", -1, &timeout)) return env.Null();
  struct pollfd p = {fd, POLLIN, 0};
  int n;
  do {
    n = poll(&p, 1, timeout);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    ThrowErrno(env, errno, "poll");
    return env.Null();
  }
  if (n == 0) return env.Null();
  if (p.revents & POLLNVAL) {
    ThrowErrno(env, EBADF, "poll");
    return env.Null();
  }
  if (!(p.revents & POLLIN)) {
    ThrowErrno(env, ESRCH, "seccomp notify recv");
    return env.Null();
  }

  std::vector<uint8_t> buf(NotifSize(), 0);
  int r;
  do {
    r = ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, buf.data());
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    ThrowErrno(env, errno, "ioctl(SECCOMP_IOCTL_NOTIF_RECV)");
    return env.Null();
  }
  struct seccomp_notif notif;
  memcpy(&notif, buf.data(), sizeof notif);

  Napi::Object o = Napi::Object::New(env);
  o.Set("id", Napi::BigInt::New(env, static_cast<uint64_t>(notif.id)));
  o.Set("pid", Napi::Number::New(env, notif.pid));
  o.Set("flags", Napi::Number::New(env, notif.flags));
  o.Set("nr", Napi::Number::New(env, notif.data.nr));
  o.Set("arch", Napi::Number::New(env, notif.data.arch));
  o.Set("instructionPointer", Napi::BigInt::New(env, static_cast<uint64_t>(notif.data.instruction_pointer)));
  Napi::Array args = Napi::Array::New(env, 6);
  for (uint32_t i = 0; i < 6; i++) args.Set(i, Napi::BigInt::New(env, static_cast<uint64_t>(notif.data.args[i])));
  o.Set("args", args);
  return o;
}

// resp: { error?: positive errno, val?: bigint, continue?: boolean }.
Napi::Value NotifRespond(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  uint64_t id;
  if (!ArgInt(info, 0, "fd", &fd) || !ArgId(info, 1, &id)) return env.Null();
  if (info.Length() < 3 || !info[2].IsObject()) {
    ThrowType(env, "argument 'response' must be an object");
    return env.Null();
  }
  Napi::Object o = info[2].As<Napi::Object>();
  struct seccomp_notif_resp resp;
  memset(&resp, 0, sizeof resp);
  resp.id = id;
  Napi::Value error = o.Get("error");
  if (!error.IsUndefined()) {
    double e = error.IsNumber() ? error.As<Napi::Number>().DoubleValue() : -1;
    if (!(e >= 0 && e <= 4095) || static_cast<double>(static_cast<int32_t>(e)) != e) {
      ThrowType(env, "response.error must be an errno from 0 to 4095");
      return env.Null();
    }
    // The kernel wants it negated; callers everywhere else in the addon use
    // positive errnos.
    resp.error = -static_cast<int32_t>(e);
  }
  Napi::Value val = o.Get("val");
  if (!val.IsUndefined()) {
    if (!val.IsBigInt()) {
      ThrowType(env, "response.val must be a bigint");
      return env.Null();
    }
    bool lossless = false;
    resp.val = val.As<Napi::BigInt>().Int64Value(&lossless);
    if (!lossless) {
      ThrowType(env, "response.val must fit in 64 signed bits");
      return env.Null();
    }
  }
  Napi::Value cont = o.Get("continue");
  if (!cont.IsUndefined()) {
    if (!cont.IsBoolean()) {
      ThrowType(env, "response.continue must be a boolean");
      return env.Null();
    }
    if (cont.As<Napi::Boolean>().Value()) {
      // The kernel refuses CONTINUE with a result (EINVAL); say why here.
      if (resp.error != 0 || resp.val != 0) {
        ThrowType(env, "response.continue excludes error and val");
        return env.Null();
      }
      resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    }
  }
  int r;
  do {
    r = ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
  } while (r < 0 && errno == EINTR);
  if (r < 0) ThrowErrno(env, errno, "ioctl(SECCOMP_IOCTL_NOTIF_SEND)");
  return env.Undefined();
}

// Whether the notification is still pending: its process is alive and still
// in that syscall. Agents check it after reading the process's memory.
Napi::Value NotifIdValid(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  uint64_t id;
  if (!ArgInt(info, 0, "fd", &fd) || !ArgId(info, 1, &id)) return env.Null();
  __u64 arg = id;
  if (ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &arg) == 0) return Napi::Boolean::New(env, true);
  if (errno == ENOENT) return Napi::Boolean::New(env, false);
  ThrowErrno(env, errno, "ioctl(SECCOMP_IOCTL_NOTIF_ID_VALID)");
  return env.Null();
}

}  // namespace

void InitSeccompNotify(Napi::Env env, Napi::Object exports) {
  exports.Set("seccompNotifRecv", Napi::Function::New(env, NotifRecv, "seccompNotifRecv"));
  exports.Set("seccompNotifRespond", Napi::Function::New(env, NotifRespond, "seccompNotifRespond"));
  exports.Set("seccompNotifIdValid", Napi::Function::New(env, NotifIdValid, "seccompNotifIdValid"));
}

}  // namespace hako
