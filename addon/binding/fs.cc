// Files: locks, FIFOs, raw open(2), directory fsync, unmounting beneath a
// root.
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U
#endif

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

// The mount at `rel` beneath `root`, if it is the mount `mntId` (the id of
// /proc/self/mountinfo), detached (MNT_DETACH). `rel` is resolved with
// openat2 RESOLVE_IN_ROOT and no symlinks at all: the directories there may
// be a container's, which could have made a path component a symlink (to
// the host's "/"), and what gets unmounted is the mount the opened fd is on
// (through its /proc/self/fd link), never a path looked up again. Returns
// false, unmounting nothing, when that path is not the top of mount `mntId`
// (gone, replaced, a symlink on the way); throws for other failures.
Napi::Value UnmountBeneath(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string root, rel;
  int32_t id;
  if (!ArgString(info, 0, "root", &root) || !ArgString(info, 1, "rel", &rel) ||
      !ArgInt(info, 2, "mntId", &id))
    return env.Null();
  int rootfd = open(root.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (rootfd < 0) {
    if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR) return Napi::Boolean::New(env, false);
    ThrowErrno(env, errno, "open", root.c_str());
    return env.Null();
  }
  struct open_how how;
  memset(&how, 0, sizeof(how));
  how.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  int fd;
  do {
    fd = static_cast<int>(syscall(SYS_openat2, rootfd, rel.c_str(), &how, sizeof(how)));
  } while (fd < 0 && (errno == EAGAIN || errno == EINTR));  // a rename raced the lookup
  int err = errno;
  close(rootfd);
  if (fd < 0) {
    if (err == ENOENT || err == ELOOP || err == ENOTDIR || err == EXDEV) return Napi::Boolean::New(env, false);
    ThrowErrno(env, err, "openat2", rel.c_str());
    return env.Null();
  }
  struct statx st;
  memset(&st, 0, sizeof(st));
  int sr = statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &st);
  if (sr < 0 || !(st.stx_mask & STATX_MNT_ID)) {
    err = sr < 0 ? errno : ENOSYS;  // before Linux 5.8 no mount id: nothing can be told apart
    close(fd);
    ThrowErrno(env, err, "statx", rel.c_str());
    return env.Null();
  }
  if (st.stx_mnt_id != static_cast<uint64_t>(id)) {
    close(fd);
    return Napi::Boolean::New(env, false);
  }
  char link[64];
  snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
  int r = umount2(link, MNT_DETACH);
  err = errno;
  close(fd);
  if (r < 0) {
    // EINVAL: not the root of a mount (a file or directory on it, not on top of it).
    if (err == EINVAL) return Napi::Boolean::New(env, false);
    ThrowErrno(env, err, "umount2", rel.c_str());
    return env.Null();
  }
  return Napi::Boolean::New(env, true);
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
  exports.Set("unmountBeneath", Napi::Function::New(env, UnmountBeneath, "unmountBeneath"));
}

}  // namespace hako
