/* One OCI mount onto its target inside the rootfs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "copyup.h"
#include "idmap.h"
#include "launcher.h"
#include "resolve.h"
#include "util.h"

#define ATIME_FLAGS (MS_NOATIME | MS_RELATIME | MS_STRICTATIME | MS_NODIRATIME)
/* What the kernel locks (MNT_LOCK_*) on mounts inherited by a less
 * privileged user namespace. */
#define LOCK_FLAGS (MS_RDONLY | MS_NODEV | MS_NOEXEC | MS_NOSUID | ATIME_FLAGS)

/* statvfs reports ST_* bits; the ones we care about differ from MS_* for
 * relatime, and strictatime is the absence of the other atime modes. */
static unsigned long statvfs_to_ms(unsigned long st)
{
	unsigned long ms = 0;
	if (st & ST_RDONLY) ms |= MS_RDONLY;
	if (st & ST_NOSUID) ms |= MS_NOSUID;
	if (st & ST_NODEV) ms |= MS_NODEV;
	if (st & ST_NOEXEC) ms |= MS_NOEXEC;
	if (st & ST_NOATIME) ms |= MS_NOATIME;
	if (st & ST_NODIRATIME) ms |= MS_NODIRATIME;
	if (st & ST_RELATIME) ms |= MS_RELATIME;
	if (!(ms & (MS_NOATIME | MS_RELATIME)))
		ms |= MS_STRICTATIME;
	return ms;
}

int remount_bind(int fd, unsigned long flags, const char **why)
{
	char path[FDPATH_MAX];
	flags |= MS_REMOUNT | MS_BIND;
	*why = "";
	/* First "mount --bind -o <flags>": exactly the flags asked for. */
	if (mount(NULL, fdpath(path, fd), NULL, flags, NULL) == 0)
		return 0;
	int err = errno;
	if (err != EPERM)
		return -1;
	/* Then re-apply the locked flags the mount already has, as runc does;
	 * a request for different atime handling than a locked one fails. */
	struct statvfs sv;
	if (fstatvfs(fd, &sv) < 0)
		return -1;
	unsigned long have = statvfs_to_ms(sv.f_flag);
	if ((flags & ATIME_FLAGS) && (flags & ATIME_FLAGS) != (have & ATIME_FLAGS)) {
		*why = " (the atime flags are locked)";
		errno = err;
		return -1;
	}
	/* Without atime flags a remount keeps the mount's atime mode. */
	flags |= have & (LOCK_FLAGS & ~ATIME_FLAGS);
	if (mount(NULL, path, NULL, flags, NULL) == 0)
		return 0;
	*why = " (with the locked flags re-applied)";
	return -1;
}

/* The lxcfs files runc lets users mount over; anything else under /proc
 * could hide what the masked paths protect (CVE-2019-16884 class). */
static const char *proc_ok[] = {
	"/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps",
	"/proc/uptime", "/proc/loadavg", "/proc/slabinfo", "/proc/sys/kernel/ns_last_pid",
	"/proc/sys/crypto/fips_enabled", NULL,
};

/* The target's path inside the container, computed from where the fd really
 * is, so that symlinks cannot smuggle a mount into /proc. */
static char *container_path(struct rootctx *c, int fd, const struct mount_ent *m, const char *what)
{
	char link[FDPATH_MAX], real[PATH_MAX];
	ssize_t n = readlink(fdpath(link, fd), real, sizeof(real) - 1);
	if (n < 0)
		fail("mount %s onto %s: readlink of the target", what, m->target);
	real[n] = 0;
	size_t rl = strlen(c->rootfs_real);
	if (strcmp(c->rootfs_real, "/") == 0)
		return xstrdup(real);
	if (strncmp(real, c->rootfs_real, rl) != 0 || (real[rl] != 0 && real[rl] != '/'))
		failx("mount %s onto %s: the target resolved to %s, outside of the rootfs", what, m->target, real);
	if (real[rl] == 0)
		failx("mount %s onto %s: mounting over the root of the container is not supported", what, m->target);
	return xstrdup(real + rl);
}

static void check_proc_mount(const struct mount_ent *m, const char *where, const char *what, bool bind)
{
	if (strcmp(where, "/proc") == 0) {
		if (!bind && m->fstype && strcmp(m->fstype, "proc") == 0)
			return;
		struct statfs sfs;
		if (bind && statfs(m->source, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC)
			return;
		failx("mount %s onto %s: \"/proc\" cannot be mounted because it is not of type proc", what, m->target);
	}
	if (strncmp(where, "/proc/", 6) != 0)
		return;
	for (const char **ok = proc_ok; *ok; ok++)
		if (strcmp(where, *ok) == 0)
			return;
	failx("mount %s onto %s: \"%s\" cannot be mounted because it is inside /proc", what, m->target, where);
}

static bool is_dev_target(const char *t)
{
	while (*t == '/')
		t++;
	if (strncmp(t, "dev", 3) != 0)
		return false;
	for (t += 3; *t == '/'; t++)
		;
	return *t == 0;
}

/* Opens (creating as needed) the mount point. Pseudo filesystems that expose
 * the host get a plain directory or nothing: no symlink as the final
 * component (CVE-2019-19921 class). */
static int open_target(struct rootctx *c, const struct mount_ent *m, const char *what, bool bind, bool *existed)
{
	bool pseudo = !bind && (strcmp(m->fstype, "proc") == 0 || strcmp(m->fstype, "sysfs") == 0);
	int flags = pseudo ? RS_NOFOLLOW : 0;
	int fd = rs_walk(c->rootfd, m->target, flags, 0, 0);
	*existed = fd >= 0;
	if (fd < 0) {
		if (errno != ENOENT)
			fail("mount %s onto %s: open the target", what, m->target);
		bool file = false;
		if (bind) {
			struct stat st;
			if (stat(m->source, &st) < 0)
				fail("mount %s onto %s: stat %s", what, m->target, m->source);
			file = !S_ISDIR(st.st_mode);
		}
		fd = rs_walk(c->rootfd, m->target, flags | RS_MKDIRS | (file ? RS_LAST_FILE : RS_LAST_DIR), m->mkdir_mode, 0644);
		if (fd < 0)
			fail("mount %s onto %s: create the mount point", what, m->target);
	}
	if (pseudo) {
		struct stat st;
		if (fstat(fd, &st) < 0)
			fail("mount %s onto %s: stat the target", what, m->target);
		if (!S_ISDIR(st.st_mode))
			failx("mount %s onto %s: filesystem \"%s\" must be mounted on an ordinary directory", what, m->target, m->fstype);
	}
	return fd;
}

/* Like runc: a tmpfs over an existing directory keeps that directory's mode
 * unless the options say otherwise (/tmp stays 1777). */
static char *tmpfs_data(int fd, const char *data)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))
		return data ? xstrdup(data) : NULL;
	size_t n = 16 + (data ? strlen(data) : 0);
	char *d = xmalloc(n);
	snprintf(d, n, "mode=%04o%s%s", st.st_mode & 07777, data && *data ? "," : "", data ? data : "");
	return d;
}

/* In the order of the mounts, so that it is made before a read-only remount
 * of the directory it is in. What is already there is kept, as runc does. */
static void symlink_one(struct rootctx *c, const struct mount_ent *m)
{
	char name[NAME_MAX + 1];
	int dir = rs_parent(c->rootfd, m->target, 0755, name);
	if (dir < 0)
		fail("symlink %s: create its directory", m->target);
	if (symlinkat(m->symlink, dir, name) < 0 && errno != EEXIST)
		fail("symlink %s -> %s", m->target, m->symlink);
	close(dir);
}

void mount_one(struct rootctx *c, const struct mount_ent *m)
{
	if (m->symlink) {
		symlink_one(c, m);
		return;
	}
	bool bind = (m->flags & MS_BIND) != 0;
	/* MS_REMOUNT of an earlier mount (the plan's read-only cgroup tmpfs):
	 * done exactly as asked, on what is there. */
	bool remount = !bind && (m->flags & MS_REMOUNT);
	const char *what = m->source && *m->source ? m->source : m->fstype;
	bool existed = true;
	int tfd = remount ? rs_walk(c->rootfd, m->target, 0, 0, 0) : open_target(c, m, what, bind, &existed);
	if (tfd < 0)
		fail("remount %s", m->target);
	char *where = container_path(c, tfd, m, what);
	check_proc_mount(m, where, what, bind);

	/* tmpfs and /dev stay writable until the end so that device nodes and
	 * symlinks can be created in them (runc's finalizeRootfs). */
	bool late_ro = !bind && !remount && (m->flags & MS_RDONLY) && (strcmp(m->fstype, "tmpfs") == 0 || is_dev_target(where));
	char path[FDPATH_MAX];
	fdpath(path, tfd);
	int r, copy_from = -1;
	if (bind && m->idmap) {
		r = idmap_attach(m, tfd);
	} else if (bind) {
		r = mount(m->source, path, NULL, m->flags & (MS_BIND | MS_REC), NULL);
	} else {
		/* The covered directory stays readable through an fd opened before
		 * the tmpfs hides it. */
		if (m->tmpcopyup && existed && strcmp(m->fstype, "tmpfs") == 0) {
			copy_from = openat(tfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (copy_from < 0)
				fail("mount %s onto %s: open the directory to copy up", what, m->target);
		}
		char *data = existed && !remount && strcmp(m->fstype, "tmpfs") == 0 ? tmpfs_data(tfd, m->data) : (m->data ? xstrdup(m->data) : NULL);
		unsigned long flags = m->flags & ~(late_ro ? MS_RDONLY : 0UL);
		r = mount(m->source ? m->source : m->fstype, path, m->fstype, flags, data);
		free(data);
	}
	if (r < 0 && remount)
		fail("remount %s", m->target);
	if (r < 0)
		fail("mount %s onto %s", what, m->target);

	/* The fd we mounted onto names the directory under the new mount;
	 * reopen to get the mount itself for the follow-up operations. */
	int mfd = rs_walk(c->rootfd, m->target, 0, 0, 0);
	if (mfd < 0)
		fail("mount %s onto %s: reopen the new mount", what, m->target);
	struct statx stx;
	if (statx(mfd, "", AT_EMPTY_PATH, 0, &stx) < 0)
		fail("mount %s onto %s: statx the new mount", what, m->target);
	if ((stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && !(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
		failx("mount %s onto %s: the target changed while mounting", what, m->target);
	close(tfd);
	free(where);
	fdpath(path, mfd);
	if (copy_from >= 0) {
		int copy_to = openat(mfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (copy_to < 0)
			fail("mount %s onto %s: open the new tmpfs to copy up", what, m->target);
		tmpfs_copyup(copy_from, copy_to, m->target);
		xclose(copy_from);
		xclose(copy_to);
	}

	/* A filesystem whose superblock we share (mqueue is the ipc
	 * namespace's) cannot take context=: label its root, as runc does. */
	if (m->label && setxattr(path, "security.selinux", m->label, strlen(m->label), 0) < 0)
		fail("mount %s onto %s: set its SELinux label %s", what, m->target, m->label);
	if (bind && m->remount_flags) {
		const char *why;
		if (remount_bind(mfd, m->remount_flags, &why) < 0)
			fail("remount %s with its options%s", m->target, why);
	}
	for (size_t i = 0; i < m->n_propagation; i++)
		if (mount(NULL, path, NULL, m->propagation[i], NULL) < 0)
			fail("set propagation of %s", m->target);
	if (m->has_attr) {
		struct mount_attr attr = {
			.attr_set = m->attr_set,
			.attr_clr = m->attr_clr,
			.propagation = m->attr_propagation,
		};
		if (mount_setattr(mfd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
			fail("set recursive mount attributes of %s", m->target);
	}
	if (late_ro) {
		c->late_ro = xrealloc(c->late_ro, (c->n_late_ro + 1) * sizeof(*c->late_ro));
		c->late_ro[c->n_late_ro].fd = mfd;
		c->late_ro[c->n_late_ro].target = m->target;
		c->n_late_ro++;
	} else {
		close(mfd);
	}
}
