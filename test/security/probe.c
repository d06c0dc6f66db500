/* The security tests' probe, built static by the test into a bundle (and run
 * on the host as a stand-in). Only reads: it never writes a file.
 *
 *   probe attack PID NAME PATH
 *     from inside a container, every way to a process's fds and root:
 *       ptrace        PTRACE_SEIZE (then detached)
 *       getfd N       pidfd_getfd of fds 0..63: what each one is, and NAME
 *                     read through it (for a directory fd)
 *       link N        readlink /proc/PID/fd/N
 *       fdpath N      /proc/PID/fd/N/NAME read
 *       root, cwd     /proc/PID/root/PATH, /proc/PID/cwd/NAME read
 *     one line each: "<what> ok <detail>" or "<what> <errno name>".
 *
 *   probe standin PID DIR
 *     on the host, the state a runtime without the defence would leave: a
 *     dumpable process in PID's pid namespace, without capabilities (as a
 *     container process is), holding DIR open at fd 7 and a socket at fd 8,
 *     its root and cwd the host's. Prints "standin <pid in that namespace>"
 *     and waits until killed. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *ename(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ENOENT: return "ENOENT";
	case EBADF: return "EBADF";
	case ESRCH: return "ESRCH";
	case ENOTDIR: return "ENOTDIR";
	case ENOSYS: return "ENOSYS";
	default: {
		static char b[32];
		snprintf(b, sizeof(b), "errno%d", e);
		return b;
	}
	}
}

/* The first line of a file, or "" */
static int slurp(int dirfd, const char *path, char *out, size_t n)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t r = read(fd, out, n - 1);
	int err = errno;
	close(fd);
	if (r < 0) {
		errno = err;
		return -1;
	}
	out[r] = 0;
	out[strcspn(out, "\n")] = 0;
	return 0;
}

static void attack(int pid, const char *name, const char *path)
{
	char buf[4096], p[4200];
	if (syscall(SYS_ptrace, PTRACE_SEIZE, pid, 0, 0) == 0) {
		printf("ptrace ok\n");
		syscall(SYS_ptrace, PTRACE_DETACH, pid, 0, 0);
	} else {
		printf("ptrace %s\n", ename(errno));
	}

	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		printf("pidfd_open %s\n", ename(errno));
	} else {
		for (int n = 0; n < 64; n++) {
			int fd = (int)syscall(SYS_pidfd_getfd, pidfd, n, 0);
			if (fd < 0) {
				/* Permission is the process's, not the fd's: one line. */
				if (errno == EPERM || errno == EACCES) {
					printf("getfd * %s\n", ename(errno));
					break;
				}
				if (errno != EBADF)
					printf("getfd %d %s\n", n, ename(errno));
				continue;
			}
			char self[64], link[512] = "";
			snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
			ssize_t l = readlink(self, link, sizeof(link) - 1);
			link[l > 0 ? l : 0] = 0;
			if (slurp(fd, name, buf, sizeof(buf)) == 0)
				printf("getfd %d ok %s %s=%s\n", n, link, name, buf);
			else
				printf("getfd %d ok %s\n", n, link);
			close(fd);
		}
		close(pidfd);
	}

	for (int n = 0; n < 64; n++) {
		char link[512];
		snprintf(p, sizeof(p), "/proc/%d/fd/%d", pid, n);
		ssize_t l = readlink(p, link, sizeof(link) - 1);
		if (l < 0) {
			if (errno != ENOENT)
				printf("link %d %s\n", n, ename(errno));
			continue;
		}
		link[l] = 0;
		printf("link %d ok %s\n", n, link);
		snprintf(p, sizeof(p), "/proc/%d/fd/%d/%s", pid, n, name);
		if (slurp(AT_FDCWD, p, buf, sizeof(buf)) == 0)
			printf("fdpath %d ok %s=%s\n", n, name, buf);
		else if (errno != ENOTDIR && errno != ENOENT)
			printf("fdpath %d %s\n", n, ename(errno));
	}

	snprintf(p, sizeof(p), "/proc/%d/root%s", pid, path);
	if (slurp(AT_FDCWD, p, buf, sizeof(buf)) == 0)
		printf("root ok %s=%s\n", path, buf);
	else
		printf("root %s\n", ename(errno));
	snprintf(p, sizeof(p), "/proc/%d/cwd/%s", pid, name);
	if (slurp(AT_FDCWD, p, buf, sizeof(buf)) == 0)
		printf("cwd ok %s=%s\n", name, buf);
	else
		printf("cwd %s\n", ename(errno));
}

static int standin(int pid, const char *dir)
{
	int d = open(dir, O_PATH | O_DIRECTORY);
	int sv[2];
	if (d < 0 || dup2(d, 7) < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || dup2(sv[0], 8) < 0) {
		perror("standin: fds");
		return 1;
	}
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0 || setns(pidfd, CLONE_NEWPID) < 0) {
		perror("standin: join the pid namespace");
		return 1;
	}
	pid_t child = fork();
	if (child < 0) {
		perror("standin: fork");
		return 1;
	}
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* A container process's capabilities are a subset of the
		 * attacker's; a full set would refuse ptrace for that reason alone. */
		struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
		struct __user_cap_data_struct data[2];
		memset(data, 0, sizeof(data));
		if (syscall(SYS_capset, &h, data) < 0) {
			perror("standin: capset");
			_exit(1);
		}
		printf("standin %d\n", (int)getpid());
		fflush(stdout);
		for (;;)
			pause();
	}
	int st;
	waitpid(child, &st, 0);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 5 && strcmp(argv[1], "attack") == 0) {
		attack(atoi(argv[2]), argv[3], argv[4]);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "standin") == 0)
		return standin(atoi(argv[2]), argv[3]);
	fprintf(stderr, "usage: probe attack PID NAME PATH | probe standin PID DIR\n");
	return 2;
}
