// Files: locks, FIFOs, raw open(2), directory fsync.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"

namespace hako {
namespace {

Napi::Value Flock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  std::string op;
  bool nonblock;
  if (!ArgInt(info, 0, "fd", &fd) || !ArgString(info, 1, "op", &op) ||
      !ArgBool(info, 2, "nonblock", false, &nonblock))
    return env.Null();
  int how;
  if (op == "sh") {
    how = LOCK_SH;
  } else if (op == "ex") {
    how = LOCK_EX;
  } else if (op == "un") {
    how = LOCK_UN;
  } else {
    ThrowType(env, "argument 'op' must be 'sh', 'ex' or 'un'");
    return env.Null();
  }
  if (nonblock) how |= LOCK_NB;
  int r;
  do {
    r = flock(fd, how);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    // Contention is an answer, not a failure, when the caller asked not to
    // wait.
    if (nonblock && errno == EWOULDBLOCK) return Napi::Boolean::New(env, false);
    ThrowErrno(env, errno, "flock");
    return env.Null();
  }
  return Napi::Boolean::New(env, true);
}

Napi::Value Mkfifo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path;
  int32_t mode;
  if (!ArgString(info, 0, "path", &path) || !ArgInt(info, 1, "mode", &mode))
    return env.Null();
  if (mkfifo(path.c_str(), static_cast<mode_t>(mode)) < 0)
    ThrowErrno(env, errno, "mkfifo", path.c_str());
  return env.Undefined();
}

// Raw flags, nothing added: Node's fs.open always ORs in O_CLOEXEC and has no
// O_PATH, which the exec.fifo and openat-style resolution need.
Napi::Value OpenPath(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path;
  int32_t flags, mode;
  if (!ArgString(info, 0, "path", &path) || !ArgInt(info, 1, "flags", &flags) ||
      !ArgIntOr(info, 2, "mode", 0666, &mode))
    return env.Null();
  int fd;
  do {
    fd = open(path.c_str(), flags, static_cast<mode_t>(mode));
  } while (fd < 0 && errno == EINTR);  // opening a FIFO can be interrupted
  if (fd < 0) {
    ThrowErrno(env, errno, "open", path.c_str());
    return env.Null();
  }
  return Napi::Number::New(env, fd);
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  if (!ArgInt(info, 0, "fd", &fd)) return env.Null();
  // No retry on EINTR: on Linux the fd is released even then, and a retry
  // could close an fd another thread just got.
  if (close(fd) < 0 && errno != EINTR) ThrowErrno(env, errno, "close");
  return env.Undefined();
}

// A rename is only durable once the directory holding it is synced; Node
// cannot open a directory for fsync portably, hence this.
Napi::Value FsyncDir(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path;
  if (!ArgString(info, 0, "path", &path)) return env.Null();
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    ThrowErrno(env, errno, "open", path.c_str());
    return env.Undefined();
  }
  int r = fsync(fd);
  int err = errno;
  close(fd);
  if (r < 0) ThrowErrno(env, err, "fsync", path.c_str());
  return env.Undefined();
}

// Waiting on an fd without the event loop: the engines differ in what their
// streams accept (a FIFO, a raw socket), while poll(2) means the same in
// both. Returns revents, 0 on timeout (timeoutMs < 0 waits forever).
Napi::Value Poll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd, events, timeout;
  if (!ArgInt(info, 0, "fd", &fd) || !ArgInt(info, 1, "events", &events) ||
      !ArgIntOr(info, 2, "timeoutMs", -1, &timeout))
    return env.Null();
  struct pollfd p = {fd, static_cast<short>(events), 0};
  int r;
  do {
    r = poll(&p, 1, timeout);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    ThrowErrno(env, errno, "poll");
    return env.Null();
  }
  return Napi::Number::New(env, r == 0 ? 0 : p.revents);
}

// The engines differ in whether their streams leave an fd non-blocking; code
// that writes to a pty master itself must know (a blocking write to a full
// pty would stop the proxy that drains it).
Napi::Value SetNonblock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  bool on;
  if (!ArgInt(info, 0, "fd", &fd) || !ArgBool(info, 1, "on", true, &on))
    return env.Null();
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK)) < 0)
    ThrowErrno(env, errno, "fcntl");
  return env.Undefined();
}

}  // namespace

void InitFs(Napi::Env env, Napi::Object exports) {
  exports.Set("flock", Napi::Function::New(env, Flock, "flock"));
  exports.Set("mkfifo", Napi::Function::New(env, Mkfifo, "mkfifo"));
  exports.Set("openPath", Napi::Function::New(env, OpenPath, "openPath"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("fsyncDir", Napi::Function::New(env, FsyncDir, "fsyncDir"));
  exports.Set("poll", Napi::Function::New(env, Poll, "poll"));
  exports.Set("setNonblock", Napi::Function::New(env, SetNonblock, "setNonblock"));
}

}  // namespace hako
