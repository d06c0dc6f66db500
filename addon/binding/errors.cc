#include "errors.h"

#include <errno.h>
#include <string.h>

#include <cctype>
#include <cmath>
#include <string>

namespace hako {

namespace {

// Our own table rather than strerrorname_np (glibc >= 2.32 only) so the addon
// builds the same on older glibc and on musl. Aliases (EWOULDBLOCK, ENOTSUP,
// EDEADLOCK) are left out: they share a value with the name Node reports.
const char* ErrnoName(int err) {
  switch (err) {
#define E(name) \
  case name:    \
    return #name;
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG)
    E(ENOEXEC) E(EBADF) E(ECHILD) E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT)
    E(ENOTBLK) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV) E(ENOTDIR) E(EISDIR)
    E(EINVAL) E(ENFILE) E(EMFILE) E(ENOTTY) E(ETXTBSY) E(EFBIG) E(ENOSPC)
    E(ESPIPE) E(EROFS) E(EMLINK) E(EPIPE) E(EDOM) E(ERANGE) E(EDEADLK)
    E(ENAMETOOLONG) E(ENOLCK) E(ENOSYS) E(ENOTEMPTY) E(ELOOP) E(ENOMSG)
    E(EIDRM) E(ENOSTR) E(ENODATA) E(ETIME) E(ENOSR) E(ENOLINK) E(EPROTO)
    E(EBADMSG) E(EOVERFLOW) E(EILSEQ) E(EUSERS) E(ENOTSOCK) E(EDESTADDRREQ)
    E(EMSGSIZE) E(EPROTOTYPE) E(ENOPROTOOPT) E(EPROTONOSUPPORT)
    E(ESOCKTNOSUPPORT) E(EOPNOTSUPP) E(EPFNOSUPPORT) E(EAFNOSUPPORT)
    E(EADDRINUSE) E(EADDRNOTAVAIL) E(ENETDOWN) E(ENETUNREACH) E(ENETRESET)
    E(ECONNABORTED) E(ECONNRESET) E(ENOBUFS) E(EISCONN) E(ENOTCONN)
    E(ESHUTDOWN) E(ETOOMANYREFS) E(ETIMEDOUT) E(ECONNREFUSED) E(EHOSTDOWN)
    E(EHOSTUNREACH) E(EALREADY) E(EINPROGRESS) E(ESTALE) E(EDQUOT)
    E(ECANCELED) E(EOWNERDEAD) E(ENOTRECOVERABLE) E(ENOKEY) E(EKEYEXPIRED)
    E(EKEYREVOKED) E(EKEYREJECTED) E(ERFKILL) E(EHWPOISON) E(ENOMEDIUM)
    E(EMEDIUMTYPE) E(EREMOTEIO) E(EREMOTE)
#undef E
    default:
      return "UNKNOWN";
  }
}

}  // namespace

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall,
                       const char* path) {
  const char* code = ErrnoName(err);
  // strerror is not thread-safe, but errors are only built on the JS thread
  // (async work reports its errno back to OnOK first).
  std::string desc = strerror(err);
  // Node's messages are lower case ("operation not permitted"), and podman
  // matches on those exact words to choose exit codes 126/127.
  if (!desc.empty()) desc[0] = static_cast<char>(std::tolower(desc[0]));
  std::string message = std::string(code) + ": " + desc + ", " + syscall;
  if (path != nullptr) message += std::string(" '") + path + "'";

  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("syscall", Napi::String::New(env, syscall));
  if (path != nullptr) error.Set("path", Napi::String::New(env, path));
  return error;
}

void ThrowErrno(Napi::Env env, int err, const char* syscall, const char* path) {
  ErrnoError(env, err, syscall, path).ThrowAsJavaScriptException();
}

void ThrowType(Napi::Env env, const char* message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
}

static bool BadArg(const Napi::CallbackInfo& info, const char* name,
                   const char* what) {
  std::string message = std::string("argument '") + name + "' must be " + what;
  ThrowType(info.Env(), message.c_str());
  return false;
}

bool ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name,
            int32_t* out) {
  if (i >= info.Length() || !info[i].IsNumber())
    return BadArg(info, name, "an integer");
  double value = info[i].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(value) || std::trunc(value) != value ||
      value < INT32_MIN || value > INT32_MAX)
    return BadArg(info, name, "a 32-bit integer");
  *out = static_cast<int32_t>(value);
  return true;
}

bool ArgIntOr(const Napi::CallbackInfo& info, size_t i, const char* name,
              int32_t fallback, int32_t* out) {
  if (i >= info.Length() || info[i].IsUndefined()) {
    *out = fallback;
    return true;
  }
  return ArgInt(info, i, name, out);
}

bool ArgBool(const Napi::CallbackInfo& info, size_t i, const char* name,
             bool fallback, bool* out) {
  if (i >= info.Length() || info[i].IsUndefined()) {
    *out = fallback;
    return true;
  }
  if (!info[i].IsBoolean()) return BadArg(info, name, "a boolean");
  *out = info[i].As<Napi::Boolean>().Value();
  return true;
}

bool ArgString(const Napi::CallbackInfo& info, size_t i, const char* name,
               std::string* out) {
  if (i >= info.Length() || !info[i].IsString())
    return BadArg(info, name, "a string");
  *out = info[i].As<Napi::String>().Utf8Value();
  // A NUL would silently truncate the path the kernel sees.
  if (out->find('\0') != std::string::npos)
    return BadArg(info, name, "a string without NUL bytes");
  return true;
}

bool ArgBuffer(const Napi::CallbackInfo& info, size_t i, const char* name,
               Napi::Buffer<uint8_t>* out) {
  if (i >= info.Length() || !info[i].IsBuffer())
    return BadArg(info, name, "a Buffer");
  *out = info[i].As<Napi::Buffer<uint8_t>>();
  return true;
}

}  // namespace hako
