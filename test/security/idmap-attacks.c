/* The attack on an idmapped bind's flags (test/security/idmap-flags.test.ts),
 * built static by the test: run inside a container, and on the host as the
 * control.
 *
 *   attack DIR FILE|-
 *       From inside a container, as its root with CAP_SYS_ADMIN in its user
 *       namespace: the flags of the mount at DIR ("flags ro nosuid nodev"),
 *       then every way to clear them: mount_setattr clearing read-only,
 *       nosuid, nodev (each put back when it worked, so that the next one
 *       is tried against the same mount), a bind remount without read-only
 *       (the other flags kept), and an append to DIR/FILE (skipped for -).
 *       One line each: "<what> ok", "<what> <errno name>", or "<what> unset"
 *       when the mount does not have the flag.
 *
 *   control SRC DIR FILE
 *       On the host, as root: what the launcher did before idmapped trees
 *       were staged. SRC cloned (open_tree, recursive) in the host's mount
 *       and user namespaces, idmapped (0 -> 100000, 65536 ids) and made
 *       read-only there, then attached onto DIR by a child in a new user
 *       namespace (the same maps) and a new mount namespace, as the
 *       container's init did; the child, root of that namespace, runs the
 *       same attack on it.
 *
 *   userns
 *       A user namespace with those maps for a container to join: prints
 *       "userns PID" (a process in it) and waits until killed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAPS "0 100000 65536\n"

static const char *ename(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case EROFS: return "EROFS";
	case EINVAL: return "EINVAL";
	case ENOSYS: return "ENOSYS";
	default: {
		static char b[32];
		snprintf(b, sizeof(b), "errno%d", e);
		return b;
	}
	}
}

static void die(const char *what)
{
	fprintf(stderr, "idmap-attacks: %s: %s\n", what, strerror(errno));
	exit(2);
}

static int setattr(int fd, unsigned long long set, unsigned long long clr)
{
	struct mount_attr a = {.attr_set = set, .attr_clr = clr};
	return (int)syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &a, sizeof(a));
}

static void report(const char *what, int r)
{
	if (r == 0)
		printf("%s ok\n", what);
	else
		printf("%s %s\n", what, ename(errno));
}

/* Clears one flag with mount_setattr; puts it back when that worked. */
static void clear_one(int mnt, unsigned long st, unsigned long long attr, const char *what)
{
	struct statvfs sv;
	if (fstatvfs(mnt, &sv) < 0)
		die("fstatvfs");
	if (!(sv.f_flag & st)) {
		printf("%s unset\n", what);
		return;
	}
	int r = setattr(mnt, 0, attr);
	report(what, r);
	if (r == 0 && setattr(mnt, attr, 0) < 0)
		die("put the flag back");
}

static int attack(int mnt, const char *file)
{
	struct statvfs sv;
	if (fstatvfs(mnt, &sv) < 0)
		die("fstatvfs");
	printf("flags%s%s%s\n", (sv.f_flag & ST_RDONLY) ? " ro" : "", (sv.f_flag & ST_NOSUID) ? " nosuid" : "",
	       (sv.f_flag & ST_NODEV) ? " nodev" : "");
	clear_one(mnt, ST_RDONLY, MOUNT_ATTR_RDONLY, "setattr-rw");
	clear_one(mnt, ST_NOSUID, MOUNT_ATTR_NOSUID, "setattr-suid");
	clear_one(mnt, ST_NODEV, MOUNT_ATTR_NODEV, "setattr-dev");
	/* "mount -o remount,bind,rw" keeping the rest: only read-only goes. */
	unsigned long keep = MS_REMOUNT | MS_BIND;
	if (sv.f_flag & ST_NOSUID) keep |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV) keep |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC) keep |= MS_NOEXEC;
	char self[64];
	snprintf(self, sizeof(self), "/proc/self/fd/%d", mnt);
	report("remount-rw", mount(NULL, self, NULL, keep, NULL));
	if (strcmp(file, "-") != 0) {
		int fd = openat(mnt, file, O_WRONLY | O_APPEND | O_CLOEXEC);
		int r = fd < 0 ? -1 : (int)write(fd, "attacked\n", 9) == 9 ? 0 : -1;
		report("write", r);
		if (fd >= 0)
			close(fd);
	}
	fflush(stdout);
	return 0;
}

static void write_file(pid_t pid, const char *name, const char *text)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		die(path);
	close(fd);
}

/* A child that unshares a user namespace, says so on `ready`, waits for its
 * maps on `go`, and then runs `then`; its pid, once it is in there. */
static pid_t child_in_userns(int go[2], int (*then)(void *), void *arg)
{
	int ready[2];
	if (pipe2(ready, O_CLOEXEC) < 0)
		die("pipe");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(go[1]);
		close(ready[0]);
		if (unshare(CLONE_NEWUSER) < 0)
			die("unshare user namespace");
		char c = 'r';
		if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(then(arg));
	}
	close(go[0]);
	close(ready[1]);
	char c;
	if (read(ready[0], &c, 1) != 1)
		die("the child did not make its user namespace");
	close(ready[0]);
	return pid;
}

static void map_and_go(pid_t pid, int go)
{
	write_file(pid, "uid_map", MAPS);
	write_file(pid, "gid_map", MAPS);
	if (write(go, "g", 1) != 1)
		die("wake the child");
	close(go);
}

static int park(void *arg)
{
	(void)arg;
	pause();
	return 0;
}

struct stage {
	int tree;
	const char *dir, *file;
};

/* The container's init: root of its user namespace, a mount namespace
 * copied from the host's (whose mounts the kernel locks), the host-made
 * tree attached onto DIR, then the container's root attacks it. */
static int in_container(void *arg)
{
	struct stage *s = arg;
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		die("become root of the user namespace");
	if (unshare(CLONE_NEWNS) < 0)
		die("unshare mount namespace");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die("make the mount namespace private");
	int target = open(s->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (target < 0)
		die("open the mount point");
	if (syscall(SYS_move_mount, s->tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		die("attach the tree");
	return attack(s->tree, s->file);
}

static int control(const char *src, const char *dir, const char *file)
{
	int tree = (int)syscall(SYS_open_tree, AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (tree < 0)
		die("open_tree the source");
	/* The user namespace carrying the mount's maps (idmap.c's). */
	int go[2];
	if (pipe2(go, O_CLOEXEC) < 0)
		die("pipe");
	pid_t holder = child_in_userns(go, park, NULL);
	map_and_go(holder, go[1]);
	char ns_path[64];
	snprintf(ns_path, sizeof(ns_path), "/proc/%d/ns/user", (int)holder);
	int ns = open(ns_path, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		die(ns_path);
	struct mount_attr a = {.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY, .userns_fd = (unsigned long long)ns};
	if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0)
		die("idmap the tree and make it read-only");
	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);

	struct stage s = {.tree = tree, .dir = dir, .file = file};
	if (pipe2(go, O_CLOEXEC) < 0)
		die("pipe");
	fflush(stdout);
	pid_t init = child_in_userns(go, in_container, &s);
	map_and_go(init, go[1]);
	int status;
	if (waitpid(init, &status, 0) < 0)
		die("wait");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "attack") == 0) {
		int mnt = open(argv[2], O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (mnt < 0)
			die(argv[2]);
		return attack(mnt, argv[3]);
	}
	if (argc == 2 && strcmp(argv[1], "userns") == 0) {
		int go[2];
		if (pipe2(go, O_CLOEXEC) < 0)
			die("pipe");
		pid_t pid = child_in_userns(go, park, NULL);
		map_and_go(pid, go[1]);
		printf("userns %d\n", (int)pid);
		fflush(stdout);
		waitpid(pid, NULL, 0);
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "control") == 0)
		return control(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: idmap-attacks attack DIR FILE|- | control SRC DIR FILE | userns\n");
	return 2;
}
