// Passing fds over unix sockets (SCM_RIGHTS): console sockets, seccomp
// notify fds, the launcher's sync socket.
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "errors.h"

namespace hako {
namespace {

// The most fds one message may carry before we see MSG_CTRUNC; we keep the
// first and close the rest, so a misbehaving peer cannot leak fds into us.
constexpr int kMaxFds = 8;

// Node has no socketpair(2); libuv's own pairs are not reachable as raw fds.
// CLOEXEC always: an fd meant for a child is passed through spawn's stdio,
// which dup2s it into place and so clears the flag on the child's copy.
Napi::Value Socketpair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int type = SOCK_STREAM;
  if (info.Length() > 0 && !info[0].IsUndefined()) {
    std::string name;
    if (!ArgString(info, 0, "type", &name)) return env.Null();
    if (name == "stream") {
      type = SOCK_STREAM;
    } else if (name == "seqpacket") {
      type = SOCK_SEQPACKET;
    } else if (name == "dgram") {
      type = SOCK_DGRAM;
    } else {
      ThrowType(env, "argument 'type' must be 'stream', 'seqpacket' or 'dgram'");
      return env.Null();
    }
  }
  int fds[2];
  if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds) < 0) {
    ThrowErrno(env, errno, "socketpair");
    return env.Null();
  }
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, Napi::Number::New(env, fds[0]));
  result.Set(1u, Napi::Number::New(env, fds[1]));
  return result;
}

ssize_t SendAll(int sock, struct msghdr* msg) {
  ssize_t r;
  do {
    // MSG_NOSIGNAL: a closed peer is an EPIPE error, not a process-killing
    // SIGPIPE (Bun does not ignore SIGPIPE the way Node does).
    r = sendmsg(sock, msg, MSG_NOSIGNAL);
  } while (r < 0 && errno == EINTR);
  return r;
}

Napi::Value SendFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t sock, fd;
  Napi::Buffer<uint8_t> data;
  if (!ArgInt(info, 0, "sockFd", &sock) || !ArgInt(info, 1, "fd", &fd) ||
      !ArgBuffer(info, 2, "data", &data))
    return env.Null();
  // A stream socket drops ancillary data sent with zero bytes of payload.
  if (data.Length() == 0) {
    ThrowType(env, "argument 'data' must not be empty");
    return env.Null();
  }

  struct iovec iov;
  iov.iov_base = data.Data();
  iov.iov_len = data.Length();
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  memset(control, 0, sizeof control);
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));

  ssize_t sent = SendAll(sock, &msg);
  if (sent < 0) {
    ThrowErrno(env, errno, "sendmsg");
    return env.Null();
  }
  // A stream socket may take a long payload in pieces; the fd went with the
  // first one.
  msg.msg_control = nullptr;
  msg.msg_controllen = 0;
  while (static_cast<size_t>(sent) < data.Length()) {
    iov.iov_base = data.Data() + sent;
    iov.iov_len = data.Length() - sent;
    ssize_t more = SendAll(sock, &msg);
    if (more < 0) {
      ThrowErrno(env, errno, "sendmsg");
      return env.Null();
    }
    sent += more;
  }
  return env.Undefined();
}

// Blocks the JS thread unless sockFd is non-blocking (then EAGAIN throws).
// fd is -1 when the message carried none, and data is empty at end of stream.
Napi::Value RecvFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t sock, maxData;
  if (!ArgInt(info, 0, "sockFd", &sock) ||
      !ArgIntOr(info, 1, "maxData", 4096, &maxData))
    return env.Null();
  if (maxData < 1) {
    ThrowType(env, "argument 'maxData' must be positive");
    return env.Null();
  }

  std::string buffer(static_cast<size_t>(maxData), '\0');
  struct iovec iov;
  iov.iov_base = &buffer[0];
  iov.iov_len = buffer.size();
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;

  ssize_t r;
  do {
    // CLOEXEC so the received fd does not leak into hooks we spawn later.
    r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    ThrowErrno(env, errno, "recvmsg");
    return env.Null();
  }

  int received = -1;
  for (struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr;
       cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
      continue;
    size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
      if (received < 0) {
        received = fd;
      } else {
        close(fd);
      }
    }
  }

  Napi::Object result = Napi::Object::New(env);
  result.Set("fd", Napi::Number::New(env, received));
  result.Set("data", Napi::Buffer<uint8_t>::Copy(
                         env, reinterpret_cast<const uint8_t*>(buffer.data()),
                         static_cast<size_t>(r)));
  return result;
}

}  // namespace

void InitFdPass(Napi::Env env, Napi::Object exports) {
  exports.Set("socketpair", Napi::Function::New(env, Socketpair, "socketpair"));
  exports.Set("sendFd", Napi::Function::New(env, SendFd, "sendFd"));
  exports.Set("recvFd", Napi::Function::New(env, RecvFd, "recvFd"));
}

}  // namespace hako
