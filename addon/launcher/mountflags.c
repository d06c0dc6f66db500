/* The flags of a mount: MS_* as MOUNT_ATTR_*, a bind's flags set the way
 * "mount -o remount,bind" sets them (through the mount's fd, locked flags
 * kept), read-only at the end, and mount(2) on what an fd holds for the
 * classic API (mountclassic.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "launcher.h"
#include "mounts.h"
#include "util.h"

#ifndef ST_NOSYMFOLLOW
#define ST_NOSYMFOLLOW 0x2000
#endif

#define ATIME_FLAGS (MS_NOATIME | MS_RELATIME | MS_STRICTATIME | MS_NODIRATIME)
/* What the kernel locks (MNT_LOCK_*) on mounts inherited by a less
 * privileged user namespace. */
#define LOCK_FLAGS (MS_RDONLY | MS_NODEV | MS_NOEXEC | MS_NOSUID | ATIME_FLAGS)
#define FLAG_ATTRS (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NOSYMFOLLOW)
#define LOCK_ATTRS (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)
#define ATIME_ATTRS (MOUNT_ATTR__ATIME | MOUNT_ATTR_NODIRATIME)

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
	if (st & ST_NOSYMFOLLOW) ms |= MS_NOSYMFOLLOW;
	if (!(ms & (MS_NOATIME | MS_RELATIME)))
		ms |= MS_STRICTATIME;
	return ms;
}

/* MS_* per-mount flags as MOUNT_ATTR_*, the atime mode as mount(2) reads
 * it: strictatime wins, then noatime, relatime by default. */
uint64_t mount_attr_of(unsigned long ms)
{
	uint64_t a = 0;
	if (ms & MS_RDONLY) a |= MOUNT_ATTR_RDONLY;
	if (ms & MS_NOSUID) a |= MOUNT_ATTR_NOSUID;
	if (ms & MS_NODEV) a |= MOUNT_ATTR_NODEV;
	if (ms & MS_NOEXEC) a |= MOUNT_ATTR_NOEXEC;
	if (ms & MS_NODIRATIME) a |= MOUNT_ATTR_NODIRATIME;
	if (ms & MS_NOSYMFOLLOW) a |= MOUNT_ATTR_NOSYMFOLLOW;
	if (ms & MS_STRICTATIME)
		a |= MOUNT_ATTR_STRICTATIME;
	else if (ms & MS_NOATIME)
		a |= MOUNT_ATTR_NOATIME;
	else
		a |= MOUNT_ATTR_RELATIME;
	return a;
}

/* The new mount API is refused as such: no such syscall, or a seccomp
 * profile that does not know it (EPERM is also what a missing
 * CAP_SYS_ADMIN gives, and then mount(2) fails the same way). */
bool mount_api_refused(int err)
{
	return err == ENOSYS || err == EPERM;
}

int mount_fd(struct rootctx *c, const char *source, int src_fd, int fd, const char *fstype, unsigned long flags, const void *data)
{
	char s[FDPATH_MAX], t[FDPATH_MAX];
	snprintf(t, sizeof(t), "self/fd/%d", fd);
	if (src_fd >= 0) {
		snprintf(s, sizeof(s), "self/fd/%d", src_fd);
		source = s;
	}
	int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0)
		return -1;
	int r = fchdir(c->procfd) == 0 ? mount(source, t, fstype, flags, data) : -1;
	int err = errno;
	if (fchdir(cwd) < 0)
		fail("return to the working directory");
	close(cwd);
	errno = err;
	return r;
}

/* Whether mount_setattr may be called at all: a seccomp profile written
 * for Linux 5.11 knows open_tree, move_mount and fsmount but not it (Docker
 * 20.10's). An empty request is answered before anything is looked at. */
bool mount_setattr_allowed(void)
{
	static int known = -1;
	if (known < 0) {
		struct mount_attr a = {0};
		known = mount_setattr(-1, "", AT_EMPTY_PATH, &a, sizeof(a)) == 0;
	}
	return known;
}

int remount_bind(struct rootctx *c, int fd, unsigned long flags, const char **why)
{
	flags |= MS_REMOUNT | MS_BIND;
	*why = "";
	/* First "mount --bind -o <flags>": exactly the flags asked for. */
	if (mount_fd(c, NULL, -1, fd, NULL, flags, NULL) == 0)
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
	if (mount_fd(c, NULL, -1, fd, NULL, flags, NULL) == 0)
		return 0;
	*why = " (with the locked flags re-applied)";
	return -1;
}

int remount_ro(struct rootctx *c, int fd)
{
	struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY};
	if (mount_setattr(fd, "", AT_EMPTY_PATH, &a, sizeof(a)) == 0)
		return 0;
	if (!mount_api_refused(errno))
		return -1;
	/* The classic API (mountclassic.c says when): a bind remount with the
	 * flags the mount has, and read-only. */
	struct statvfs sv;
	const char *why;
	if (fstatvfs(fd, &sv) < 0)
		return -1;
	return remount_bind(c, fd, statvfs_to_ms(sv.f_flag) | MS_RDONLY, &why);
}

/* A bind's flags as "mount -o remount,bind,<flags>" leaves them, which is
 * what runc does and what remount_bind does with mount(2): exactly the
 * flags asked for (the others cleared), the atime mode kept unless one is
 * asked for. Here with mount_setattr on the mount's own fd, before it is
 * attached. Where the kernel locked a flag the mount has (MNT_LOCK_*, on
 * mounts a less privileged user namespace inherited) clearing it fails
 * with EPERM, as MS_REMOUNT does: it is kept then, as runc keeps it, and a
 * different atime mode than a locked one is an error. */
int set_bind_flags(int fd, unsigned long flags, const char **why)
{
	*why = "";
	struct statvfs sv;
	if (fstatvfs(fd, &sv) < 0)
		return -1;
	uint64_t want = mount_attr_of(flags), had = mount_attr_of(statvfs_to_ms(sv.f_flag));
	bool atime = (flags & ATIME_FLAGS) != 0;
	/* Only what is set is cleared: a kernel that does not know a bit
	 * (nosymfollow before 5.14) refuses it even in attr_clr. */
	struct mount_attr a = {.attr_set = want & FLAG_ATTRS, .attr_clr = had & FLAG_ATTRS & ~want};
	if (atime) {
		a.attr_set |= want & ATIME_ATTRS;
		a.attr_clr |= MOUNT_ATTR__ATIME | (had & MOUNT_ATTR_NODIRATIME & ~want);
	}
	if (mount_setattr(fd, "", AT_EMPTY_PATH, &a, sizeof(a)) == 0)
		return 0;
	if (errno != EPERM)
		return -1;
	if (atime && (want & ATIME_ATTRS) != (had & ATIME_ATTRS)) {
		*why = " (the atime flags are locked)";
		return -1;
	}
	a.attr_clr &= ~(uint64_t)LOCK_ATTRS;
	if (mount_setattr(fd, "", AT_EMPTY_PATH, &a, sizeof(a)) == 0)
		return 0;
	*why = " (with the locked flags kept)";
	return -1;
}


/* The lockable flags a bind asks for (read-only, nosuid, nodev, noexec: on
 * its top, and those of its r* options on every mount of the tree), and the
 * atime mode if it asks for one, added to a detached tree: nothing is
 * cleared, so the flags the source's mounts have stay. For a tree made by
 * host root (an idmapped bind's) in the mount namespace the container's is
 * copied from: the copy locks them all (bindsrc.c). The atime mode is set
 * as asked because the copy locks it too, which set_bind_flags would then
 * refuse to change. 0 or -1 with errno. */
int add_lockable_flags(int fd, unsigned long flags, uint64_t rec_set)
{
	uint64_t want = mount_attr_of(flags);
	struct mount_attr a = {.attr_set = want & LOCK_ATTRS};
	if (flags & ATIME_FLAGS) {
		a.attr_set |= want & ATIME_ATTRS;
		a.attr_clr = MOUNT_ATTR__ATIME;
	}
	if ((a.attr_set || a.attr_clr) && mount_setattr(fd, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0)
		return -1;
	struct mount_attr r = {.attr_set = rec_set & LOCK_ATTRS};
	if (r.attr_set && mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &r, sizeof(r)) < 0)
		return -1;
	return 0;
}
