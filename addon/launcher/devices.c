/* Device nodes and the /dev symlinks, created inside the rootfs.
 *
 * /dev is normally our own new tmpfs; when config.json binds a /dev (or a
 * device goes elsewhere) the image's tree is under us, with whatever it
 * put there: symlinks, directories or other nodes where ours go, and
 * possibly a volume a co-tenant renames in. So every directory is reached
 * with rs_parent (inside the root, nothing outside), every node is made
 * with *at() calls in that directory's fd, and a node is looked at through
 * an O_PATH|O_NOFOLLOW handle (never opened: opening a device has effects)
 * and checked to be the device asked for before it is chowned or bound. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "launcher.h"
#include "resolve.h"
#include "util.h"

static bool is_device(const struct stat *st, const struct device *d)
{
	if ((st->st_mode & S_IFMT) != d->type)
		return false;
	return d->type == S_IFIFO || st->st_rdev == makedev(d->major, d->minor);
}

/* The host's node, bind-mounted over an empty file: what works in a user
 * namespace, where mknod does not. The host's node is opened once (its
 * path followed as runc follows it: /dev/rtc -> rtc0), checked to be the
 * device asked for, and that very node is cloned and attached onto the
 * mount point's fd. */
static void bind_node(struct rootctx *c, int dir, const char *name, const struct device *d)
{
	int src = open(d->path, O_PATH | O_CLOEXEC);
	struct stat st;
	if (src < 0 || fstat(src, &st) < 0)
		fail("device %s: open the host's node", d->path);
	if (!is_device(&st, d))
		failx("device %s: the host's %s is not the device %u:%u asked for", d->path, d->path, d->major, d->minor);
	/* O_EXCL: never open an existing node (opening a tty has effects). */
	int fd = openat(dir, name, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0);
	if (fd >= 0)
		close(fd);
	else if (errno != EEXIST)
		fail("device %s: create the bind mount point", d->path);
	int tfd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (tfd < 0 || fstat(tfd, &st) < 0)
		fail("device %s: open the bind mount point", d->path);
	if (S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode))
		failx("device %s: a %s is in the way", d->path, S_ISDIR(st.st_mode) ? "directory" : "symlink");
	int tree = open_tree(src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	int r;
	if (tree >= 0) {
		r = move_mount(tree, "", tfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
		xclose(tree);
	} else if (errno == ENOSYS || errno == EPERM) {
		/* The classic API (mountclassic.c says when): from and onto the fds. */
		r = mount_fd(c, NULL, src, tfd, NULL, MS_BIND, NULL);
	} else {
		r = -1;
	}
	if (r < 0)
		fail("device %s: bind the host's node", d->path);
	close(tfd);
	close(src);
}

/* config-linux.md#devices: a file already at the path that is not the
 * requested device is an error; the same device is kept (runc). */
static void check_existing(int dir, const char *name, const struct device *d)
{
	struct stat st;
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		fail("device %s: stat the existing file", d->path);
	if ((st.st_mode & S_IFMT) != d->type)
		failx("device %s: a different kind of file is already there", d->path);
	if (d->type != S_IFIFO && st.st_rdev != makedev(d->major, d->minor))
		failx("device %s: already there as device %u:%u, not %u:%u", d->path, major(st.st_rdev), minor(st.st_rdev), d->major, d->minor);
}

/* The node just made, chowned through a handle checked to be it: between
 * mknodat and the chown the name could have been replaced (a hard link to
 * someone else's file, in a directory a co-tenant shares), and a chown by
 * name would then give that file away. */
static void chown_node(int dir, const char *name, const struct device *d)
{
	int fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		fail("device %s: open the new node", d->path);
	if (!is_device(&st, d))
		failx("device %s: replaced by something else while being made", d->path);
	if (fchownat(fd, "", d->uid, d->gid, AT_EMPTY_PATH) < 0)
		fail("chown %s to %u:%u", d->path, d->uid, d->gid);
	close(fd);
}

void create_devices(struct rootctx *c)
{
	const struct plan *p = c->p;
	for (size_t i = 0; i < p->n_devices; i++) {
		const struct device *d = &p->devices[i];
		if (d->type != S_IFCHR && d->type != S_IFBLK && d->type != S_IFIFO)
			failx("device %s: type %#o is not S_IFCHR, S_IFBLK or S_IFIFO", d->path, d->type);
		char name[NAME_MAX + 1];
		int dir = rs_parent(c->rootfd, d->path, 0755, name);
		if (dir < 0)
			fail("device %s: create its directory", d->path);
		if (d->bind) {
			bind_node(c, dir, name, d);
		} else if (mknodat(dir, name, d->type | (d->mode & 07777), makedev(d->major, d->minor)) < 0) {
			/* runc: an existing node is kept; EPERM means we are in a
			 * user namespace after all, so bind the host's node. */
			if (errno == EPERM)
				bind_node(c, dir, name, d);
			else if (errno != EEXIST)
				fail("mknod %s", d->path);
			else
				check_existing(dir, name, d);
		} else {
			chown_node(dir, name, d);
		}
		close(dir);
	}
}

/* symlinkat in the parent's fd: the link is made, never followed. */
void create_dev_symlinks(struct rootctx *c)
{
	const struct plan *p = c->p;
	for (size_t i = 0; i < p->n_symlinks; i++) {
		const struct dev_symlink *s = &p->symlinks[i];
		char name[NAME_MAX + 1];
		int dir = rs_parent(c->rootfd, s->link, 0755, name);
		if (dir < 0)
			fail("symlink %s: create its directory", s->link);
		if (symlinkat(s->target, dir, name) < 0) {
			if (errno != EEXIST)
				fail("symlink %s -> %s", s->link, s->target);
			/* runc keeps whatever is there (a rootfs may ship its own). */
			char have[PATH_MAX];
			ssize_t n = readlinkat(dir, name, have, sizeof(have) - 1);
			if (n < 0 || (size_t)n != strlen(s->target) || memcmp(have, s->target, (size_t)n) != 0)
				debugx("symlink %s -> %s: something else exists there, kept", s->link, s->target);
		}
		close(dir);
	}
}
