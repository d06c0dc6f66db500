/* Readonly and masked paths, after entering the root. Done with the fd-based
 * mount API, so they neither need the container's /proc nor trust its
 * /dev/null.
 *
 * Each path is resolved once, inside the root (openat2 RESOLVE_IN_ROOT,
 * no magic links), and everything after goes through that fd and the new
 * mount's own fd: the clone is attached onto the fd and made read-only
 * through the clone's fd, never found again by path (in runc a second
 * lookup of /proc/sys let a racing volume take the read-only bind,
 * CVE-2019-19921). What the paths name is ours: /proc and /sys are the
 * fresh mounts mount_one made (never through a symlink), and no process of
 * the container runs yet. An image symlink elsewhere can only point a mask
 * at another place inside the root. The mask itself is the host's
 * /dev/null, checked to be 1:3 before pivot_root, or a fresh empty tmpfs:
 * nothing the image provides (CVE-2025-31133). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "launcher.h"
#include "resolve.h"
#include "util.h"

#define ONTO (MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)

/* Before pivot_root: a detached copy of the host's /dev/null. Once we are in
 * the container the host's /dev is gone from our namespace, and the
 * container's own /dev/null could be anything. */
void mask_prepare(struct rootctx *c)
{
	if (c->p->masked.n == 0)
		return;
	c->devnull_tree = open_tree(AT_FDCWD, "/dev/null", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (c->devnull_tree < 0)
		fail("masked paths: clone the host's /dev/null");
	struct stat st;
	if (fstat(c->devnull_tree, &st) < 0)
		fail("masked paths: stat /dev/null");
	if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
		failx("masked paths: the host's /dev/null is not the null device");
}

void readonly_paths(struct rootctx *c)
{
	const struct strv *v = &c->p->readonly;
	for (size_t i = 0; i < v->n; i++) {
		int fd = rs_open(c->rootfd, v->v[i], O_PATH);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;
			fail("readonly path %s", v->v[i]);
		}
		int tree = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
		if (tree < 0)
			fail("readonly path %s: bind it onto itself", v->v[i]);
		if (move_mount(tree, "", fd, "", ONTO) < 0)
			fail("readonly path %s: bind it onto itself", v->v[i]);
		/* Only the top mount, as runc: submounts keep their own mode.
		 * Through the clone's own fd, attached now (remount_ro falls back
		 * to a bind remount where mount_setattr is refused). */
		if (remount_ro(c, tree) < 0)
			fail("readonly path %s: make it read-only", v->v[i]);
		close(tree);
		close(fd);
	}
}

/* One empty read-only tmpfs serves every masked directory (as runc does):
 * the first one gets a new mount, the others clones of it. */
static int dir_mask(struct rootctx *c, const char *path)
{
	if (c->mask_dir >= 0)
		return open_tree(c->mask_dir, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		fail("masked path %s: open a tmpfs", path);
	/* Nothing can be written to it anyway; keep it tiny regardless. */
	if (fsconfig(fs, FSCONFIG_SET_STRING, "nr_blocks", "1", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "nr_inodes", "2", 0) < 0)
		debugx("masked path %s: tmpfs size options refused: %s", path, errstr(errno));
	/* runc labels its masking tmpfs with the mountLabel too, so that the
	 * container's processes may look into the (empty) directory. */
	if (c->p->mount_label && fsconfig(fs, FSCONFIG_SET_STRING, "context", c->p->mount_label, 0) < 0)
		fail("masked path %s: tmpfs context=%s", path, c->p->mount_label);
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		fail("masked path %s: create a tmpfs", path);
	int mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	close(fs);
	return mnt;
}

void masked_paths(struct rootctx *c)
{
	const struct strv *v = &c->p->masked;
	int devnull = -1; /* once attached, later masks are its clones */
	for (size_t i = 0; i < v->n; i++) {
		const char *path = v->v[i];
		int fd = rs_open(c->rootfd, path, O_PATH);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;
			fail("masked path %s", path);
		}
		struct stat st;
		if (fstat(fd, &st) < 0)
			fail("masked path %s: stat", path);
		int src;
		if (S_ISDIR(st.st_mode)) {
			src = dir_mask(c, path);
		} else if (devnull < 0) {
			src = c->devnull_tree;
			c->devnull_tree = -1;
		} else {
			src = open_tree(devnull, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
		}
		if (src < 0)
			fail("masked path %s: prepare the mask", path);
		if (move_mount(src, "", fd, "", ONTO) < 0)
			fail("masked path %s: mount the mask", path);
		if (S_ISDIR(st.st_mode) && c->mask_dir < 0)
			c->mask_dir = src;
		else if (!S_ISDIR(st.st_mode) && devnull < 0)
			devnull = src;
		else
			close(src);
		close(fd);
	}
	xclose(devnull);
	xclose(c->mask_dir);
	xclose(c->devnull_tree);
	c->mask_dir = c->devnull_tree = -1;
}
