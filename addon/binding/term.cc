// Terminals: raw mode and window size, for proxying a container's pty to the
// user's terminal in foreground `run`/`exec -t`.
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "errors.h"

namespace hako {
namespace {

// termios crosses to JS as opaque bytes: TypeScript only stores and hands it
// back, so there is no point mirroring the struct field by field.
Napi::Value SavedTermios(Napi::Env env, const struct termios& t) {
  return Napi::Buffer<uint8_t>::Copy(
      env, reinterpret_cast<const uint8_t*>(&t), sizeof t);
}

Napi::Value GetTermios(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  if (!ArgInt(info, 0, "fd", &fd)) return env.Null();
  struct termios t;
  // glibc fills termios field by field from the kernel's smaller struct:
  // zero it so padding and spare c_cc slots compare equal between calls.
  memset(&t, 0, sizeof t);
  if (tcgetattr(fd, &t) < 0) {
    ThrowErrno(env, errno, "tcgetattr");
    return env.Null();
  }
  return SavedTermios(env, t);
}

// Returns the settings in force before, for restoreTermios on the way out.
Napi::Value MakeRaw(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  if (!ArgInt(info, 0, "fd", &fd)) return env.Null();
  struct termios saved;
  memset(&saved, 0, sizeof saved);  // as in GetTermios
  if (tcgetattr(fd, &saved) < 0) {
    ThrowErrno(env, errno, "tcgetattr");
    return env.Null();
  }
  // cfmakeraw is what runc/golang.org/x/term's MakeRaw does by hand.
  struct termios raw = saved;
  cfmakeraw(&raw);
  if (tcsetattr(fd, TCSANOW, &raw) < 0) {
    ThrowErrno(env, errno, "tcsetattr");
    return env.Null();
  }
  return SavedTermios(env, saved);
}

Napi::Value RestoreTermios(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  Napi::Buffer<uint8_t> saved;
  if (!ArgInt(info, 0, "fd", &fd) || !ArgBuffer(info, 1, "saved", &saved))
    return env.Null();
  if (saved.Length() != sizeof(struct termios)) {
    ThrowType(env, "argument 'saved' must come from makeRaw or getTermios");
    return env.Null();
  }
  struct termios t;
  memcpy(&t, saved.Data(), sizeof t);
  if (tcsetattr(fd, TCSANOW, &t) < 0) ThrowErrno(env, errno, "tcsetattr");
  return env.Undefined();
}

Napi::Value GetWinsize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  if (!ArgInt(info, 0, "fd", &fd)) return env.Null();
  struct winsize ws;
  if (ioctl(fd, TIOCGWINSZ, &ws) < 0) {
    ThrowErrno(env, errno, "ioctl");
    return env.Null();
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("rows", Napi::Number::New(env, ws.ws_row));
  result.Set("cols", Napi::Number::New(env, ws.ws_col));
  return result;
}

Napi::Value SetWinsize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd, rows, cols;
  if (!ArgInt(info, 0, "fd", &fd) || !ArgInt(info, 1, "rows", &rows) ||
      !ArgInt(info, 2, "cols", &cols))
    return env.Null();
  if (rows < 0 || rows > 0xffff || cols < 0 || cols > 0xffff) {
    ThrowType(env, "rows and cols must be between 0 and 65535");
    return env.Null();
  }
  struct winsize ws;
  memset(&ws, 0, sizeof ws);
  ws.ws_row = static_cast<unsigned short>(rows);
  ws.ws_col = static_cast<unsigned short>(cols);
  if (ioctl(fd, TIOCSWINSZ, &ws) < 0) ThrowErrno(env, errno, "ioctl");
  return env.Undefined();
}

}  // namespace

void InitTerm(Napi::Env env, Napi::Object exports) {
  exports.Set("getTermios", Napi::Function::New(env, GetTermios, "getTermios"));
  exports.Set("makeRaw", Napi::Function::New(env, MakeRaw, "makeRaw"));
  exports.Set("restoreTermios",
              Napi::Function::New(env, RestoreTermios, "restoreTermios"));
  exports.Set("getWinsize", Napi::Function::New(env, GetWinsize, "getWinsize"));
  exports.Set("setWinsize", Napi::Function::New(env, SetWinsize, "setWinsize"));
}

}  // namespace hako
