/* Error reporting and small helpers shared by every step of the launcher. */
#ifndef HAKO_UTIL_H
#define HAKO_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Where a fatal error goes: the sync socket until MSG_READY, the exec fifo
 * after `start` opened it, nowhere in between (the runtime has gone). */
enum err_sink { SINK_NONE, SINK_SYNC, SINK_FIFO };

void err_set_sync(int fd);
void err_set_fifo(int fd);
void err_set_none(void);
void set_log_level(unsigned level);

/* Exit code used by fail() and friends: 1, except for exec failures. */
void set_fail_code(int code);

/* Reports "<what>: <strerror(err)>" (or just <what> when err is 0) and exits. */
__attribute__((noreturn, format(printf, 2, 3))) void fail_errno(int err, const char *fmt, ...);
/* Same with the current errno. */
__attribute__((noreturn, format(printf, 1, 2))) void fail(const char *fmt, ...);
/* Reports a failure that is not a syscall error. */
__attribute__((noreturn, format(printf, 1, 2))) void failx(const char *fmt, ...);
/* Carries err in ERR_ERRNO without appending its text. */
__attribute__((noreturn, format(printf, 2, 3))) void failx_errno(int err, const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void warnx_msg(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void debugx(const char *fmt, ...);

/* strerror in Go's spelling ("no such file or directory"): runc's callers
 * (Docker, containerd, podman) match on these lower-case texts. */
const char *errstr(int err);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* Whole-buffer I/O that retries on EINTR and short transfers. 0 or -1. */
int write_all(int fd, const void *buf, size_t len);
/* Returns bytes read (less than len only at EOF) or -1. */
ssize_t read_all(int fd, void *buf, size_t len);

/* "/proc/self/fd/N" in a caller-provided buffer. */
#define FDPATH_MAX 32
const char *fdpath(char buf[FDPATH_MAX], int fd);

/* PR_SET_DUMPABLE: on = 1 only for the moments when something outside must
 * open our /proc files (nsenter.c). Fatal on failure. Off, the kernel lets
 * nobody without CAP_SYS_PTRACE over our memory's user namespace ptrace us,
 * open /proc/PID/fd, root, cwd, mem or environ, or pidfd_getfd from us. */
void set_dumpable(int on);

/* open(2) of one of our own /proc/self files for writing. Non-dumpable, they
 * belong to root, which an unprivileged launcher is not: on EACCES it is
 * dumpable for the open (the check is made then, not at each write). Only
 * for the launcher before it joins or makes any namespace of the container:
 * no process of the container can see it then. -1 with errno. */
int open_own_proc(const char *path, int flags);

/* close() that keeps errno. */
void xclose(int fd);

/* One sendmsg of the len bytes at data (len > 0: a stream socket drops an fd
 * sent with no payload) carrying fd as SCM_RIGHTS; MSG_NOSIGNAL, EINTR
 * retried. 0, or -1 with errno (EMSGSIZE for a short send). */
int send_fd(int sock, int fd, const void *data, size_t len);

#endif
