#define _GNU_SOURCE
#include "sync.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "plan_tags.h"
#include "util.h"

/* The peer is the runtime: nobody else can hold the socket (we are
 * non-dumpable until execve, main.c), yet every length is checked before
 * use, so that a record could at worst end the process with an error. A
 * plan is a few KiB; a seccomp profile can make it a few hundred. */
#define MSG_MAX (64u << 20)

static void put(struct msgbuf *m, const void *p, size_t n)
{
	if (m->len + n > m->cap) {
		size_t cap = m->cap ? m->cap : 256;
		while (cap < m->len + n)
			cap *= 2;
		m->buf = xrealloc(m->buf, cap);
		m->cap = cap;
	}
	memcpy(m->buf + m->len, p, n);
	m->len += n;
}

static void put_hdr(struct msgbuf *m, uint32_t tag, uint32_t len)
{
	put(m, &tag, 4);
	put(m, &len, 4);
}

void msg_begin(struct msgbuf *m, uint32_t tag)
{
	m->buf = NULL;
	m->len = m->cap = 0;
	put_hdr(m, tag, 0); /* length patched by msg_send */
}

void msg_str(struct msgbuf *m, uint32_t tag, const char *s)
{
	size_t n = strlen(s);
	put_hdr(m, tag, (uint32_t)n);
	put(m, s, n);
}

void msg_u32(struct msgbuf *m, uint32_t tag, uint32_t v)
{
	put_hdr(m, tag, 4);
	put(m, &v, 4);
}

void msg_i32(struct msgbuf *m, uint32_t tag, int32_t v)
{
	put_hdr(m, tag, 4);
	put(m, &v, 4);
}

int msg_send(struct msgbuf *m, int fd)
{
	uint32_t len = (uint32_t)(m->len - 8);
	memcpy(m->buf + 4, &len, 4);
	size_t off = 0;
	int ret = 0;
	while (off < m->len) {
		/* MSG_NOSIGNAL: a runtime that went away must not kill us with SIGPIPE. */
		ssize_t n = send(fd, m->buf + off, m->len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == ENOTSOCK)
			n = write(fd, m->buf + off, m->len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -1;
			break;
		}
		off += (size_t)n;
	}
	int saved = errno;
	free(m->buf);
	m->buf = NULL;
	errno = saved;
	return ret;
}

int msg_read(int fd, uint32_t *tag, uint8_t **val, uint32_t *len)
{
	uint32_t hdr[2];
	ssize_t n = read_all(fd, hdr, sizeof(hdr));
	if (n < 0)
		fail("read from the sync socket");
	if (n == 0)
		return 0;
	if (n != sizeof(hdr))
		failx("sync socket: truncated record header");
	if (hdr[1] > MSG_MAX)
		failx("sync socket: %s record of %u bytes is too large", pt_name(hdr[0]), hdr[1]);
	uint8_t *buf = xmalloc(hdr[1]);
	n = read_all(fd, buf, hdr[1]);
	if (n < 0)
		fail("read from the sync socket");
	if ((uint32_t)n != hdr[1])
		failx("sync socket: truncated %s record", pt_name(hdr[0]));
	*tag = hdr[0];
	*val = buf;
	*len = hdr[1];
	return 1;
}

void rec_iter_init(struct rec_iter *it, const uint8_t *p, size_t len, const char *ctx)
{
	it->p = p;
	it->left = len;
	it->ctx = ctx;
}

bool rec_next(struct rec_iter *it, struct rec *r)
{
	if (it->left == 0)
		return false;
	if (it->left < 8)
		failx("plan: truncated record header in %s", it->ctx);
	memcpy(&r->tag, it->p, 4);
	memcpy(&r->len, it->p + 4, 4);
	it->p += 8;
	it->left -= 8;
	if (r->len > it->left)
		failx("plan: truncated %s record in %s", pt_name(r->tag), it->ctx);
	r->val = it->p;
	it->p += r->len;
	it->left -= r->len;

	uint32_t want;
	switch (pt_type(r->tag)) {
	case 0:
		failx("plan: unknown tag %u in %s", r->tag, it->ctx);
	case PTT_U32:
	case PTT_I32:
	case PTT_BOOL:
		want = 4;
		break;
	case PTT_U64:
	case PTT_I64:
		want = 8;
		break;
	default:
		return true;
	}
	if (r->len != want)
		failx("plan: %s has length %u, expected %u", pt_name(r->tag), r->len, want);
	return true;
}

uint32_t rec_u32(const struct rec *r)
{
	uint32_t v;
	memcpy(&v, r->val, 4);
	return v;
}

int32_t rec_i32(const struct rec *r)
{
	int32_t v;
	memcpy(&v, r->val, 4);
	return v;
}

uint64_t rec_u64(const struct rec *r)
{
	uint64_t v;
	memcpy(&v, r->val, 8);
	return v;
}

int64_t rec_i64(const struct rec *r)
{
	int64_t v;
	memcpy(&v, r->val, 8);
	return v;
}

bool rec_bool(const struct rec *r)
{
	uint32_t v = rec_u32(r);
	if (v > 1)
		failx("plan: %s is %u, expected 0 or 1", pt_name(r->tag), v);
	return v == 1;
}

char *rec_str(const struct rec *r)
{
	if (memchr(r->val, 0, r->len))
		failx("plan: %s contains a NUL byte", pt_name(r->tag));
	char *s = xmalloc((size_t)r->len + 1);
	memcpy(s, r->val, r->len);
	s[r->len] = 0;
	return s;
}
