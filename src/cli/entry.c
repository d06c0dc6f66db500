/*
 * bin/hako's entry: runs the compiled engine (bin/hako-engine, the Bun
 * executable scripts/bundle.mjs makes) in place, by execve.
 *
 * Why it exists: the Bun engine refuses to start when its working
 * directory was deleted ("The current working directory was deleted"),
 * before any of hako's code runs; runc works from anywhere. A caller whose
 * directory is gone (a test's scratch directory, a removed checkout) must
 * still be able to list, kill and delete containers. Only then does this
 * change anything: it moves to "/" and tells hako (HAKO_CWD_DELETED=1) so
 * that a relative path on the command line is refused, never resolved
 * against "/". With a working directory that exists it only execs.
 *
 * Every command pays for this program's start, so it has no C library: a
 * static glibc program's own start-up costs several times a bare execve
 * (measured: about 2 ms more per command on a loaded 2-core machine, a
 * fraction of that here). Raw system calls for x86-64 and arm64, the two
 * architectures Bun ships executables for. Built with -nostdlib
 * -ffreestanding -fno-stack-protector (no TLS, so no stack canary) and
 * without loop-to-memcpy rewriting (no memcpy to call).
 *
 * It also starts the engine without JavaScriptCore's JIT
 * (BUN_JSC_useJIT=0, unless the caller's environment sets BUN_JSC_useJIT
 * itself): a hako command runs its code a few times and exits, and setting
 * up the JIT's executable memory cost more than it saved, about 1-2 ms of
 * CPU and 2 MiB of peak RSS per command (bench/README.md). hako removes the
 * variable from its environment at start (src/cli/main.ts), so nothing it
 * runs inherits it. No JIT also means no writable code pages in a process
 * that runs as root.
 *
 * The engine is found where it was built (a copy of bin/hako elsewhere, as
 * src/native.ts finds build/Release), else next to this program's real path
 * (a checkout moved whole).
 */
#ifndef HAKO_ENGINE_PATH
#error "build with -DHAKO_ENGINE_PATH=\"/abs/path/to/bin/hako-engine\""
#endif

#define ENGINE_NAME "hako-engine"
#define MARK "HAKO_CWD_DELETED="
#define JIT_VAR "BUN_JSC_useJIT="
#define AT_FDCWD (-100)
#define ENOENT 2
#define BUF 4096

#if defined(__x86_64__)
#define NR_write 1
#define NR_getcwd 79
#define NR_chdir 80
#define NR_execve 59
#define NR_readlinkat 267
#define NR_exit_group 231
static long sys4(long n, long a, long b, long c, long d) {
  register long r10 __asm__("r10") = d;
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
  return r;
}
/* The kernel's stack: argc, argv..., NULL, envp..., NULL. The call leaves
 * the stack as a C function expects it (16-byte aligned before the call). */
__asm__(".text\n.globl _start\n_start:\n xor %rbp,%rbp\n mov %rsp,%rdi\n and $-16,%rsp\n call entry\n hlt\n");
#elif defined(__aarch64__)
#define NR_write 64
#define NR_getcwd 17
#define NR_chdir 49
#define NR_execve 221
#define NR_readlinkat 78
#define NR_exit_group 94
static long sys4(long n, long a, long b, long c, long d) {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
  return x0;
}
__asm__(".text\n.globl _start\n_start:\n mov x29, #0\n mov x30, #0\n mov x0, sp\n bl entry\n brk #0\n");
#else
#error "the entry knows the system calls of x86-64 and arm64 only"
#endif

static unsigned long length(const char *s) {
  unsigned long n = 0;
  while (s[n]) n++;
  return n;
}

static int starts_with(const char *s, const char *prefix) {
  while (*prefix)
    if (*s++ != *prefix++) return 0;
  return 1;
}

static void say(const char *s) { sys4(NR_write, 2, (long)s, (long)length(s), 0); }

static void run(const char *path, char **argv, char **envp) { sys4(NR_execve, (long)path, (long)argv, (long)envp, 0); }

__attribute__((used, noreturn)) void entry(long *sp) {
  long argc = sp[0];
  char **argv = (char **)(sp + 1);
  char **envp = argv + argc + 1;
  char buf[BUF];

  unsigned long n = 0;
  int jit_set = 0;
  for (; envp[n]; n++)
    if (starts_with(envp[n], JIT_VAR)) jit_set = 1;
  /* Room for the environment, the mark, the JIT setting and the end. */
  char *env[n + 3];
  unsigned long k = 0;
  int cwd_gone = sys4(NR_getcwd, (long)buf, BUF, 0, 0) == -ENOENT;
  if (cwd_gone) {
    if (sys4(NR_chdir, (long)"/", 0, 0, 0) != 0) {
      say("hako: the working directory was deleted and / is unusable\n");
      sys4(NR_exit_group, 1, 0, 0, 0);
    }
    env[k++] = MARK "1";
  }
  if (!jit_set) env[k++] = JIT_VAR "0";
  for (unsigned long i = 0; i < n; i++) {
    if (cwd_gone && starts_with(envp[i], MARK)) continue;
    /* The engine reads BUN_* variables as options of its own: BUN_OPTIONS
     * takes --preload (code of anyone's choosing run in a root process,
     * like LD_PRELOAD), BUN_INSPECT opens a debugger. A runtime does what
     * its command line says, whatever its caller's environment: none of
     * them reach the engine but the JIT setting above. */
    if (starts_with(envp[i], "BUN_") && !starts_with(envp[i], JIT_VAR)) continue;
    env[k++] = envp[i];
  }
  env[k] = 0;
  envp = env;

  run(HAKO_ENGINE_PATH, argv, envp);
  long got = sys4(NR_readlinkat, AT_FDCWD, (long)"/proc/self/exe", (long)buf, BUF - 1);
  if (got > 0) {
    buf[got] = 0;
    long slash = got;
    while (slash > 0 && buf[slash - 1] != '/') slash--;
    if (slash > 0 && (unsigned long)slash + sizeof ENGINE_NAME <= BUF) {
      const char *name = ENGINE_NAME;
      for (unsigned long i = 0; i < sizeof ENGINE_NAME; i++) buf[slash + i] = name[i];
      run(buf, argv, envp);
    }
  }
  say("hako: cannot run " HAKO_ENGINE_PATH " (nor " ENGINE_NAME " next to this program)\n");
  sys4(NR_exit_group, 1, 0, 0, 0);
  __builtin_unreachable();
}
