/* LSM labels: the AppArmor profile and SELinux label the process is exec'd
 * under, and the label of its session keyring. Written to our own procfs
 * attr files, which is only as safe as the path to them: CVE-2019-16884
 * (a container's /proc that is a bind-mounted trap, so the profile write
 * lands in an ordinary file) and CVE-2025-52881 (mounts raced over procfs
 * files through shared propagation) both made a runtime believe it had
 * confined a process it had not. So the file is opened only through a
 * handle that is the root of a real procfs, by a path of plain directories
 * of that one mount (no symlink, no magic link, no mount crossing), and the
 * opened file is checked to be on procfs before anything is written.
 * The image and the volumes never come into it: the handle is the /proc
 * the launcher started with, and it names only our own task's files. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "launcher.h"
#include "util.h"

/* The kernel gives the root inode of every procfs mount this number. */
#define PROC_ROOT_INO 1

static void check_proc_root(int procfd)
{
	struct statfs sfs;
	struct stat st;
	if (fstatfs(procfd, &sfs) < 0 || fstat(procfd, &st) < 0)
		fail("lsm: stat the /proc handle");
	if (sfs.f_type != PROC_SUPER_MAGIC || st.st_ino != PROC_ROOT_INO)
		failx("lsm: the /proc handle is not the root of a procfs mount");
}

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* "<pid>/task/<tid>" of the calling thread in that procfs (whose pid
 * namespace need not be ours), read from its thread-self link so that the
 * open below can refuse every symlink. Kernels before 3.17 have only
 * "self": the launcher is single-threaded, so its pid is its tid. */
static void thread_dir(int procfd, char out[64])
{
	ssize_t n = readlinkat(procfd, "thread-self", out, 63);
	if (n < 0 && errno == ENOENT)
		n = readlinkat(procfd, "self", out, 63);
	if (n < 0)
		fail("lsm: readlink /proc/thread-self");
	out[n] = 0;
	char *slash = strchr(out, '/');
	bool ok = slash ? all_digits(out, (size_t)(slash - out)) && strncmp(slash, "/task/", 6) == 0 &&
				  all_digits(slash + 6, strlen(slash + 6))
			: all_digits(out, (size_t)n);
	if (!ok)
		failx("lsm: /proc/thread-self points to %s, not a task of this procfs", out);
}

/* fd of /proc/thread-self/attr/<name> opened for writing, or -1 with errno
 * (ENOENT: this kernel has no such attribute). */
static int attr_open(int procfd, const char *name)
{
	check_proc_root(procfd);
	char dir[64], rel[128];
	thread_dir(procfd, dir);
	snprintf(rel, sizeof(rel), "%s/attr/%s", dir, name);
	struct open_how how = {
		.flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	int fd;
	do
		fd = (int)syscall(SYS_openat2, procfd, rel, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN);
	if (fd < 0)
		return -1;
	struct statfs sfs;
	if (fstatfs(fd, &sfs) < 0)
		fail("lsm: statfs /proc/thread-self/attr/%s", name);
	if (sfs.f_type != PROC_SUPER_MAGIC)
		failx("lsm: /proc/thread-self/attr/%s is not on procfs", name);
	return fd;
}

/* One write: the kernel takes an attribute whole or not at all. */
static int attr_write(int fd, const char *value)
{
	size_t n = strlen(value);
	ssize_t w;
	do
		w = write(fd, value, n);
	while (w < 0 && errno == EINTR);
	if (w >= 0 && (size_t)w != n) {
		errno = EIO;
		return -1;
	}
	return w < 0 ? -1 : 0;
}

static void set_apparmor(const struct plan *p, int procfd)
{
	const char *attr = "apparmor/exec";
	int fd = attr_open(procfd, attr);
	if (fd < 0 && errno == ENOENT) {
		/* Before Linux 5.1 AppArmor had only the shared attribute. */
		attr = "exec";
		fd = attr_open(procfd, attr);
	}
	if (fd < 0)
		fail("apparmor profile %s: open /proc/thread-self/attr/%s", p->apparmor_profile, attr);
	char line[4096];
	if ((size_t)snprintf(line, sizeof(line), "%s %s", p->apparmor_stack ? "stack" : "exec", p->apparmor_profile) >= sizeof(line))
		failx("apparmor profile %.64s...: name too long", p->apparmor_profile);
	if (attr_write(fd, line) < 0) {
		/* AppArmor's answer for a profile it does not have. */
		if (errno == ENOENT)
			failx_errno(ENOENT, "apparmor profile \"%s\" is not loaded in the kernel (write /proc/thread-self/attr/%s: %s)",
				    p->apparmor_profile, attr, errstr(ENOENT));
		fail("apparmor profile %s: write /proc/thread-self/attr/%s", p->apparmor_profile, attr);
	}
	close(fd);
}

/* SELinux's answer for a context its policy does not define. */
static __attribute__((noreturn)) void selinux_write_failed(const char *label, const char *attr)
{
	if (errno == EINVAL)
		failx_errno(EINVAL, "selinux label \"%s\" is not valid in the loaded policy (write /proc/thread-self/attr/%s: %s)",
			    label, attr, errstr(EINVAL));
	fail("selinux label %s: write /proc/thread-self/attr/%s", label, attr);
}

static void set_selinux_exec(const struct plan *p, int procfd)
{
	int fd = attr_open(procfd, "exec");
	if (fd < 0)
		fail("selinux label %s: open /proc/thread-self/attr/exec", p->selinux_label);
	if (attr_write(fd, p->selinux_label) < 0)
		selinux_write_failed(p->selinux_label, "exec");
	close(fd);
}

void lsm_exec_labels(const struct plan *p, int procfd)
{
	if (p->selinux_label)
		set_selinux_exec(p, procfd);
	if (p->apparmor_profile)
		set_apparmor(p, procfd);
}

/* runc's SetKeyLabel: the session keyring joined next is created with the
 * process's label, then the attribute is cleared so that nothing else we
 * create inherits it. runc writes /proc/self (the thread-group leader's);
 * ours is a single thread, so thread-self is the same task. */
void lsm_keycreate(const struct plan *p, int procfd, bool set)
{
	if (!p->selinux_label)
		return;
	int fd = attr_open(procfd, "keycreate");
	if (fd < 0) {
		/* No keyrings in this kernel: there is nothing to label. */
		if (errno == ENOENT)
			return;
		fail("selinux label %s: open /proc/thread-self/attr/keycreate", p->selinux_label);
	}
	if (attr_write(fd, set ? p->selinux_label : "") < 0) {
		if (set)
			selinux_write_failed(p->selinux_label, "keycreate");
		warnx_msg("selinux: reset /proc/thread-self/attr/keycreate: %s", errstr(errno));
	}
	close(fd);
}
