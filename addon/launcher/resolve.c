#define _GNU_SOURCE
#include "resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

/* Who shapes the paths walked here: the image (symlinks anywhere, absolute
 * or full of "..", files where directories are expected) and, for a path
 * through a volume, whoever else writes to that volume, at any moment
 * (renames, symlink exchanges, mid-walk). So the walk never asks the
 * kernel to resolve more than one name at a time, from the fd of the
 * directory it is in, without following (O_PATH|O_NOFOLLOW); a symlink is
 * read through the handle that was opened and spliced into the rest of
 * the path, restarting at the root for an absolute one; ".." pops our own
 * stack of fds, never above the root; anything created is created in the
 * parent's fd (mkdirat, O_CREAT|O_EXCL|O_NOFOLLOW) and reopened the same
 * way. A racer can make the walk pick either side of an exchange, both of
 * which are inside the root, and never make it leave the root or create
 * anything outside it (CVE-2021-30465, CVE-2024-45310). Link count, depth
 * and length are bounded. */
#define MAX_DEPTH 256
#define MAX_LINKS 40
/* openat2 answers EAGAIN when any rename on the system raced a lookup
 * through "..": retry, but not forever (a busy renamer could keep it up). */
#define MAX_EAGAIN 4096

int rs_open(int rootfd, const char *path, int oflags)
{
	struct open_how how = {
		.flags = (uint64_t)(oflags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	for (int i = 0;; i++) {
		int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
		if (fd < 0 && errno == EAGAIN && i < MAX_EAGAIN)
			continue;
		return fd;
	}
}

struct walk {
	int fd[MAX_DEPTH];
	int depth;
};

static void walk_free(struct walk *w, int keep)
{
	for (int i = 0; i <= w->depth; i++)
		if (i != keep)
			xclose(w->fd[i]);
}

/* Creates name in dir as asked; EEXIST is fine (something raced us, or it is a
 * dangling symlink that the caller is about to follow). */
static int create(int dir, const char *name, bool as_file, mode_t dirmode, mode_t filemode)
{
	if (as_file) {
		int fd = openat(dir, name, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, filemode);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
	} else if (mkdirat(dir, name, dirmode) == 0) {
		return 0;
	}
	return errno == EEXIST ? 0 : -1;
}

/* Replaces *rest (whose unread part starts at *p) by target + "/" + *p. */
static int splice_link(char **rest, const char **p, const char *target)
{
	size_t a = strlen(target), b = strlen(*p);
	if (a + b + 2 > PATH_MAX * 4) {
		errno = ENAMETOOLONG;
		return -1;
	}
	char *n = xmalloc(a + b + 2);
	memcpy(n, target, a);
	n[a] = '/';
	memcpy(n + a + 1, *p, b + 1);
	free(*rest);
	*rest = n;
	*p = n;
	return 0;
}

int rs_walk(int rootfd, const char *path, int flags, mode_t dirmode, mode_t filemode)
{
	struct walk w = {.depth = 0};
	int links = 0, err;
	char *rest = xstrdup(path);
	const char *p = rest;

	w.fd[0] = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	if (w.fd[0] < 0) {
		err = errno;
		free(rest);
		errno = err;
		return -1;
	}
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *end = strchrnul(p, '/');
		size_t len = (size_t)(end - p);
		char name[NAME_MAX + 1];
		if (len > NAME_MAX) {
			errno = ENAMETOOLONG;
			goto fail;
		}
		memcpy(name, p, len);
		name[len] = 0;
		p = end;
		const char *q = p;
		while (*q == '/')
			q++;
		bool last = !*q;

		if (strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			if (w.depth > 0)
				close(w.fd[w.depth--]);
			continue;
		}
		int cur = w.fd[w.depth];
		int fd = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT) {
			bool want = last ? (flags & (RS_LAST_DIR | RS_LAST_FILE)) : (flags & RS_MKDIRS);
			if (!want)
				goto fail;
			if (create(cur, name, last && (flags & RS_LAST_FILE), dirmode, filemode) < 0)
				goto fail;
			fd = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd < 0)
			goto fail;
		struct stat st;
		if (fstat(fd, &st) < 0) {
			xclose(fd);
			goto fail;
		}
		if (S_ISLNK(st.st_mode) && !(last && (flags & RS_NOFOLLOW))) {
			char target[PATH_MAX];
			struct statfs sfs;
			if (++links > MAX_LINKS || (fstatfs(fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC)) {
				xclose(fd);
				errno = ELOOP;
				goto fail;
			}
			ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
			xclose(fd);
			if (n < 0)
				goto fail;
			target[n] = 0;
			if (target[0] == '/')
				while (w.depth > 0)
					close(w.fd[w.depth--]);
			if (splice_link(&rest, &p, target) < 0)
				goto fail;
			continue;
		}
		if (!last && !S_ISDIR(st.st_mode)) {
			xclose(fd);
			errno = ENOTDIR;
			goto fail;
		}
		if (w.depth + 1 >= MAX_DEPTH) {
			xclose(fd);
			errno = ENAMETOOLONG;
			goto fail;
		}
		w.fd[++w.depth] = fd;
	}
	free(rest);
	int res = w.fd[w.depth];
	walk_free(&w, w.depth);
	return res;
fail:
	err = errno;
	free(rest);
	walk_free(&w, -1);
	errno = err;
	return -1;
}

int rs_parent(int rootfd, const char *path, mode_t dirmode, char name[NAME_MAX + 1])
{
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	const char *slash = memrchr(path, '/', n);
	const char *base = slash ? slash + 1 : path;
	size_t blen = n - (size_t)(base - path);
	if (blen == 0 || blen > NAME_MAX || (blen == 1 && base[0] == '.') ||
	    (blen == 2 && base[0] == '.' && base[1] == '.')) {
		errno = blen > NAME_MAX ? ENAMETOOLONG : EINVAL;
		return -1;
	}
	memcpy(name, base, blen);
	name[blen] = 0;
	size_t dlen = (size_t)(base - path);
	char *dir = xmalloc(dlen + 2);
	memcpy(dir, path, dlen);
	dir[dlen] = 0;
	if (dlen == 0)
		strcpy(dir, "/");
	int fd = rs_walk(rootfd, dir, RS_MKDIRS | RS_LAST_DIR, dirmode, 0);
	int err = errno;
	free(dir);
	errno = err;
	return fd;
}
