/* Records on the sync socket: u32 tag | u32 length | value (addon/plan.tags). */
#ifndef HAKO_SYNC_H
#define HAKO_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An outgoing message: one top-level record whose value is a nest. */
struct msgbuf {
	uint8_t *buf;
	size_t len, cap;
};

void msg_begin(struct msgbuf *m, uint32_t tag);
void msg_str(struct msgbuf *m, uint32_t tag, const char *s);
void msg_u32(struct msgbuf *m, uint32_t tag, uint32_t v);
void msg_i32(struct msgbuf *m, uint32_t tag, int32_t v);
/* Sends and frees. 0 or -1 with errno. */
int msg_send(struct msgbuf *m, int fd);

/* Reads one top-level record. 1 = got one (*val is malloc'ed), 0 = EOF
 * before its first byte; anything else (truncation, oversize) is fatal. */
int msg_read(int fd, uint32_t *tag, uint8_t **val, uint32_t *len);

/* A decoded record inside a nest, type- and length-checked. */
struct rec {
	uint32_t tag;
	uint32_t len;
	const uint8_t *val;
};

struct rec_iter {
	const uint8_t *p;
	size_t left;
	const char *ctx; /* name of the enclosing record, for messages */
};

void rec_iter_init(struct rec_iter *it, const uint8_t *p, size_t len, const char *ctx);
/* false at the end; fatal on truncated records, unknown tags, bad lengths. */
bool rec_next(struct rec_iter *it, struct rec *r);

uint32_t rec_u32(const struct rec *r);
int32_t rec_i32(const struct rec *r);
uint64_t rec_u64(const struct rec *r);
int64_t rec_i64(const struct rec *r);
bool rec_bool(const struct rec *r);
/* malloc'ed NUL-terminated copy; fatal if the value holds a NUL byte. */
char *rec_str(const struct rec *r);

#endif
