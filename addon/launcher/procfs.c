/* The procfs handle the container's processes use between clone and execve
 * (the fifo and pty reopens through self/fd, the LSM attr files, the no-pivot
 * mountinfo). It is held while container code may run beside them (the init
 * waits on exec.fifo until `start`; an exec process waits for MSG_GO), so it
 * must give nothing of the host to whoever might reach it: a new procfs
 * instance of the caller's own pid namespace (fsopen captures it), with
 * subset=pid (only process directories, self and thread-self: no sys/, no
 * sysrq-trigger, no kcore) and hidepid=ptraceable, mounted detached (no path reaches it, nothing
 * can be mounted over its files). Through it one sees what the container's
 * own /proc shows of its processes, and no more. The host's /proc, which
 * the launcher used to hold here, is a way to the host's sysctls (issue 10:
 * /proc/1/fd/5/sys/kernel/core_pattern from `hako exec`). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "launcher.h"
#include "util.h"

/* The kernel gives the root inode of every procfs instance this number. */
#define PROC_ROOT_INO 1

static bool is_proc_root(int fd)
{
	struct statfs sfs;
	struct stat st;
	return fstatfs(fd, &sfs) == 0 && fstat(fd, &st) == 0 && sfs.f_type == PROC_SUPER_MAGIC && st.st_ino == PROC_ROOT_INO;
}

int procfs_private(void)
{
	int fs = fsopen("proc", FSOPEN_CLOEXEC);
	if (fs < 0)
		return -1;
	int mnt = -1;
	/* hidepid=ptraceable too (5.8, as subset=pid): should anyone else ever
	 * use the handle, it shows only the processes they may ptrace anyway. */
	if (fsconfig(fs, FSCONFIG_SET_STRING, "subset", "pid", 0) == 0 && fsconfig(fs, FSCONFIG_SET_STRING, "hidepid", "ptraceable", 0) == 0 &&
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
		mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	xclose(fs);
	if (mnt < 0)
		return -1;
	if (!is_proc_root(mnt)) {
		xclose(mnt);
		errno = EXDEV;
		return -1;
	}
	return mnt;
}

int procfs_host(void)
{
	int fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		fail("open /proc");
	if (!is_proc_root(fd))
		failx("open /proc: not the root of a procfs; the launcher needs the host's /proc");
	return fd;
}

int procfs_for_container(int host)
{
	int fd = procfs_private();
	if (fd >= 0) {
		xclose(host);
		return fd;
	}
	/* Root of the initial user namespace always gets one (mounting procfs
	 * there is never "too revealing"). The kernel refuses it in a user
	 * namespace that does not own the pid namespace (a rootless container
	 * without one of its own) or whose mount table shows no procfs in full
	 * (a runtime inside a container with masked paths), and without
	 * CAP_SYS_ADMIN over the mount namespace (no mount namespace of the
	 * container's own, rootless): where the container could not mount a
	 * procfs either, and has the host's bound or in its mount table. The
	 * host's /proc we keep instead then gives it nothing more: in a user
	 * namespace no global sysctl is writable (they want root of the
	 * initial one), and nobody reaches our fds anyway (non-dumpable). */
	debugx("a procfs of the container's own: %s; using the host's /proc", errstr(errno));
	return host >= 0 ? host : procfs_host();
}
