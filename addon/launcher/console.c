/* process.terminal: a new pty from the container's own devpts instance, its
 * slave as our stdio and controlling terminal, its master handed to whoever
 * listens on the console socket (conmon, containerd's shim, hako's own
 * foreground proxy). Done inside the container (after pivot_root for the
 * init, after setns for exec) so that the pty belongs to the container's
 * devpts and its number means something there, as runc does. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "launcher.h"
#include "resolve.h"
#include "util.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/* From the kernel: the multiplexer of a devpts instance is 5:2, inode 2;
 * Unix98 pty slaves are major 136 + minor n. */
#define PTMX_MAJOR 5
#define PTMX_MINOR 2
#define PTMX_INO 2
#define PTY_SLAVE_MAJOR 136

/* The path is the container's to shape: open it without following a final
 * symlink, check that it is really a devpts ptmx, and only then open it for
 * real (through our own procfs, procfs.c, whatever the container's /proc is). */
static int open_ptmx(int procfd)
{
	int h = open("/dev/pts/ptmx", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (h < 0)
		fail("terminal: open /dev/pts/ptmx (is devpts mounted on /dev/pts?)");
	struct statfs sfs;
	struct stat st;
	if (fstatfs(h, &sfs) < 0 || fstat(h, &st) < 0)
		fail("terminal: stat /dev/pts/ptmx");
	if (sfs.f_type != DEVPTS_SUPER_MAGIC)
		failx("terminal: /dev/pts/ptmx is not on a devpts mount");
	if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(PTMX_MAJOR, PTMX_MINOR) || st.st_ino != PTMX_INO)
		failx("terminal: /dev/pts/ptmx is not the pty multiplexer of its devpts");
	char rel[FDPATH_MAX];
	snprintf(rel, sizeof(rel), "self/fd/%d", h);
	int fd = openat(procfd, rel, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		fail("terminal: open /dev/pts/ptmx");
	close(h);
	return fd;
}

/* TIOCGPTPEER opens the slave without a path lookup; kernels before 4.13
 * need /dev/pts/<n>, checked to be that pty before it is opened. */
static int open_slave(int master, int procfd)
{
	int fd = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	if (errno != EINVAL && errno != ENOTTY)
		fail("terminal: open the pty slave");
	unsigned n;
	if (ioctl(master, TIOCGPTN, &n) < 0)
		fail("terminal: get the pty number");
	char path[64];
	snprintf(path, sizeof(path), "/dev/pts/%u", n);
	int h = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (h < 0 || fstat(h, &st) < 0)
		fail("terminal: open %s", path);
	if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(PTY_SLAVE_MAJOR, n))
		failx("terminal: %s is not the slave of the new pty", path);
	char rel[FDPATH_MAX];
	snprintf(rel, sizeof(rel), "self/fd/%d", h);
	fd = openat(procfd, rel, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		fail("terminal: open %s", path);
	close(h);
	return fd;
}

/* Programs that write to /dev/console (init systems, syslog) should reach
 * the container's terminal, not the host's: bind the slave over it. */
static void mount_console(int rootfd, int slave)
{
	int target = rs_walk(rootfd, "/dev/console", RS_MKDIRS | RS_LAST_FILE | RS_NOFOLLOW, 0755, 0666);
	if (target < 0)
		fail("terminal: create /dev/console");
	int tree = open_tree(slave, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (tree < 0)
		fail("terminal: bind the pty onto /dev/console");
	if (move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		fail("terminal: bind the pty onto /dev/console");
	close(tree);
	close(target);
}

/* One message, as runc sends it: the bytes "/dev/ptmx" (the name of the
 * master's file) with the master as SCM_RIGHTS. */
static void send_master(int sock, int master)
{
	static const char name[] = "/dev/ptmx";
	if (send_fd(sock, master, name, sizeof(name) - 1) < 0)
		fail("terminal: send the pty master to the console socket");
}

/* The console socket (conmon's, the shim's, or our foreground proxy) is
 * held from the launcher's start until the master went out, then closed:
 * nothing in the container can take it meanwhile (non-dumpable, main.c). */
void console_setup(const struct plan *p, int procfd, int rootfd)
{
	int master = open_ptmx(procfd);
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		fail("terminal: unlock the pty");
	int slave = open_slave(master, procfd);
	if (p->console_width && p->console_height) {
		struct winsize ws = {.ws_row = (unsigned short)p->console_height, .ws_col = (unsigned short)p->console_width};
		if (ioctl(master, TIOCSWINSZ, &ws) < 0)
			fail("terminal: set the window size to %ux%u", p->console_width, p->console_height);
	}
	if (rootfd >= 0)
		mount_console(rootfd, slave);
	send_master(p->console_fd, master);
	/* The container must hold no master: its end of file is what tells the
	 * other side that the last process using the terminal is gone. */
	close(master);
	close(p->console_fd);

	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			fail("terminal: make the pty stdio");
	if (slave > 2)
		close(slave);
	/* Needs a session leader without a terminal: the caller ran setsid. The
	 * owner becomes the container user with the rest of stdio (fix_stdio). */
	if (ioctl(0, TIOCSCTTY, 0) < 0)
		fail("terminal: make the pty the controlling terminal");
}
