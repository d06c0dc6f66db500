/* The root filesystem as a whole: isolating it from the host's mount
 * propagation, entering it, and the read-only remounts done last.
 *
 * Who can interfere here. The rootfs path and the bundle are the runtime
 * caller's (containerd's, podman's directories): a co-tenant container
 * cannot rename them, so they are used by path before the mounts begin.
 * What the image controls is everything under the rootfs; those steps go
 * through fds (rootfd, the mounts' own fds). After pivot_root a process of
 * the container could reach us only through our /proc entries (the other
 * helper's non-dumpable work), and nothing here looks a path up again then
 * except "/", our own root. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "launcher.h"
#include "util.h"

static const char *prop_name(unsigned long f)
{
	const char *rec = (f & MS_REC) ? "r" : "";
	static char buf[32];
	const char *k = (f & MS_SHARED) ? "shared" : (f & MS_SLAVE) ? "slave" : (f & MS_PRIVATE) ? "private" : (f & MS_UNBINDABLE) ? "unbindable" : "?";
	snprintf(buf, sizeof(buf), "%s%s", rec, k);
	return buf;
}

/* pivot_root refuses a new root whose parent mount is shared, and a bind of
 * the rootfs inside a shared mount would propagate to the host: make the
 * mount holding the rootfs private (or slave) in our namespace. EINVAL from
 * mount means "not a mount point": walk up until one is. By path: these are
 * the host's directories above the bundle, and the change is to our own
 * namespace's copy of them (a wrong one could only fail the create). */
static void rootfs_parent_not_shared(const struct plan *p)
{
	unsigned long flags = (p->rootfs_propagation & MS_SLAVE) ? MS_SLAVE : MS_PRIVATE;
	char *path = xstrdup(p->rootfs);
	for (;;) {
		if (mount(NULL, path, NULL, flags, NULL) == 0)
			break;
		if (errno != EINVAL || strcmp(path, "/") == 0)
			fail("make the mount holding the rootfs %s %s", path, prop_name(flags));
		char *up = xstrdup(dirname(path));
		free(path);
		path = up;
	}
	free(path);
}

void rootfs_prepare(struct rootctx *c)
{
	const struct plan *p = c->p;
	/* A procfs of the container's own, not the host's: the init holds it
	 * until execve, waiting for `start` (procfs.c). Made before pivot_root:
	 * in a user namespace the kernel wants a procfs mounted in full view.
	 * sysctls need /proc/sys, which that one lacks: the host's /proc for
	 * them, closed once they are written. */
	c->procfd = procfs_for_container(-1);
	c->sysctl_procfd = p->n_sysctls ? procfs_host() : -1;

	/* The rootfs is opened once. Without a mount namespace of our own it
	 * is used as it is; otherwise its bind onto itself (a mount point of
	 * its own: pivot_root needs one, and the mounts below land on it
	 * rather than on whatever holds the directory) is cloned from and
	 * attached onto this fd, and every later step inside the rootfs
	 * starts from the bind's own fd. */
	int dir = open(p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		fail("open rootfs %s", p->rootfs);
	if (p->root_chroot) {
		c->rootfd = dir;
	} else {
		if (mount(NULL, "/", NULL, p->rootfs_propagation, NULL) < 0)
			fail("make / %s", prop_name(p->rootfs_propagation));
		rootfs_parent_not_shared(p);
		int tree = open_tree(dir, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
		if (tree >= 0) {
			if (move_mount(tree, "", dir, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
				fail("bind rootfs %s onto itself", p->rootfs);
			c->rootfd = tree;
		} else if (errno == ENOSYS || errno == EPERM) {
			/* The classic API (mountclassic.c says when); the rootfs path is
			 * the runtime caller's, which no container can rename. */
			if (mount_fd(c, NULL, dir, dir, NULL, MS_BIND | MS_REC, NULL) < 0)
				fail("bind rootfs %s onto itself", p->rootfs);
			c->rootfd = open(p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (c->rootfd < 0)
				fail("open rootfs %s", p->rootfs);
		} else {
			fail("bind rootfs %s onto itself", p->rootfs);
		}
		close(dir);
	}
	char rel[FDPATH_MAX], real[PATH_MAX];
	snprintf(rel, sizeof(rel), "self/fd/%d", c->rootfd);
	ssize_t n = readlinkat(c->procfd, rel, real, sizeof(real) - 1);
	if (n < 0)
		fail("readlink rootfs %s", p->rootfs);
	real[n] = 0;
	c->rootfs_real = xstrdup(real);
}

/* Through fds and the cwd only: the new root is the rootfs bind we opened. */
static void pivot(struct rootctx *c)
{
	int oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (oldroot < 0)
		fail("open /");
	if (fchdir(c->rootfd) < 0)
		fail("chdir to rootfs %s", c->p->rootfs);
	/* pivot_root(".", ".") stacks the old root on top of the new one, so no
	 * put_old directory is needed in the rootfs. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		fail("pivot_root %s", c->p->rootfs);
	if (fchdir(oldroot) < 0)
		fail("chdir to the old root");
	/* rslave, not rprivate: the lazy unmount must not propagate to the
	 * host, yet host mount events keep reaching the old mounts we still
	 * reference (runc learned this with devicemapper). */
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		fail("make the old root rslave");
	if (umount2(".", MNT_DETACH) < 0)
		fail("unmount the old root");
	if (chdir("/") < 0)
		fail("chdir /");
	close(oldroot);
}

static char *unescape_mountinfo(char *s)
{
	char *o = s, *r = s;
	while (*r) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
			*o++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 4;
		} else {
			*o++ = *r++;
		}
	}
	*o = 0;
	return s;
}

static int under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return strncmp(path, dir, n) == 0 && (path[n] == 0 || path[n] == '/');
}

/* With chroot the host's full procfs and sysfs mounts stay reachable in the
 * namespace, and their presence is what lets the kernel allow new procfs and
 * sysfs mounts: detach them (or cover them when we may not), like runc.
 * By the paths mountinfo gives: host mount points outside the rootfs, which
 * the container and its volumes cannot rename; a wrong one would change
 * only our own namespace. */
static void hide_host_proc_sys(struct rootctx *c)
{
	int fd = openat(c->procfd, "self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail("open /proc/self/mountinfo");
	size_t cap = 1 << 16, len = 0;
	char *buf = xmalloc(cap);
	for (;;) {
		if (len + 1 >= cap)
			buf = xrealloc(buf, cap *= 2);
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail("read /proc/self/mountinfo");
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = 0;
	close(fd);

	char *save = NULL;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		/* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
		char *f[5];
		char *s2 = NULL, *tok = strtok_r(line, " ", &s2);
		int i;
		for (i = 0; i < 5 && tok; i++, tok = strtok_r(NULL, " ", &s2))
			f[i] = tok;
		if (i < 5)
			continue;
		while (tok && strcmp(tok, "-") != 0)
			tok = strtok_r(NULL, " ", &s2);
		char *fstype = tok ? strtok_r(NULL, " ", &s2) : NULL;
		if (!fstype || strcmp(f[3], "/") != 0 || (strcmp(fstype, "proc") != 0 && strcmp(fstype, "sysfs") != 0))
			continue;
		char *mp = unescape_mountinfo(f[4]);
		if (under(mp, c->rootfs_real))
			continue;
		if (mount(NULL, mp, NULL, MS_SLAVE | MS_REC, NULL) < 0) {
			if (errno == ENOENT)
				continue; /* gone with a parent we already detached */
			fail("no-pivot: make host %s %s rslave", fstype, mp);
		}
		if (umount2(mp, MNT_DETACH) < 0) {
			if (errno != EINVAL && errno != EPERM)
				fail("no-pivot: unmount host %s %s", fstype, mp);
			if (mount("tmpfs", mp, "tmpfs", 0, NULL) < 0)
				fail("no-pivot: cover host %s %s", fstype, mp);
		}
	}
	free(buf);
}

static void move_root(struct rootctx *c)
{
	hide_host_proc_sys(c);
	if (fchdir(c->rootfd) < 0)
		fail("chdir to rootfs %s", c->p->rootfs);
	/* The rootfs bind we opened, through its fd; the classic MS_MOVE by
	 * path (the runtime's own directory) where the new API is refused. */
	if (move_mount(c->rootfd, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) < 0 &&
	    ((errno != ENOSYS && errno != EPERM) || mount(c->p->rootfs, "/", NULL, MS_MOVE, NULL) < 0))
		fail("no-pivot: move rootfs %s onto /", c->p->rootfs);
	if (chroot(".") < 0)
		fail("chroot %s", c->p->rootfs);
	if (chdir("/") < 0)
		fail("chdir /");
}

/* Stdio the caller pointed at /dev/null (the host's) is pointed at the
 * container's /dev/null, opened read-write, as runc does: go-runc's null IO
 * (ctr run --null-io, shims' "no stdio") opens /dev/null read-only, and a
 * process writing to that stdout would fail with EBADF. The caller's
 * access mode is not the container's business. The image decides what
 * /dev/null is when /dev comes from it (a bind of /dev): looked at through
 * an O_PATH handle first, opened (O_NOCTTY) only if it is the null device,
 * so a symlink, a fifo or a terminal there is never opened. */
static void reopen_dev_null(struct rootctx *c)
{
	int h = open("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (h < 0)
		return; /* no /dev/null in the container: nothing to point them at */
	struct stat ns, st;
	if (fstat(h, &ns) < 0 || !S_ISCHR(ns.st_mode) || ns.st_rdev != makedev(1, 3)) {
		close(h);
		return;
	}
	char rel[FDPATH_MAX];
	snprintf(rel, sizeof(rel), "self/fd/%d", h);
	int null = openat(c->procfd, rel, O_RDWR | O_NOCTTY | O_CLOEXEC);
	close(h);
	if (null < 0)
		return;
	for (int fd = 0; fd < 3; fd++) {
		if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != ns.st_rdev)
			continue;
		if (dup3(null, fd, 0) < 0)
			fail("reopen fd %d on the container's /dev/null", fd);
	}
	close(null);
}

void rootfs_enter(struct rootctx *c)
{
	const struct plan *p = c->p;
	if (p->root_chroot) {
		if (fchdir(c->rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0)
			fail("chroot %s", p->rootfs);
	} else if (p->no_pivot) {
		move_root(c);
	} else {
		pivot(c);
	}
	if (p->rootfs_final_propagation && mount(NULL, "/", NULL, p->rootfs_final_propagation, NULL) < 0)
		fail("make the container's / %s", prop_name(p->rootfs_final_propagation));
	close(c->rootfd);
	c->rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (c->rootfd < 0)
		fail("open / of the container");
	reopen_dev_null(c);
}

/* Through the fds of the mounts themselves (mount_one kept them; rootfd is
 * our "/"): nothing is found again by path. mount_setattr only sets the bit
 * asked for, so the flags the kernel locks in a user namespace (nosuid,
 * nodev, ...) need no special care here. */
void rootfs_finalize(struct rootctx *c)
{
	for (size_t i = 0; i < c->n_late_ro; i++) {
		if (remount_ro(c, c->late_ro[i].fd) < 0)
			fail("remount %s read-only", c->late_ro[i].target);
		close(c->late_ro[i].fd);
	}
	c->n_late_ro = 0;
	if (!c->p->rootfs_readonly)
		return;
	/* Without a mount namespace of its own the root is a directory of the
	 * host's tree, not a mount we may change. */
	if (c->p->root_chroot)
		failx("remount / read-only: not possible without a mount namespace of the container's own");
	if (remount_ro(c, c->rootfd) < 0)
		fail("remount / read-only");
}
