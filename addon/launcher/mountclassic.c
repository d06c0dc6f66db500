/* The classic API, as a fallback for mounts.c.
 *
 * hako needs Linux 5.12 (mount_setattr and openat2 are used unconditionally
 * in mounts.c, maskpaths.c, idmap.c, rootfs.c), which has the whole new
 * mount API. What can still refuse it is an outer seccomp profile written
 * before it that allows mount(2): hako nested in a container with
 * CAP_SYS_ADMIN under such a profile (Docker's default listed none of the
 * new calls before moby#41889, early 2021, and mount_setattr not before
 * later; such profiles answer EPERM, newer defaults ENOSYS).
 *
 * - Only mount_setattr refused (a profile written for Linux 5.11, Docker
 *   20.10's): mounts are still made with open_tree/fsmount and attached
 *   with move_mount; their flags, propagation and late read-only are set
 *   with mount(2) on the mounts' own fds right after they are attached
 *   (mounts.c, mountflags.c). Nothing is looked up again.
 * - open_tree or fsopen refused too, or the one flag fsconfig cannot
 *   express (MS_I_VERSION): the mount is made with mount(2) onto the
 *   target's fd (a bind from the source's fd), found again by path and
 *   checked to be the mount just made (reopen_checked) before anything is
 *   done to it; a mount that fails the check fails the create. This covers
 *   the mounts of config.json, the rootfs bind and device binds.
 * Not covered, failing with the step named: recursive attributes (r*
 * options), idmapped binds, masked paths (and, without open_tree, readonly
 * paths), the console bind. test/integration/filesystem.test.ts runs both
 * cases, test/security/mount-reopen-race.test.ts the second under a race. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launcher.h"
#include "mounts.h"
#include "resolve.h"
#include "util.h"

/* mount(2) data from the options: the tmpfs mode first (a later mode= wins),
 * commas between, an SELinux value with commas back in double quotes. */
char *classic_data(const struct mount_ent *m, int tfd, bool existed)
{
	size_t cap = 16;
	for (size_t i = 0; i < m->fsopts.n; i++)
		cap += strlen(m->fsopts.v[i]) + 4;
	char *d = xmalloc(cap), *o = d;
	*o = 0;
	char mode[8];
	if (existed && strcmp(m->fstype, "tmpfs") == 0 && covered_mode(tfd, mode))
		o += sprintf(o, "mode=%s", mode);
	for (size_t i = 0; i < m->fsopts.n; i++) {
		const char *opt = m->fsopts.v[i], *eq = strchr(opt, '=');
		if (o != d)
			*o++ = ',';
		if (eq && strchr(eq, ','))
			o += sprintf(o, "%.*s\"%s\"", (int)(eq - opt + 1), opt, eq + 1);
		else
			o += sprintf(o, "%s", opt);
	}
	if (o == d) {
		free(d);
		return NULL;
	}
	return d;
}

/* The mount's id and its parent's, from our own mountinfo (through the
 * verified procfs). false if there is no such mount. */
static bool mount_parent(struct rootctx *c, uint64_t id, uint64_t *parent)
{
	int fd = openat(c->procfd, "self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail("open /proc/self/mountinfo");
	FILE *f = fdopen(fd, "r");
	if (!f)
		fail("open /proc/self/mountinfo");
	char *line = NULL;
	size_t cap = 0;
	bool found = false;
	while (getline(&line, &cap, f) > 0) {
		unsigned long long a, b;
		if (sscanf(line, "%llu %llu", &a, &b) == 2 && a == id) {
			*parent = b;
			found = true;
			break;
		}
	}
	free(line);
	fclose(f);
	return found;
}

static uint64_t mnt_id(int fd)
{
	struct statx stx;
	if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) < 0 || !(stx.stx_mask & STATX_MNT_ID))
		return 0;
	return stx.stx_mnt_id;
}

/* After a classic mount(2) onto tfd the new mount has no handle: find it
 * again from the root and check it is the one just made before anything
 * is done to it. runc's reopenAfterMount compares the paths; this also
 * wants a mount root, a mount other than the target's own and mounted on
 * it (mountinfo's parent), the target's path the same before and after
 * the lookup, and for a bind the source's root inode. A co-tenant renaming
 * on the path between those reads could in principle still line two names
 * up (runc says as much of its check); the new API has no such window, and
 * this path is only for hosts that refuse it. */
static int reopen_checked(struct rootctx *c, const struct mount_ent *m, int tfd, int src, const char *what)
{
	char *before = fd_real_path(c, tfd);
	int mfd = rs_walk(c->rootfd, m->target, 0, 0, 0);
	char *found = mfd < 0 ? NULL : fd_real_path(c, mfd);
	char *after = fd_real_path(c, tfd);
	struct statx stx;
	uint64_t parent = 0, id = mfd < 0 ? 0 : mnt_id(mfd), under = mnt_id(tfd);
	bool ok = before && found && after && strcmp(before, found) == 0 && strcmp(before, after) == 0 &&
		  statx(mfd, "", AT_EMPTY_PATH, 0, &stx) == 0 && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) &&
		  id && under && id != under && mount_parent(c, id, &parent) && parent == under;
	if (ok && src >= 0) {
		struct stat a, b;
		ok = fstat(src, &a) == 0 && fstat(mfd, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	}
	free(before);
	free(found);
	free(after);
	if (!ok)
		failx("mount %s onto %s: the target changed while mounting (what its path names now is not the mount just made)", what, m->target);
	return mfd;
}

/* The fallback (see the top of the file): mount(2) onto the target's fd,
 * a bind from the source's fd, then the new mount found again and checked. */
int classic_mount(struct rootctx *c, const struct mount_ent *m, int tfd, int src, bool existed, unsigned long ms, const char *what)
{
	int r;
	if (src >= 0) {
		r = mount_fd(c, NULL, src, tfd, NULL, m->flags & (MS_BIND | MS_REC), NULL);
	} else {
		char *data = classic_data(m, tfd, existed);
		r = mount_fd(c, m->source ? m->source : m->fstype, -1, tfd, m->fstype, ms, data);
		free(data);
	}
	if (r < 0)
		fail("mount %s onto %s", what, m->target);
	int mfd = reopen_checked(c, m, tfd, src, what);
	if (src >= 0 && m->remount_flags) {
		const char *why;
		if (remount_bind(c, mfd, m->remount_flags, &why) < 0)
			fail("remount %s with its options%s", m->target, why);
	}
	return mfd;
}

