/* One OCI mount onto its target inside the rootfs.
 *
 * A mount is made detached, configured while detached, attached onto an fd
 * of its checked target, and whatever comes later goes through that same
 * mount's fd:
 *   bind         open_tree(OPEN_TREE_CLONE) of the source, opened once
 *   filesystem   fsopen, fsconfig (one option each), fsmount
 *   flags        mount_setattr on the detached mount (fsmount's own for a
 *                new filesystem), so it is never attached writable
 *   attach       move_mount onto the target's fd
 *   afterwards   propagation, the SELinux label, the copy of tmpcopyup,
 *                read-only at the end (rootfs_finalize): the mount's fd
 * Nothing is looked up by path again once the target is open. Any name on
 * the way can be exchanged for a symlink (renameat2 RENAME_EXCHANGE) by
 * whoever may write to a directory on it, such as another container sharing
 * the volume, and a second lookup then configures some other mount: a
 * read-only remount landing on another mount left a volume writable (hako
 * issue 10), and runc had CVE-2021-30465 and CVE-2019-19921 from the same.
 * The image shapes the targets (symlinks, files where directories go, a
 * /proc that is not a directory); the config's author the sources; a
 * co-tenant any name in a shared volume, at any time. A process of the
 * container itself never meets these steps: they run during create,
 * before its first process exists, and the fds they keep (late read-only)
 * are closed before the init waits for start.
 *
 * Where the kernel or an outer seccomp profile refuses the new API, the
 * classic mount(2) does it instead, with a check: mountclassic.c says
 * when and what it covers. The flags themselves are in mountflags.c. */
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
#include <sys/xattr.h>
#include <unistd.h>

#include "bindsrc.h"
#include "copyup.h"
#include "idmap.h"
#include "launcher.h"
#include "mounts.h"
#include "resolve.h"
#include "util.h"

#define ONTO (MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)

/* The lxcfs files runc lets users mount over; anything else under /proc
 * could hide what the masked paths protect (CVE-2019-16884 class). */
static const char *proc_ok[] = {
	"/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps",
	"/proc/uptime", "/proc/loadavg", "/proc/slabinfo", "/proc/sys/kernel/ns_last_pid",
	"/proc/sys/crypto/fips_enabled", NULL,
};

/* readlink of an fd through the procfs we verified in rootfs_prepare, not
 * whatever "/proc" names now. NULL with errno. */
char *fd_real_path(struct rootctx *c, int fd)
{
	char rel[FDPATH_MAX], real[PATH_MAX];
	snprintf(rel, sizeof(rel), "self/fd/%d", fd);
	ssize_t n = readlinkat(c->procfd, rel, real, sizeof(real) - 1);
	if (n < 0)
		return NULL;
	real[n] = 0;
	return xstrdup(real);
}

/* The target's path inside the container, computed from where the fd really
 * is (not from the name asked for), so that symlinks cannot smuggle a mount
 * into /proc and a target outside the rootfs is refused. */
static char *container_path(struct rootctx *c, int fd, const struct mount_ent *m, const char *what)
{
	char *real = fd_real_path(c, fd);
	if (!real)
		fail("mount %s onto %s: readlink of the target", what, m->target);
	size_t rl = strlen(c->rootfs_real);
	if (strcmp(c->rootfs_real, "/") == 0)
		return real;
	if (strncmp(real, c->rootfs_real, rl) != 0 || (real[rl] != 0 && real[rl] != '/'))
		failx("mount %s onto %s: the target resolved to %s, outside of the rootfs", what, m->target, real);
	if (real[rl] == 0)
		failx("mount %s onto %s: mounting over the root of the container is not supported", what, m->target);
	char *in = xstrdup(real + rl);
	free(real);
	return in;
}

/* /proc takes a procfs and nothing else; under /proc only the lxcfs files.
 * For a bind, the procfs test is on the source's fd: the tree cloned from
 * that same fd is what gets mounted (CVE-2019-19921 class). */
static void check_proc_mount(const struct mount_ent *m, const char *where, const char *what, bool bind, int src)
{
	if (strcmp(where, "/proc") == 0) {
		if (!bind && m->fstype && strcmp(m->fstype, "proc") == 0)
			return;
		struct statfs sfs;
		if (bind && fstatfs(src, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC)
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

/* The source of a bind: a host path the config names, symlinks in it
 * followed as runc follows them (the config's author chose the path, and a
 * volume's owner could always have put a symlink there). Opened once, so
 * that what is checked (file or directory; procfs for /proc) is what is
 * cloned and mounted: renaming the name afterwards changes nothing. An
 * idmapped bind's source was cloned the same way by the launcher, and so
 * was a source beyond the user namespace's reach (bindsrc.c); with a user
 * namespace both are cloned again from the launcher's staged copy. */
static int open_source(struct rootctx *c, const struct mount_ent *m, const char *what)
{
	if (m->idmap) {
		/* Without a user namespace it is handed over as made; with
		 * one, staged where its flags got locked (bindsrc.c). */
		if (m->idmap->tree >= 0)
			return m->idmap->tree;
		int fd = bindsrc_open(c->p, m);
		if (fd < 0)
			failx("mount %s onto %s: the idmapped tree was not prepared", what, m->target);
		return fd;
	}
	int fd = open(m->source, O_PATH | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	/* Beyond the user namespace's reach: the launcher's clone of it, if
	 * it staged one (bindsrc.c), as runc asks the host side then. */
	int err = errno;
	fd = bindsrc_open(c->p, m);
	if (fd < 0)
		fail_errno(err, "mount %s onto %s: open the source", what, m->target);
	debugx("mount %s onto %s: the source is out of the user namespace's reach (%s): taken from the launcher's clone of it", what,
	       m->target, strerror(err));
	return fd;
}

/* Opens (creating as needed) the mount point, resolved inside the rootfs
 * (resolve.c: symlinks never lead out, each component is opened with
 * O_NOFOLLOW from its parent's fd and created with mkdirat there, so a
 * racing rename cannot make us create anything outside it, CVE-2024-45310).
 * Pseudo filesystems that expose the host get a plain directory or nothing:
 * no symlink as the final component (CVE-2019-19921, CVE-2023-27561). */
static int open_target(struct rootctx *c, const struct mount_ent *m, const char *what, bool file, bool *existed)
{
	bool bind = (m->flags & MS_BIND) != 0;
	bool pseudo = !bind && (strcmp(m->fstype, "proc") == 0 || strcmp(m->fstype, "sysfs") == 0);
	int flags = pseudo ? RS_NOFOLLOW : 0;
	int fd = rs_walk(c->rootfd, m->target, flags, 0, 0);
	*existed = fd >= 0;
	if (fd < 0) {
		if (errno != ENOENT)
			fail("mount %s onto %s: open the target", what, m->target);
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
 * unless the options say otherwise (/tmp stays 1777). false: no such mode. */
bool covered_mode(int tfd, char mode[8])
{
	struct stat st;
	if (fstat(tfd, &st) < 0 || !S_ISDIR(st.st_mode))
		return false;
	snprintf(mode, 8, "%04o", st.st_mode & 07777);
	return true;
}

/* In the order of the mounts, so that it is made before a read-only remount
 * of the directory it is in. What is already there is kept, as runc does.
 * symlinkat in the parent's fd: nothing is followed to make it. */
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

/* One line of the filesystem context's log: the kernel's own words for why
 * fsconfig refused ("e tmpfs: Unknown parameter 'foo'"). */
static const char *fs_log(int fs, char *buf, size_t n)
{
	ssize_t r = read(fs, buf, n - 1);
	if (r <= 2)
		return "";
	buf[r] = 0;
	buf[strcspn(buf, "\n")] = 0;
	/* "e ", "w ", "i ": the level. */
	return buf[1] == ' ' ? buf + 2 : buf;
}

static __attribute__((noreturn)) void fs_fail(int fs, const struct mount_ent *m, const char *what, const char *step)
{
	int err = errno;
	char buf[512];
	const char *log = fs_log(fs, buf, sizeof(buf));
	char text[640];
	snprintf(text, sizeof(text), "%s%s%s%s", step, *log ? " (" : "", log, *log ? ")" : "");
	fail_errno(err, "mount %s onto %s: %s", what, m->target, text);
}

static void fs_param(int fs, const struct mount_ent *m, const char *what, const char *opt)
{
	const char *eq = strchr(opt, '=');
	int r;
	if (!eq) {
		r = fsconfig(fs, FSCONFIG_SET_FLAG, opt, NULL, 0);
	} else {
		char *key = strndup(opt, (size_t)(eq - opt));
		if (!key)
			failx("out of memory");
		r = fsconfig(fs, FSCONFIG_SET_STRING, key, eq + 1, 0);
		free(key);
	}
	if (r < 0) {
		char step[256];
		snprintf(step, sizeof(step), "option %s", opt);
		fs_fail(fs, m, what, step);
	}
}

/* The superblock flags mount(2) takes among its flags, as fsconfig flags.
 * MS_SILENT has none and needs none (fsopen logs to its own context, never
 * to the kernel log); MS_I_VERSION has none: such a mount goes classic. */
static const struct {
	unsigned long ms;
	const char *name;
} sb_flags[] = {
	{MS_RDONLY, "ro"}, {MS_SYNCHRONOUS, "sync"}, {MS_DIRSYNC, "dirsync"}, {MS_LAZYTIME, "lazytime"}, {MS_MANDLOCK, "mand"},
};

/* A new filesystem as a detached mount: fsopen, its source and each option
 * through fsconfig (the kernel's parser for that filesystem, the same as
 * mount(2) data goes to), fsmount with the per-mount flags. -1 with errno
 * when the API is refused (the caller falls back); any other failure fails
 * here, in the kernel's words. */
static int fs_make(const struct mount_ent *m, int tfd, bool existed, unsigned long ms, const char *what)
{
	if (ms & MS_I_VERSION) {
		errno = ENOSYS;
		return -1;
	}
	int fs = fsopen(m->fstype, FSOPEN_CLOEXEC);
	if (fs < 0) {
		if (mount_api_refused(errno))
			return -1;
		fail("mount %s onto %s", what, m->target);
	}
	if (fsconfig(fs, FSCONFIG_SET_STRING, "source", m->source ? m->source : m->fstype, 0) < 0)
		fs_fail(fs, m, what, "set the source");
	char mode[8];
	if (existed && strcmp(m->fstype, "tmpfs") == 0 && covered_mode(tfd, mode) &&
	    fsconfig(fs, FSCONFIG_SET_STRING, "mode", mode, 0) < 0)
		fs_fail(fs, m, what, "option mode");
	for (size_t i = 0; i < m->fsopts.n; i++)
		fs_param(fs, m, what, m->fsopts.v[i]);
	for (size_t i = 0; i < sizeof(sb_flags) / sizeof(sb_flags[0]); i++)
		if ((ms & sb_flags[i].ms) && fsconfig(fs, FSCONFIG_SET_FLAG, sb_flags[i].name, NULL, 0) < 0)
			fs_fail(fs, m, what, sb_flags[i].name);
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		fs_fail(fs, m, what, "create the filesystem");
	int mnt = fsmount(fs, FSMOUNT_CLOEXEC, (unsigned)mount_attr_of(ms));
	if (mnt < 0)
		fs_fail(fs, m, what, "make its mount");
	close(fs);
	return mnt;
}

/* A bind as a detached copy of the source's tree (its top, or every mount
 * of it for rbind), taken from the fd that was checked. -1 with errno when
 * the API is refused. */
static int bind_make(const struct mount_ent *m, int src, const char *what)
{
	if (m->idmap && src == m->idmap->tree) {
		m->idmap->tree = -1; /* ours now */
		return src;
	}
	unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | ((m->flags & MS_REC) ? AT_RECURSIVE : 0);
	int tree = open_tree(src, "", flags);
	if (tree < 0 && !mount_api_refused(errno))
		fail("mount %s onto %s: clone the source", what, m->target);
	return tree;
}

/* A remount (the "remount" option on a non-bind): done exactly as asked,
 * with mount(2) (only it changes a superblock's options and its mount's
 * flags together), on the mount its target names when we open it; what
 * follows uses that same fd. */
static int remount_one(struct rootctx *c, const struct mount_ent *m)
{
	int fd = rs_walk(c->rootfd, m->target, 0, 0, 0);
	if (fd < 0)
		fail("remount %s", m->target);
	char *where = container_path(c, fd, m, m->fstype);
	check_proc_mount(m, where, m->fstype, false, -1);
	free(where);
	char *data = classic_data(m, fd, false);
	int r = mount_fd(c, m->source ? m->source : m->fstype, -1, fd, m->fstype, m->flags, data);
	free(data);
	if (r < 0)
		fail("remount %s", m->target);
	return fd;
}

/* Propagation goes on the attached mount (a detached one is in a namespace
 * of its own, where the kernel refuses some): through its fd. */
static void set_propagation(struct rootctx *c, const struct mount_ent *m, int mnt)
{
	for (size_t i = 0; i < m->n_propagation; i++) {
		unsigned long f = m->propagation[i];
		int r;
		if (!mount_setattr_allowed()) {
			r = mount_fd(c, NULL, -1, mnt, NULL, f, NULL);
		} else {
			struct mount_attr a = {.propagation = f & ~(unsigned long)MS_REC};
			r = mount_setattr(mnt, "", AT_EMPTY_PATH | ((f & MS_REC) ? AT_RECURSIVE : 0), &a, sizeof(a));
		}
		if (r < 0)
			fail("set propagation of %s", m->target);
	}
	if (m->attr_propagation) {
		struct mount_attr a = {.propagation = m->attr_propagation};
		if (mount_setattr(mnt, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0)
			fail("set recursive propagation of %s", m->target);
	}
}

/* The r* options: every mount of the tree, through the mount's fd. */
static void set_recursive_attrs(const struct mount_ent *m, int mnt)
{
	if (!m->attr_set && !m->attr_clr)
		return;
	struct mount_attr a = {.attr_set = m->attr_set, .attr_clr = m->attr_clr};
	if (mount_setattr(mnt, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0)
		fail("set recursive mount attributes of %s", m->target);
}

/* A filesystem whose superblock we share (mqueue is the ipc namespace's)
 * cannot take context=: label its root, as runc does, through the mount's
 * fd (its root is a directory). */
static void set_label(const struct mount_ent *m, int mnt, const char *what)
{
	if (!m->label)
		return;
	int dir = openat(mnt, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0 || fsetxattr(dir, "security.selinux", m->label, strlen(m->label), 0) < 0)
		fail("mount %s onto %s: set its SELinux label %s", what, m->target, m->label);
	close(dir);
}

/* tmpcopyup: copied from a directory fd opened before anything covered the
 * target, into the new tmpfs through its own fd (copyup.c never follows an
 * entry; the source may be a volume a co-tenant changes meanwhile). */
static void copy_up(const struct mount_ent *m, int from, int mnt, const char *what)
{
	int to = openat(mnt, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (to < 0)
		fail("mount %s onto %s: open the new tmpfs to copy up", what, m->target);
	tmpfs_copyup(from, to, m->target);
	xclose(from);
	xclose(to);
}

void mount_one(struct rootctx *c, const struct mount_ent *m)
{
	if (m->symlink) {
		symlink_one(c, m);
		return;
	}
	bool bind = (m->flags & MS_BIND) != 0;
	if (!bind && (m->flags & MS_REMOUNT)) {
		int fd = remount_one(c, m);
		set_label(m, fd, m->fstype);
		set_recursive_attrs(m, fd);
		set_propagation(c, m, fd);
		close(fd);
		return;
	}
	const char *what = m->source && *m->source ? m->source : m->fstype;
	int src = -1;
	bool file = false;
	if (bind) {
		src = open_source(c, m, what);
		struct stat st;
		if (fstat(src, &st) < 0)
			fail("mount %s onto %s: stat the source", what, m->target);
		file = !S_ISDIR(st.st_mode);
	}
	bool existed = true;
	int tfd = open_target(c, m, what, file, &existed);
	char *where = container_path(c, tfd, m, what);
	check_proc_mount(m, where, what, bind, src);

	/* tmpfs and /dev stay writable until the end so that device nodes and
	 * symlinks can be created in them (runc's finalizeRootfs). */
	bool late_ro = !bind && (m->flags & MS_RDONLY) && (strcmp(m->fstype, "tmpfs") == 0 || is_dev_target(where));
	free(where);
	unsigned long ms = m->flags & ~(late_ro ? MS_RDONLY : 0UL);
	/* The covered directory stays readable through an fd opened before the
	 * tmpfs hides it. */
	int copy_from = -1;
	if (!bind && m->tmpcopyup && existed && strcmp(m->fstype, "tmpfs") == 0) {
		copy_from = openat(tfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (copy_from < 0)
			fail("mount %s onto %s: open the directory to copy up", what, m->target);
	}

	int mnt = bind ? bind_make(m, src, what) : fs_make(m, tfd, existed, ms, what);
	if (mnt >= 0) {
		/* Configured while detached: it is never seen otherwise. Where
		 * only mount_setattr is refused, a bind's flags are set right
		 * after it is attached, through its own fd all the same. */
		const char *why;
		bool flags_now = bind && m->remount_flags && mount_setattr_allowed();
		if (flags_now && set_bind_flags(mnt, m->remount_flags, &why) < 0)
			fail("remount %s with its options%s", m->target, why);
		set_recursive_attrs(m, mnt);
		if (copy_from >= 0)
			copy_up(m, copy_from, mnt, what);
		set_label(m, mnt, what);
		if (move_mount(mnt, "", tfd, "", ONTO) < 0)
			fail("mount %s onto %s", what, m->target);
		if (bind && m->remount_flags && !flags_now && remount_bind(c, mnt, m->remount_flags, &why) < 0)
			fail("remount %s with its options%s", m->target, why);
	} else {
		mnt = classic_mount(c, m, tfd, src, existed, ms, what);
		if (copy_from >= 0)
			copy_up(m, copy_from, mnt, what);
		set_label(m, mnt, what);
		set_recursive_attrs(m, mnt);
	}
	if (src >= 0 && src != mnt)
		close(src);
	close(tfd);
	set_propagation(c, m, mnt);
	if (late_ro) {
		c->late_ro = xrealloc(c->late_ro, (c->n_late_ro + 1) * sizeof(*c->late_ro));
		c->late_ro[c->n_late_ro].fd = mnt;
		c->late_ro[c->n_late_ro].target = m->target;
		c->n_late_ro++;
	} else {
		close(mnt);
	}
}
