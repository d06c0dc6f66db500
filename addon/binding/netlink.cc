// rtnetlink transport for linux.netDevices: a socket (in our network
// namespace or in another one) and one request/reply exchange. The messages
// themselves are built and read in TypeScript (src/launch/netlink.ts, pure
// and unit-tested): this side only moves bytes and turns NLMSG_ERROR into an
// errno error.
#include <errno.h>
#include <linux/netlink.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include "errors.h"

namespace hako {
namespace {

int OpenRoute() {
  int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (s < 0) return -errno;
  struct sockaddr_nl sa;
  memset(&sa, 0, sizeof sa);
  sa.nl_family = AF_NETLINK;
  if (bind(s, reinterpret_cast<struct sockaddr*>(&sa), sizeof sa) < 0) {
    int err = errno;
    close(s);
    return -err;
  }
  return s;
}

// netlinkSocket(netnsFd = -1): a NETLINK_ROUTE socket. A socket belongs to
// the network namespace it was made in for its whole life, whoever uses it
// later. Node and Bun are multi-threaded, but a network namespace is a
// per-thread attribute: a thread of our own joins the namespace, makes the
// socket and ends, taking its namespace with it; no other thread (and no
// JS) ever runs in that namespace. Capabilities are checked against the
// namespace's owner at setns and, for every request, against the socket's
// opener and the sender: the runtime's, as for the host's socket.
Napi::Value NetlinkSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t nsfd;
  if (!ArgIntOr(info, 0, "netnsFd", -1, &nsfd)) return env.Null();
  int result = 0;
  const char* what = "socket";
  if (nsfd < 0) {
    result = OpenRoute();
  } else {
    std::thread t([&] {
      if (setns(nsfd, CLONE_NEWNET) < 0) {
        result = -errno;
        what = "setns";
        return;
      }
      result = OpenRoute();
    });
    t.join();
  }
  if (result < 0) {
    ThrowErrno(env, -result, what);
    return env.Null();
  }
  return Napi::Number::New(env, result);
}

int SendAll(int sock, const uint8_t* data, size_t len) {
  struct sockaddr_nl to;
  memset(&to, 0, sizeof to);
  to.nl_family = AF_NETLINK;
  ssize_t r;
  do {
    r = sendto(sock, data, len, 0, reinterpret_cast<struct sockaddr*>(&to), sizeof to);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return -errno;
  if (static_cast<size_t>(r) != len) return -EMSGSIZE;
  return 0;
}

// Reads replies to `seq` until the kernel's ACK (NLMSG_ERROR 0) or, for a
// dump, NLMSG_DONE. Returns 0 or -errno; other messages go to `out`.
int Collect(int sock, uint32_t seq, std::vector<std::vector<uint8_t>>* out) {
  // Large enough for any one datagram of a dump (the kernel sizes them to
  // at most 32 KiB unless the reader's buffer is known to be bigger).
  std::vector<uint8_t> buf(64 * 1024);
  for (;;) {
    ssize_t n;
    struct sockaddr_nl from;
    socklen_t fromlen;
    do {
      fromlen = sizeof from;
      n = recvfrom(sock, buf.data(), buf.size(), 0, reinterpret_cast<struct sockaddr*>(&from), &fromlen);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    if (n == 0) return -EPROTO;
    // Only the kernel (port 0) answers: in a joined network namespace a
    // process of the container's with CAP_NET_ADMIN there could send to our
    // port, and its datagram must not pass for the kernel's reply.
    if (fromlen < sizeof from || from.nl_family != AF_NETLINK || from.nl_pid != 0) continue;
    size_t left = static_cast<size_t>(n);
    for (auto* h = reinterpret_cast<struct nlmsghdr*>(buf.data()); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_seq != seq) continue;  // not ours (nothing else is sent to us; a stale reply at most)
      if (h->nlmsg_type == NLMSG_ERROR) {
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) return -EPROTO;
        auto* e = static_cast<struct nlmsgerr*>(NLMSG_DATA(h));
        return e->error;  // 0: the ACK
      }
      if (h->nlmsg_type == NLMSG_DONE) {
        // Since Linux 4.x a dump's DONE carries its error as an int.
        if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
          int err;
          memcpy(&err, NLMSG_DATA(h), sizeof err);
          if (err < 0) return err;
        }
        return 0;
      }
      auto* p = reinterpret_cast<uint8_t*>(h);
      out->emplace_back(p, p + h->nlmsg_len);
    }
  }
}

// netlinkTalk(sock, request): sends one request (its header's seq chosen by
// the caller, NLM_F_ACK or NLM_F_DUMP set so that it ends) and returns the
// replies before the ACK/DONE, one Buffer each, header included.
Napi::Value NetlinkTalk(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t sock;
  Napi::Buffer<uint8_t> req;
  if (!ArgInt(info, 0, "sock", &sock) || !ArgBuffer(info, 1, "request", &req)) return env.Null();
  if (req.Length() < sizeof(struct nlmsghdr)) {
    ThrowType(env, "argument 'request' is shorter than a netlink header");
    return env.Null();
  }
  struct nlmsghdr h;
  memcpy(&h, req.Data(), sizeof h);
  int err = SendAll(sock, req.Data(), req.Length());
  if (err < 0) {
    ThrowErrno(env, -err, "sendto");
    return env.Null();
  }
  std::vector<std::vector<uint8_t>> replies;
  err = Collect(sock, h.nlmsg_seq, &replies);
  if (err < 0) {
    ThrowErrno(env, -err, "netlink");
    return env.Null();
  }
  Napi::Array result = Napi::Array::New(env, replies.size());
  for (size_t i = 0; i < replies.size(); i++)
    result.Set(static_cast<uint32_t>(i), Napi::Buffer<uint8_t>::Copy(env, replies[i].data(), replies[i].size()));
  return result;
}

}  // namespace

void InitNetlink(Napi::Env env, Napi::Object exports) {
  exports.Set("netlinkSocket", Napi::Function::New(env, NetlinkSocket));
  exports.Set("netlinkTalk", Napi::Function::New(env, NetlinkTalk));
}

}  // namespace hako
