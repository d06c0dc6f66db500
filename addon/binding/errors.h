// Errors and argument checks shared by every binding file.
//
// Failures surface as JS Errors shaped like Node's own fs errors
// (`EPERM: operation not permitted, flock`, with `code`, `errno`, `syscall`
// and, when a path is involved, `path`), so TypeScript handles them the same
// way whether they came from node:fs or from here. Unlike Node, `errno` is the
// kernel's positive value (comparable with os.constants.errno), not libuv's
// negated one.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

namespace hako {

// Builds the error without throwing it (promises reject with it).
Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall,
                       const char* path = nullptr);

// Throws the error as a pending JS exception; the caller returns right after.
void ThrowErrno(Napi::Env env, int err, const char* syscall,
                const char* path = nullptr);

void ThrowType(Napi::Env env, const char* message);

// Argument readers: on a bad argument they throw a TypeError and return
// false, so every binding reads `if (!ArgInt(...)) return env.Null();`.
// Integers must be exact: 1.5 or NaN as an fd is a caller bug, not fd 1.
bool ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name,
            int32_t* out);
bool ArgIntOr(const Napi::CallbackInfo& info, size_t i, const char* name,
              int32_t fallback, int32_t* out);
bool ArgBool(const Napi::CallbackInfo& info, size_t i, const char* name,
             bool fallback, bool* out);
bool ArgString(const Napi::CallbackInfo& info, size_t i, const char* name,
               std::string* out);
bool ArgBuffer(const Napi::CallbackInfo& info, size_t i, const char* name,
               Napi::Buffer<uint8_t>* out);

// One registration function per topic file, called from addon.cc.
void InitProcess(Napi::Env env, Napi::Object exports);
void InitFs(Napi::Env env, Napi::Object exports);
void InitTerm(Napi::Env env, Napi::Object exports);
void InitFdPass(Napi::Env env, Napi::Object exports);
void InitSeccomp(Napi::Env env, Napi::Object exports);
void InitSeccompNotify(Napi::Env env, Napi::Object exports);
void InitBpf(Napi::Env env, Napi::Object exports);
void InitPtyProxy(Napi::Env env, Napi::Object exports);
void InitNetlink(Napi::Env env, Napi::Object exports);
void InitExitWatch(Napi::Env env, Napi::Object exports);

}  // namespace hako
