/* tmpcopyup (runc's extension, used by podman for --read-only's /tmp, /run
 * and /var/tmp): a new tmpfs starts with a copy of the directory it covers.
 *
 * The source is read through a directory fd opened before the mount went on
 * top, so no temporary mount point is needed (crun does the same). Entries
 * are never followed: symlinks are copied as symlinks and every open is
 * O_NOFOLLOW, so an image cannot point the copy at the host.
 *
 * The source is the image's or a volume's, which a co-tenant may change
 * while we copy: a file is opened O_NONBLOCK (a fifo swapped in cannot
 * block us) and checked to be the inode that was listed; directories are
 * opened O_NOFOLLOW|O_DIRECTORY; depth is bounded. The copy goes into the
 * new tmpfs while it is still detached (mounts.c), so nobody else sees or
 * renames anything in it until it is complete; the tmpfs's size option
 * bounds how much an image can make us copy. */
#define _GNU_SOURCE
#include "copyup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "util.h"

/* Deep enough for any real image; stops a pathological tree from using up
 * the fd table (one fd per level on each side). */
#define COPYUP_MAX_DEPTH 128

struct copyup {
	const char *target; /* for messages: the mount's target in the container */
	char rel[PATH_MAX]; /* the entry being copied, relative to it */
};

__attribute__((noreturn)) static void copy_fail(struct copyup *c, const char *what)
{
	fail("tmpcopyup of %s: %s %s", c->target, what, c->rel[0] ? c->rel : ".");
}

/* Owner, mode and times of the copy as the original had them. An id the
 * container's user namespace does not map (EINVAL) cannot be given; the
 * copy keeps the creator's, as a copy made by `cp -a` in there would. */
static void copy_meta(struct copyup *c, int dir, const char *name, const struct stat *st)
{
	if (fchownat(dir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EINVAL)
		copy_fail(c, "chown");
	/* After chown, which clears set-id bits. Symlinks have no mode of their own. */
	if (!S_ISLNK(st->st_mode) && fchmodat(dir, name, st->st_mode & 07777, 0) < 0)
		copy_fail(c, "chmod");
	struct timespec ts[2] = { st->st_atim, st->st_mtim };
	if (utimensat(dir, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		copy_fail(c, "set the times of");
}

static void copy_file(struct copyup *c, int from_dir, int to_dir, const char *name, const struct stat *st)
{
	/* O_NONBLOCK and the check after: an entry swapped for a fifo since the
	 * stat must not block the copy, nor another file be copied instead. */
	int in = openat(from_dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (in < 0)
		copy_fail(c, "open");
	struct stat now;
	if (fstat(in, &now) < 0)
		copy_fail(c, "stat");
	if (!S_ISREG(now.st_mode) || now.st_ino != st->st_ino || now.st_dev != st->st_dev) {
		errno = ESTALE;
		copy_fail(c, "copy (it changed while being copied)");
	}
	int out = openat(to_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		copy_fail(c, "create");
	char buf[65536];
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			copy_fail(c, "read");
		if (n == 0)
			break;
		if (write_all(out, buf, (size_t)n) < 0)
			copy_fail(c, "write");
	}
	xclose(in);
	xclose(out);
	copy_meta(c, to_dir, name, st);
}

static void copy_tree(struct copyup *c, int from, int to, int depth);

static void copy_entry(struct copyup *c, int from, int to, const char *name, int depth)
{
	struct stat st;
	if (fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		copy_fail(c, "stat");
	switch (st.st_mode & S_IFMT) {
	case S_IFDIR: {
		if (depth >= COPYUP_MAX_DEPTH) {
			errno = ELOOP;
			copy_fail(c, "descend into");
		}
		if (mkdirat(to, name, 0700) < 0)
			copy_fail(c, "mkdir");
		int sub_from = openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int sub_to = sub_from < 0 ? -1 : openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub_from < 0 || sub_to < 0)
			copy_fail(c, "open");
		copy_tree(c, sub_from, sub_to, depth + 1);
		xclose(sub_from);
		xclose(sub_to);
		copy_meta(c, to, name, &st);
		return;
	}
	case S_IFREG:
		copy_file(c, from, to, name, &st);
		return;
	case S_IFLNK: {
		char link[PATH_MAX];
		ssize_t n = readlinkat(from, name, link, sizeof(link) - 1);
		if (n < 0)
			copy_fail(c, "readlink");
		link[n] = 0;
		if (symlinkat(link, to, name) < 0)
			copy_fail(c, "symlink");
		copy_meta(c, to, name, &st);
		return;
	}
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
		if (mknodat(to, name, st.st_mode & S_IFMT, st.st_rdev) < 0)
			copy_fail(c, "mknod");
		copy_meta(c, to, name, &st);
		return;
	default:
		/* A socket only means something to the process that bound it. */
		return;
	}
}

static void copy_tree(struct copyup *c, int from, int to, int depth)
{
	int dfd = dup(from);
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	if (!d)
		copy_fail(c, "read the directory");
	size_t base = strlen(c->rel);
	struct dirent *e;
	for (errno = 0; (e = readdir(d)) != NULL; errno = 0) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (base + 1 + strlen(e->d_name) >= sizeof(c->rel)) {
			errno = ENAMETOOLONG;
			copy_fail(c, "copy an entry of");
		}
		snprintf(c->rel + base, sizeof(c->rel) - base, "%s%s", base ? "/" : "", e->d_name);
		copy_entry(c, from, to, e->d_name, depth);
		c->rel[base] = 0;
	}
	if (errno != 0)
		copy_fail(c, "read the directory");
	closedir(d);
}

void tmpfs_copyup(int from_dir, int to_dir, const char *target)
{
	struct copyup c = { .target = target, .rel = "" };
	copy_tree(&c, from_dir, to_dir, 0);
}
