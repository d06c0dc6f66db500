// The foreground terminal proxy: our stdin to the pty master, the master to
// our stdout, on a threadpool thread with poll(2).
//
// In C rather than with the engine's streams because Node and Bun disagree
// on what a stream over a pty master is (blocking reads on a thread, or
// non-blocking reads on the event loop; whether an asynchronous write may
// queue behind a pending read), and a proxy that deadlocks or hangs up the
// container's terminal under one engine is worse than a hundred lines here.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cstring>

#include "errors.h"

namespace hako {
namespace {

// One direction of the copy: bytes read from one fd wait here until the
// other fd takes them.
struct Pipe {
  static constexpr size_t kSize = 64 * 1024;
  char buf[kSize];
  size_t len = 0;
  bool room() const { return len < kSize; }
  void consumed(size_t n) {
    memmove(buf, buf + n, len - n);
    len -= n;
  }
};

class ProxyWorker : public Napi::AsyncWorker {
 public:
  ProxyWorker(Napi::Env env, int master, int in, int out, int wake)
      : Napi::AsyncWorker(env, "hako:ptyproxy"),
        deferred_(Napi::Promise::Deferred::New(env)),
        master_(master),
        in_(in),
        out_(out),
        wake_(wake) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    Pipe up, down;  // up: stdin -> master; down: master -> stdout
    bool master_open = true;
    for (;;) {
      // Once the container's side has hung up, what is left is to hand the
      // last of its output to stdout.
      if (!master_open && (down.len == 0 || out_ < 0)) break;
      struct pollfd p[4];
      int n = 0, im = -1, ii = -1, io = -1;
      short mev = 0;
      if (master_open && down.room()) mev |= POLLIN;
      if (master_open && up.len) mev |= POLLOUT;
      if (mev) {
        p[n] = {master_, mev, 0};
        im = n++;
      }
      if (in_ >= 0 && up.room() && master_open) {
        p[n] = {in_, POLLIN, 0};
        ii = n++;
      }
      if (out_ >= 0 && down.len) {
        p[n] = {out_, POLLOUT, 0};
        io = n++;
      }
      p[n] = {wake_, POLLIN, 0};
      int iw = n++;
      if (poll(p, n, -1) < 0) {
        if (errno == EINTR) continue;
        err_ = errno;
        break;
      }
      if (p[iw].revents) break;  // stop() was called
      if (im >= 0 && (p[im].revents & (POLLIN | POLLHUP | POLLERR))) {
        ssize_t r = read(master_, down.buf + down.len, Pipe::kSize - down.len);
        // EIO: the last slave fd closed (the container and its children are
        // done with the terminal); that is the end of output, not an error.
        if (r > 0) {
          down.len += r;
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
          master_open = false;
        }
      }
      if (im >= 0 && master_open && up.len && (p[im].revents & POLLOUT)) {
        ssize_t w = write(master_, up.buf, up.len);
        if (w > 0) up.consumed(w);
        else if (w < 0 && errno != EAGAIN && errno != EINTR) master_open = false;
      }
      if (ii >= 0 && (p[ii].revents & (POLLIN | POLLHUP | POLLERR))) {
        ssize_t r = read(in_, up.buf + up.len, Pipe::kSize - up.len);
        // End of our input does not end the container: it may still be
        // writing (runc leaves the terminal open too).
        if (r > 0) up.len += r;
        else if (r == 0 || (errno != EAGAIN && errno != EINTR)) in_ = -1;
      }
      if (io >= 0 && (p[io].revents & (POLLOUT | POLLERR | POLLHUP))) {
        ssize_t w = write(out_, down.buf, down.len);
        if (w > 0) {
          down.consumed(w);
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
          // Nobody reads our stdout any more: keep draining the master so
          // the container does not block on a full terminal.
          out_ = -1;
          down.len = 0;
        }
      }
      if (out_ < 0) down.len = 0;
    }
    close(wake_);
  }

  void OnOK() override {
    if (err_ != 0) {
      deferred_.Reject(ErrnoError(Env(), err_, "poll").Value());
      return;
    }
    deferred_.Resolve(Env().Undefined());
  }

 private:
  Napi::Promise::Deferred deferred_;
  int master_, in_, out_, wake_;
  int err_ = 0;
};

// ptyProxy(master, inFd, outFd) -> { done: Promise<void>, stopFd: number }.
// Writing a byte to stopFd (then closing it) ends the proxy; done resolves
// once it has stopped or the master hung up and its output was written.
// inFd may be -1 (nothing to send). The fds stay the caller's.
Napi::Value PtyProxy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t master, in, out;
  if (!ArgInt(info, 0, "master", &master) || !ArgInt(info, 1, "inFd", &in) ||
      !ArgInt(info, 2, "outFd", &out))
    return env.Null();
  // The master is ours alone (it came over our socket pair): non-blocking,
  // so a write after POLLOUT never waits for more room than there is.
  int fl = fcntl(master, F_GETFL);
  if (fl < 0 || fcntl(master, F_SETFL, fl | O_NONBLOCK) < 0) {
    ThrowErrno(env, errno, "fcntl");
    return env.Null();
  }
  int wake[2];
  if (pipe2(wake, O_CLOEXEC) < 0) {
    ThrowErrno(env, errno, "pipe2");
    return env.Null();
  }
  auto* worker = new ProxyWorker(env, master, in, out, wake[0]);  // deletes itself
  Napi::Object result = Napi::Object::New(env);
  result.Set("done", worker->Promise());
  result.Set("stopFd", Napi::Number::New(env, wake[1]));
  worker->Queue();
  return result;
}

}  // namespace

void InitPtyProxy(Napi::Env env, Napi::Object exports) {
  exports.Set("ptyProxy", Napi::Function::New(env, PtyProxy, "ptyProxy"));
}

}  // namespace hako
