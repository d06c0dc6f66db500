#define _GNU_SOURCE
#include "util.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "plan_tags.h"
#include "sync.h"

static enum err_sink sink = SINK_NONE;
static int sink_fd = -1;
static unsigned log_level;
static int fail_code = 1;

void err_set_sync(int fd) { sink = SINK_SYNC; sink_fd = fd; }
void err_set_fifo(int fd) { sink = SINK_FIFO; sink_fd = fd; }
void err_set_none(void) { sink = SINK_NONE; sink_fd = -1; }
void set_log_level(unsigned level) { log_level = level; }
void set_fail_code(int code) { fail_code = code; }

const char *errstr(int err)
{
	static char buf[128];
	const char *s = strerror(err);
	size_t n = strlen(s);
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, s, n);
	buf[n] = 0;
	buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

/* One line: the runtime shows it to users as is and conmon keeps the last line. */
static void one_line(char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
}

static __attribute__((noreturn)) void report(int err, bool suffix, const char *fmt, va_list ap)
{
	char text[4096];
	int n = vsnprintf(text, sizeof(text), fmt, ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(text))
		n = sizeof(text) - 1;
	if (err && suffix)
		snprintf(text + n, sizeof(text) - (size_t)n, ": %s", errstr(err));
	one_line(text);
	if (sink == SINK_SYNC) {
		struct msgbuf m;
		msg_begin(&m, PT_MSG_ERROR);
		msg_str(&m, PT_ERR_TEXT, text);
		msg_i32(&m, PT_ERR_ERRNO, err);
		msg_send(&m, sink_fd);
	} else if (sink == SINK_FIFO) {
		(void)write_all(sink_fd, text, strlen(text));
	}
	_exit(fail_code);
}

void fail_errno(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report(err, true, fmt, ap);
}

void fail(const char *fmt, ...)
{
	int err = errno;
	va_list ap;
	va_start(ap, fmt);
	report(err, true, fmt, ap);
}

void failx_errno(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report(err, false, fmt, ap);
}

void failx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report(0, false, fmt, ap);
}

static void vwarn(bool debug, const char *fmt, va_list ap)
{
	char text[4096];
	if (sink != SINK_SYNC)
		return;
	vsnprintf(text, sizeof(text), fmt, ap);
	one_line(text);
	struct msgbuf m;
	msg_begin(&m, PT_MSG_WARN);
	msg_str(&m, PT_WARN_TEXT, text);
	if (debug)
		msg_u32(&m, PT_WARN_DEBUG, 1);
	msg_send(&m, sink_fd);
}

void warnx_msg(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	vwarn(false, fmt, ap);
	va_end(ap);
	errno = saved;
}

void debugx(const char *fmt, ...)
{
	if (log_level < 1)
		return;
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	vwarn(true, fmt, ap);
	va_end(ap);
	errno = saved;
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		failx("out of memory");
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		failx("out of memory");
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		failx("out of memory");
	return p;
}

char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d)
		failx("out of memory");
	return d;
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

const char *fdpath(char buf[FDPATH_MAX], int fd)
{
	snprintf(buf, FDPATH_MAX, "/proc/self/fd/%d", fd);
	return buf;
}

void set_dumpable(int on)
{
	if (prctl(PR_SET_DUMPABLE, on ? 1 : 0, 0, 0, 0) < 0)
		fail("prctl(PR_SET_DUMPABLE, %d)", on ? 1 : 0);
}

int open_own_proc(const char *path, int flags)
{
	int fd = open(path, flags);
	if (fd >= 0 || errno != EACCES)
		return fd;
	set_dumpable(1);
	fd = open(path, flags);
	int err = errno;
	set_dumpable(0);
	errno = err;
	return fd;
}

void xclose(int fd)
{
	int saved = errno;
	if (fd >= 0)
		close(fd);
	errno = saved;
}

int send_fd(int sock, int fd, const void *data, size_t len)
{
	struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	memset(&control, 0, sizeof(control));
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof(control.buf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	ssize_t n;
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if ((size_t)n != len) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}
