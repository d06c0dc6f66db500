// libseccomp: probes, and the compiler from a resolved profile to BPF.
//
// TypeScript (src/seccomp/compile.ts) does all the policy: it turns the OCI
// profile into plain numbers (action codes with their errno, comparison
// operators, libseccomp architecture names) and decides which rules exist.
// Here we only drive libseccomp and export the program; the launcher loads
// the bytes with seccomp(2) as the last step before execve. Nothing here ever
// installs a filter into this process.
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <string>
#include <vector>

#include "errors.h"

namespace hako {
namespace {

// True when the kernel accepts seccomp filters and libseccomp can build one
// for this architecture. A filter applies only to the container, so probing
// never installs anything here.
Napi::Value SeccompAvailable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool kernel;
#ifdef SECCOMP_GET_ACTION_AVAIL
  uint32_t action = SECCOMP_RET_ALLOW;
  if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0) {
    kernel = true;
  } else
#endif
  {
    // Kernels before 4.14 lack GET_ACTION_AVAIL; PR_GET_SECCOMP still tells
    // whether seccomp is configured in at all (EINVAL when not).
    kernel = prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
  }
  if (!kernel) return Napi::Boolean::New(env, false);
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (ctx == nullptr) return Napi::Boolean::New(env, false);
  seccomp_release(ctx);
  return Napi::Boolean::New(env, true);
}

// The version of the libseccomp actually loaded, which may be newer than the
// headers we were built against.
Napi::Value SeccompVersion(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const struct scmp_version* v = seccomp_version();
  std::string text = std::to_string(v->major) + "." +
                     std::to_string(v->minor) + "." + std::to_string(v->micro);
  return Napi::String::New(env, text);
}

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

// Whether seccomp(2) takes these SECCOMP_FILTER_FLAG_* bits. The flags are
// checked before the program is read, so a NULL program answers EFAULT when
// the kernel knows the flags and EINVAL when it does not, without installing
// anything (libseccomp probes the same way). WAIT_KILLABLE_RECV is only
// valid together with NEW_LISTENER, so it is probed with it.
Napi::Value SeccompFlagSupported(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t flags;
  if (!ArgInt(info, 0, "flags", &flags)) return env.Null();
  unsigned long probe = static_cast<uint32_t>(flags);
  if (probe & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
    probe |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, probe, nullptr);
  return Napi::Boolean::New(env, r < 0 && errno == EFAULT);
}

// ---- the compiler ----

struct Rule {
  std::string name;
  uint32_t action;
  std::vector<struct scmp_arg_cmp> args;
};

struct Input {
  uint32_t defaultAction = 0;
  std::vector<std::string> architectures;
  std::vector<Rule> rules;
  std::vector<std::string> syscallNames;
  bool binaryTree = false;
};

// libseccomp's names for the architectures it may know, to name the native
// one in the result (libseccomp maps names to tokens but not back).
const char* const kArchNames[] = {
    "x86",       "x86_64",      "x32",    "arm",      "aarch64",
    "mips",      "mips64",      "mips64n32", "mipsel", "mipsel64",
    "mipsel64n32", "ppc",       "ppc64",  "ppc64le",  "s390",
    "s390x",     "parisc",      "parisc64", "riscv64", "loongarch64",
    "m68k",      "sh",          "sheb",
};

bool Fail(Napi::Env env, const std::string& message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return false;
}

bool GetUint32(Napi::Env env, Napi::Object o, const char* key,
               const std::string& where, uint32_t* out) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) return Fail(env, where + "." + key + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 4294967295.0) || static_cast<double>(static_cast<uint32_t>(d)) != d)
    return Fail(env, where + "." + key + " must be a 32-bit unsigned integer");
  *out = static_cast<uint32_t>(d);
  return true;
}

bool GetUint64(Napi::Env env, Napi::Object o, const char* key,
               const std::string& where, uint64_t* out) {
  Napi::Value v = o.Get(key);
  if (!v.IsBigInt()) return Fail(env, where + "." + key + " must be a bigint");
  bool lossless = false;
  *out = v.As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) return Fail(env, where + "." + key + " must fit in 64 unsigned bits");
  return true;
}

bool GetStrings(Napi::Env env, Napi::Object o, const char* key,
                std::vector<std::string>* out) {
  Napi::Value v = o.Get(key);
  if (!v.IsArray()) return Fail(env, std::string("input.") + key + " must be an array");
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value s = a.Get(i);
    if (!s.IsString()) return Fail(env, std::string("input.") + key + " must hold strings");
    out->push_back(s.As<Napi::String>().Utf8Value());
  }
  return true;
}

bool ReadInput(const Napi::CallbackInfo& info, Input* in) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject())
    return Fail(env, "argument 'input' must be an object");
  Napi::Object o = info[0].As<Napi::Object>();
  if (!GetUint32(env, o, "defaultAction", "input", &in->defaultAction)) return false;
  if (!GetStrings(env, o, "architectures", &in->architectures)) return false;
  if (!GetStrings(env, o, "syscallNames", &in->syscallNames)) return false;
  Napi::Value tree = o.Get("binaryTree");
  if (!tree.IsUndefined()) {
    if (!tree.IsBoolean()) return Fail(env, "input.binaryTree must be a boolean");
    in->binaryTree = tree.As<Napi::Boolean>().Value();
  }
  Napi::Value rules = o.Get("rules");
  if (!rules.IsArray()) return Fail(env, "input.rules must be an array");
  Napi::Array ra = rules.As<Napi::Array>();
  for (uint32_t i = 0; i < ra.Length(); i++) {
    std::string where = "input.rules[" + std::to_string(i) + "]";
    Napi::Value rv = ra.Get(i);
    if (!rv.IsObject()) return Fail(env, where + " must be an object");
    Napi::Object r = rv.As<Napi::Object>();
    Rule rule;
    Napi::Value name = r.Get("name");
    if (!name.IsString()) return Fail(env, where + ".name must be a string");
    rule.name = name.As<Napi::String>().Utf8Value();
    if (!GetUint32(env, r, "action", where, &rule.action)) return false;
    Napi::Value args = r.Get("args");
    if (!args.IsArray()) return Fail(env, where + ".args must be an array");
    Napi::Array aa = args.As<Napi::Array>();
    for (uint32_t j = 0; j < aa.Length(); j++) {
      std::string at = where + ".args[" + std::to_string(j) + "]";
      Napi::Value av = aa.Get(j);
      if (!av.IsObject()) return Fail(env, at + " must be an object");
      Napi::Object a = av.As<Napi::Object>();
      uint32_t index, op;
      uint64_t value, valueTwo;
      if (!GetUint32(env, a, "index", at, &index) || !GetUint32(env, a, "op", at, &op) ||
          !GetUint64(env, a, "value", at, &value) ||
          !GetUint64(env, a, "valueTwo", at, &valueTwo))
        return false;
      struct scmp_arg_cmp cmp;
      cmp.arg = index;
      cmp.op = static_cast<enum scmp_compare>(op);
      cmp.datum_a = value;
      cmp.datum_b = valueTwo;
      rule.args.push_back(cmp);
    }
    in->rules.push_back(std::move(rule));
  }
  return true;
}

// An Error whose message is one line, with `code` (the errno name libseccomp
// returned, when it returned one) and the index of the offending input entry
// so that TypeScript can name the JSON path.
void ThrowSeccomp(Napi::Env env, const std::string& message, int err,
                  const char* key = nullptr, uint32_t index = 0) {
  std::string text = message;
  Napi::Error e;
  if (err > 0) {
    Napi::Error sys = ErrnoError(env, err, "seccomp");
    std::string desc = strerror(err);
    if (!desc.empty()) desc[0] = static_cast<char>(tolower(desc[0]));
    text += ": " + desc;
    e = Napi::Error::New(env, text);
    e.Set("code", sys.Get("code"));
    e.Set("errno", Napi::Number::New(env, err));
  } else {
    e = Napi::Error::New(env, text);
  }
  if (key != nullptr) e.Set(key, Napi::Number::New(env, index));
  e.ThrowAsJavaScriptException();
}

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

// Builds the libseccomp filter for `in`. On failure a JS exception is pending
// and the result is empty. `skipped` gets the names libseccomp does not know
// on any architecture (in first-seen order, once each): runc skips those with
// a debug log because a profile written for a newer kernel names syscalls an
// older libseccomp has never heard of.
Ctx Build(Napi::Env env, const Input& in, std::vector<std::string>* skipped) {
  Ctx ctx(seccomp_init(in.defaultAction));
  if (!ctx) {
    // libseccomp only says NULL: the action is invalid or the kernel lacks it.
    ThrowSeccomp(env, "libseccomp rejected the default action", EINVAL);
    return nullptr;
  }
  // The launcher sets no_new_privs itself (only when the config asks), and
  // it is single-threaded, so neither attribute must reach the program.
  seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
  seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_TSYNC, 0);
  if (in.binaryTree) {
    // Sorting syscalls into a binary tree makes long allow lists (podman's
    // ~400 names) cheaper on every syscall. Older libseccomp lacks the
    // attribute; the filter is merely slower then.
    seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);
  }

  // The native architecture is always part of the filter (seccomp_init adds
  // it), as in runc: a profile that forgets it must not kill every process.
  for (uint32_t i = 0; i < in.architectures.size(); i++) {
    const std::string& name = in.architectures[i];
    uint32_t token = seccomp_arch_resolve_name(name.c_str());
    if (token == 0) {
      const struct scmp_version* v = seccomp_version();
      ThrowSeccomp(env,
                   "architecture " + name + " is not known to libseccomp " +
                       std::to_string(v->major) + "." + std::to_string(v->minor) +
                       "." + std::to_string(v->micro),
                   0, "architecture", i);
      return nullptr;
    }
    int r = seccomp_arch_add(ctx.get(), token);
    if (r < 0 && r != -EEXIST) {
      ThrowSeccomp(env, "adding architecture " + name, -r, "architecture", i);
      return nullptr;
    }
  }

  for (uint32_t i = 0; i < in.rules.size(); i++) {
    const Rule& rule = in.rules[i];
    int nr = seccomp_syscall_resolve_name(rule.name.c_str());
    if (nr == __NR_SCMP_ERROR) {
      if (std::find(skipped->begin(), skipped->end(), rule.name) == skipped->end())
        skipped->push_back(rule.name);
      continue;
    }
    int r = seccomp_rule_add_array(ctx.get(), rule.action, nr,
                                   static_cast<unsigned int>(rule.args.size()),
                                   rule.args.empty() ? nullptr : rule.args.data());
    if (r < 0) {
      ThrowSeccomp(env, "libseccomp rejected the rule for " + rule.name, -r, "rule", i);
      return nullptr;
    }
  }
  return ctx;
}

// Runs libseccomp's exporter into a memfd and returns what it wrote. A pipe
// would deadlock on a program larger than the pipe buffer.
bool Export(Napi::Env env, void* ctx, bool pfc, std::string* out) {
  int fd = static_cast<int>(syscall(SYS_memfd_create, "hako-seccomp", MFD_CLOEXEC));
  if (fd < 0) {
    ThrowErrno(env, errno, "memfd_create");
    return false;
  }
  int r = pfc ? seccomp_export_pfc(ctx, fd) : seccomp_export_bpf(ctx, fd);
  if (r < 0) {
    close(fd);
    ThrowSeccomp(env, pfc ? "exporting the filter as PFC" : "exporting the filter as BPF", -r);
    return false;
  }
  off_t size = lseek(fd, 0, SEEK_END);
  if (size < 0) {
    int err = errno;
    close(fd);
    ThrowErrno(env, err, "lseek");
    return false;
  }
  out->resize(static_cast<size_t>(size));
  size_t done = 0;
  while (done < out->size()) {
    ssize_t n = pread(fd, &(*out)[done], out->size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      close(fd);
      ThrowErrno(env, err, "pread");
      return false;
    }
    done += static_cast<size_t>(n);
  }
  close(fd);
  return true;
}

// The architectures in the filter, the native one first, each with its
// AUDIT_ARCH_* value (what the kernel puts in seccomp_data.arch) and the
// largest syscall number any of `names` has there (-1 when none resolves).
// TypeScript builds runc's -ENOSYS stub from these.
Napi::Array ArchInfo(Napi::Env env, const Input& in) {
  std::vector<std::pair<std::string, uint32_t>> archs;
  uint32_t native = seccomp_arch_native();
  std::string nativeName = "native";
  for (const char* name : kArchNames) {
    if (seccomp_arch_resolve_name(name) == native) {
      nativeName = name;
      break;
    }
  }
  archs.emplace_back(nativeName, native);
  for (const std::string& name : in.architectures) {
    uint32_t token = seccomp_arch_resolve_name(name.c_str());
    bool seen = false;
    for (auto& a : archs) seen = seen || a.second == token;
    if (token != 0 && !seen) archs.emplace_back(name, token);
  }

  Napi::Array result = Napi::Array::New(env, archs.size());
  for (uint32_t i = 0; i < archs.size(); i++) {
    uint32_t token = archs[i].second;
    int last = -1;
    for (const std::string& name : in.syscallNames) {
      int nr = seccomp_syscall_resolve_name_arch(token, name.c_str());
      // Negative numbers are libseccomp's pseudo-syscalls (names that do not
      // exist on this architecture).
      if (nr > last) last = nr;
    }
    // x32 is x86_64 with bit 30 set in the syscall number: the kernel reports
    // AUDIT_ARCH_X86_64 for it, and libseccomp's token for it is made up.
    uint32_t audit = token == SCMP_ARCH_X32 ? AUDIT_ARCH_X86_64 : token;
    Napi::Object o = Napi::Object::New(env);
    o.Set("arch", Napi::String::New(env, archs[i].first));
    o.Set("audit", Napi::Number::New(env, audit));
    o.Set("lastSyscall", Napi::Number::New(env, last));
    result.Set(i, o);
  }
  return result;
}

// seccompCompile(input) -> { bpf, skipped, archs }
Napi::Value SeccompCompile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Input in;
  if (!ReadInput(info, &in)) return env.Null();
  std::vector<std::string> skipped;
  Ctx ctx = Build(env, in, &skipped);
  if (!ctx) return env.Null();
  std::string bpf;
  if (!Export(env, ctx.get(), false, &bpf)) return env.Null();

  Napi::Object result = Napi::Object::New(env);
  result.Set("bpf", Napi::Buffer<uint8_t>::Copy(
                        env, reinterpret_cast<const uint8_t*>(bpf.data()), bpf.size()));
  Napi::Array names = Napi::Array::New(env, skipped.size());
  for (uint32_t i = 0; i < skipped.size(); i++) names.Set(i, Napi::String::New(env, skipped[i]));
  result.Set("skipped", names);
  result.Set("archs", ArchInfo(env, in));
  return result;
}

// The same filter in libseccomp's pseudo-filter-code text, for debugging
// (`hako` never loads it).
Napi::Value SeccompExportPfc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Input in;
  if (!ReadInput(info, &in)) return env.Null();
  std::vector<std::string> skipped;
  Ctx ctx = Build(env, in, &skipped);
  if (!ctx) return env.Null();
  std::string text;
  if (!Export(env, ctx.get(), true, &text)) return env.Null();
  return Napi::String::New(env, text);
}

// The values TypeScript's tables must agree with (src/seccomp/consts.ts):
// libseccomp's action codes and comparison operators, and the seccomp(2)
// flag bits, from the headers the addon was compiled against.
Napi::Object Constants(Napi::Env env) {
  Napi::Object c = Napi::Object::New(env);
#define K(name) c.Set(#name, Napi::Number::New(env, static_cast<double>(name)));
  K(SCMP_ACT_KILL_PROCESS) K(SCMP_ACT_KILL_THREAD) K(SCMP_ACT_TRAP)
  K(SCMP_ACT_NOTIFY) K(SCMP_ACT_ERRNO(0)) K(SCMP_ACT_TRACE(0)) K(SCMP_ACT_LOG)
  K(SCMP_ACT_ALLOW)
  K(SCMP_CMP_NE) K(SCMP_CMP_LT) K(SCMP_CMP_LE) K(SCMP_CMP_EQ) K(SCMP_CMP_GE)
  K(SCMP_CMP_GT) K(SCMP_CMP_MASKED_EQ)
  K(SECCOMP_FILTER_FLAG_TSYNC) K(SECCOMP_FILTER_FLAG_LOG)
  K(SECCOMP_FILTER_FLAG_SPEC_ALLOW) K(SECCOMP_FILTER_FLAG_NEW_LISTENER)
  K(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
  K(AUDIT_ARCH_X86_64) K(AUDIT_ARCH_I386) K(AUDIT_ARCH_AARCH64) K(AUDIT_ARCH_ARM)
#undef K
  c.Freeze();
  return c;
}

// connect(2) to a unix stream socket by path, blocking; the fd is
// close-on-exec. Node's net.Socket keeps its fd to itself, and the seccomp
// agent needs the listener fd sent over the connection with SCM_RIGHTS.
Napi::Value ConnectUnix(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path;
  if (!ArgString(info, 0, "path", &path)) return env.Null();
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    ThrowErrno(env, path.empty() ? ENOENT : ENAMETOOLONG, "connect", path.c_str());
    return env.Null();
  }
  memcpy(addr.sun_path, path.data(), path.size());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ThrowErrno(env, errno, "socket");
    return env.Null();
  }
  int r;
  do {
    r = connect(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    int err = errno;
    close(fd);
    ThrowErrno(env, err, "connect", path.c_str());
    return env.Null();
  }
  return Napi::Number::New(env, fd);
}

}  // namespace

void InitSeccomp(Napi::Env env, Napi::Object exports) {
  exports.Set("seccompAvailable",
              Napi::Function::New(env, SeccompAvailable, "seccompAvailable"));
  exports.Set("seccompVersion",
              Napi::Function::New(env, SeccompVersion, "seccompVersion"));
  exports.Set("seccompFlagSupported",
              Napi::Function::New(env, SeccompFlagSupported, "seccompFlagSupported"));
  exports.Set("seccompCompile",
              Napi::Function::New(env, SeccompCompile, "seccompCompile"));
  exports.Set("seccompExportPfc",
              Napi::Function::New(env, SeccompExportPfc, "seccompExportPfc"));
  exports.Set("seccompConstants", Constants(env));
  exports.Set("connectUnix", Napi::Function::New(env, ConnectUnix, "connectUnix"));
}

}  // namespace hako
