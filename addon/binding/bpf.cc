// bpf(2) for cgroup v2 device filters: load a BPF_PROG_TYPE_CGROUP_DEVICE
// program, list, attach and detach the programs of a cgroup.
//
// TypeScript builds the program (src/cgroups/devices-bpf.ts) and decides
// how to swap it in (src/cgroups/bpf-attach.ts); these are the bare calls.
// Node has no way to make them, hence the addon.
#include <errno.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "errors.h"

#ifndef BPF_F_REPLACE
#define BPF_F_REPLACE (1U << 2)
#endif

namespace hako {
namespace {

long Bpf(int cmd, union bpf_attr* attr) {
  return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

// The verifier's last words: the line that says why it refused, which is
// the last one before its statistics ("processed N insns ...").
std::string Reason(const std::vector<char>& log) {
  std::string text(log.data(), strnlen(log.data(), log.size()));
  std::string reason;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(start, nl - start);
    start = nl + 1;
    if (line.empty() || line.rfind("processed ", 0) == 0 || line.rfind("verification time", 0) == 0 ||
        line.rfind("stack depth", 0) == 0)
      continue;
    reason = line;
  }
  return reason;
}

// bpfLoadDeviceFilter(insns: Buffer, license: string): number
// The fd is close-on-exec (bpf(2) always sets it). A refusal throws an
// errno error whose message ends with the verifier's explanation, and whose
// `log` property holds the whole verifier log.
Napi::Value LoadDeviceFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Buffer<uint8_t> insns;
  std::string license;
  if (!ArgBuffer(info, 0, "insns", &insns) || !ArgString(info, 1, "license", &license))
    return env.Null();
  if (insns.Length() == 0 || insns.Length() % sizeof(struct bpf_insn) != 0) {
    ThrowType(env, "argument 'insns' must hold whole struct bpf_insn (8 bytes each)");
    return env.Null();
  }
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insn_cnt = static_cast<uint32_t>(insns.Length() / sizeof(struct bpf_insn));
  attr.insns = reinterpret_cast<uintptr_t>(insns.Data());
  attr.license = reinterpret_cast<uintptr_t>(license.c_str());
  long fd = Bpf(BPF_PROG_LOAD, &attr);
  if (fd >= 0) return Napi::Number::New(env, static_cast<double>(fd));
  int err = errno;
  // Load again with the verifier log only to explain a refusal: asking for
  // the log up front costs time on every container start.
  std::vector<char> log(64 * 1024, '\0');
  if (err == EACCES || err == EINVAL) {
    attr.log_level = 1;
    attr.log_buf = reinterpret_cast<uintptr_t>(log.data());
    attr.log_size = static_cast<uint32_t>(log.size());
    fd = Bpf(BPF_PROG_LOAD, &attr);
    if (fd >= 0) return Napi::Number::New(env, static_cast<double>(fd));
  }
  Napi::Error e = ErrnoError(env, err, "bpf(BPF_PROG_LOAD)");
  std::string last = Reason(log);
  if (!last.empty()) {
    e.Set("message", Napi::String::New(env, e.Message() + ": verifier: " + last));
    e.Set("log", Napi::String::New(env, std::string(log.data(), strnlen(log.data(), log.size()))));
  }
  e.ThrowAsJavaScriptException();
  return env.Null();
}

// bpfQueryDeviceFilters(cgroupFd: number): number[]
// Ids of the device programs attached to the cgroup itself (not inherited).
Napi::Value QueryDeviceFilters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t cgfd;
  if (!ArgInt(info, 0, "cgroupFd", &cgfd)) return env.Null();
  std::vector<uint32_t> ids(64);
  for (;;) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.query.target_fd = static_cast<uint32_t>(cgfd);
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = reinterpret_cast<uintptr_t>(ids.data());
    attr.query.prog_cnt = static_cast<uint32_t>(ids.size());
    if (Bpf(BPF_PROG_QUERY, &attr) == 0) {
      Napi::Array out = Napi::Array::New(env, attr.query.prog_cnt);
      for (uint32_t i = 0; i < attr.query.prog_cnt; i++)
        out.Set(i, Napi::Number::New(env, ids[i]));
      return out;
    }
    // ENOSPC: more programs than room; prog_cnt now says how many.
    if (errno == ENOSPC && attr.query.prog_cnt > ids.size()) {
      ids.resize(attr.query.prog_cnt);
      continue;
    }
    ThrowErrno(env, errno, "bpf(BPF_PROG_QUERY)");
    return env.Null();
  }
}

// bpfProgFdById(id: number): number — a close-on-exec fd for a loaded program.
Napi::Value ProgFdById(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t id;
  if (!ArgInt(info, 0, "id", &id)) return env.Null();
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.prog_id = static_cast<uint32_t>(id);
  long fd = Bpf(BPF_PROG_GET_FD_BY_ID, &attr);
  if (fd < 0) {
    ThrowErrno(env, errno, "bpf(BPF_PROG_GET_FD_BY_ID)");
    return env.Null();
  }
  return Napi::Number::New(env, static_cast<double>(fd));
}

// bpfAttachDeviceFilter(cgroupFd, progFd, replaceFd = -1): void
// Always BPF_F_ALLOW_MULTI, so that programs attached by others (systemd)
// stay and ours is one more; with replaceFd, BPF_F_REPLACE swaps that
// program for ours atomically (kernel 5.6).
Napi::Value AttachDeviceFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t cgfd, progfd, replacefd;
  if (!ArgInt(info, 0, "cgroupFd", &cgfd) || !ArgInt(info, 1, "progFd", &progfd) ||
      !ArgIntOr(info, 2, "replaceFd", -1, &replacefd))
    return env.Null();
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.target_fd = static_cast<uint32_t>(cgfd);
  attr.attach_bpf_fd = static_cast<uint32_t>(progfd);
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (replacefd >= 0) {
    attr.attach_flags |= BPF_F_REPLACE;
    attr.replace_bpf_fd = static_cast<uint32_t>(replacefd);
  }
  if (Bpf(BPF_PROG_ATTACH, &attr) != 0) ThrowErrno(env, errno, "bpf(BPF_PROG_ATTACH)");
  return env.Undefined();
}

// bpfDetachDeviceFilter(cgroupFd, progFd): void
Napi::Value DetachDeviceFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t cgfd, progfd;
  if (!ArgInt(info, 0, "cgroupFd", &cgfd) || !ArgInt(info, 1, "progFd", &progfd))
    return env.Null();
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.target_fd = static_cast<uint32_t>(cgfd);
  attr.attach_bpf_fd = static_cast<uint32_t>(progfd);
  attr.attach_type = BPF_CGROUP_DEVICE;
  if (Bpf(BPF_PROG_DETACH, &attr) != 0) ThrowErrno(env, errno, "bpf(BPF_PROG_DETACH)");
  return env.Undefined();
}

}  // namespace

void InitBpf(Napi::Env env, Napi::Object exports) {
  exports.Set("bpfLoadDeviceFilter", Napi::Function::New(env, LoadDeviceFilter, "bpfLoadDeviceFilter"));
  exports.Set("bpfQueryDeviceFilters", Napi::Function::New(env, QueryDeviceFilters, "bpfQueryDeviceFilters"));
  exports.Set("bpfProgFdById", Napi::Function::New(env, ProgFdById, "bpfProgFdById"));
  exports.Set("bpfAttachDeviceFilter", Napi::Function::New(env, AttachDeviceFilter, "bpfAttachDeviceFilter"));
  exports.Set("bpfDetachDeviceFilter", Napi::Function::New(env, DetachDeviceFilter, "bpfDetachDeviceFilter"));
}

}  // namespace hako
