/* The process itself: limits, identity, capabilities, seccomp, execve. Kept
 * apart from the rootfs steps so that exec mode can reuse it. Everything
 * here after the rootfs is entered resolves paths inside the container's
 * root (the image's symlinks cannot leave it) and acts on ourselves; the
 * /proc files we write are opened before any namespace is joined. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "launcher.h"
#include "resolve.h"
#include "util.h"

static const char *rlimit_name(unsigned t)
{
	static const char *names[] = {
		"RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE",
		"RLIMIT_RSS", "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS",
		"RLIMIT_LOCKS", "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE", "RLIMIT_NICE",
		"RLIMIT_RTPRIO", "RLIMIT_RTTIME",
	};
	return t < sizeof(names) / sizeof(names[0]) ? names[t] : "RLIMIT_?";
}

void apply_rlimits(const struct plan *p)
{
	for (size_t i = 0; i < p->n_rlimits; i++) {
		const struct rlimit_ent *l = &p->rlimits[i];
		struct rlimit rl = {.rlim_cur = l->soft, .rlim_max = l->hard}, cur;
		if (setrlimit((int)l->type, &rl) == 0)
			continue;
		int err = errno;
		/* Raising a hard limit takes CAP_SYS_RESOURCE, which a rootless
		 * runtime lacks: name the limit it may not exceed. */
		if (err == EPERM && getrlimit((int)l->type, &cur) == 0 && l->hard > cur.rlim_max)
			fail_errno(err, "setrlimit %s (%u) soft %llu hard %llu: above the current hard limit %llu, which only a privileged runtime may raise",
				   rlimit_name(l->type), l->type, (unsigned long long)l->soft, (unsigned long long)l->hard,
				   (unsigned long long)cur.rlim_max);
		fail_errno(err, "setrlimit %s (%u) soft %llu hard %llu", rlimit_name(l->type), l->type,
			   (unsigned long long)l->soft, (unsigned long long)l->hard);
	}
}

void apply_oom_score_adj(const struct plan *p)
{
	if (!p->has_oom_score_adj)
		return;
	char buf[16];
	/* Before any join (nsenter.c, exec.c): open_own_proc may make us
	 * dumpable for the open, which a rootless launcher needs. */
	int fd = open_own_proc("/proc/self/oom_score_adj", O_RDWR | O_CLOEXEC);
	int n = snprintf(buf, sizeof(buf), "%d", p->oom_score_adj);
	if (fd >= 0 && write(fd, buf, (size_t)n) == n) {
		close(fd);
		return;
	}
	int err = errno;
	/* Lowering it takes CAP_SYS_RESOURCE (a rootless runtime may only
	 * raise it): say from where. */
	char cur[16] = "";
	if (fd >= 0 && err == EACCES && pread(fd, cur, sizeof(cur) - 1, 0) > 0) {
		cur[strcspn(cur, "\n")] = 0;
		fail_errno(err, "set oom_score_adj to %d: below the current %s, which only a privileged runtime may lower", p->oom_score_adj, cur);
	}
	fail_errno(err, "set oom_score_adj to %d", p->oom_score_adj);
}

void set_personality(const struct plan *p)
{
	if (p->has_personality && personality((unsigned long)p->personality) < 0)
		fail("personality %#llx", (unsigned long long)p->personality);
}

/* runc creates a missing cwd (as root, before the rootfs turns read-only),
 * with rs_walk beneath the root: no component of the image's may lead out. */
void make_cwd(struct rootctx *c)
{
	const char *cwd = c->p->cwd;
	if (!cwd || !*cwd)
		return;
	int fd = rs_walk(c->rootfd, cwd, RS_MKDIRS | RS_LAST_DIR, 0755, 0);
	if (fd < 0)
		fail("cwd %s", cwd);
	close(fd);
}

/* CVE-2024-21626: a cwd that is an fd of the host (or under the old root)
 * shows up as "(unreachable)/..." or fails; never hand such a cwd over. */
static void verify_cwd(void)
{
	char buf[PATH_MAX];
	if (syscall(SYS_getcwd, buf, sizeof(buf)) < 0) {
		if (errno == ENOENT)
			failx("current working directory is outside of the container's root: possible container breakout");
		fail("getcwd");
	}
	if (buf[0] != '/')
		failx("current working directory is outside of the container's root: possible container breakout (%s)", buf);
}

int enter_cwd(const struct plan *p, int final)
{
	const char *cwd = p->cwd && *p->cwd ? p->cwd : "/";
	if (chdir(cwd) < 0) {
		/* The container user may reach what root (squashed on NFS, or
		 * without DAC override in a user namespace) cannot. */
		if (errno == EACCES && !final)
			return 1;
		fail("cwd %s", cwd);
	}
	verify_cwd();
	return 0;
}

/* Our own stdio is created outside the container, owned by the runtime's
 * user: hand it to the container's user so it can reopen /dev/stdout (runc's
 * fixStdioPermissions). Unlike runc, only pipes, sockets and terminals: a
 * regular file the caller redirected to stays the caller's. /dev/null and
 * what we may not chown are left alone. */
static void fix_stdio(uid_t uid)
{
	for (int fd = 0; fd < 3; fd++) {
		struct stat st;
		if (fstat(fd, &st) < 0)
			continue;
		if (st.st_uid == uid || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) ||
		    (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)))
			continue;
		if (fchown(fd, uid, (gid_t)-1) < 0 && errno != EPERM && errno != EROFS && errno != EINVAL)
			fail("chown stdio fd %d to %u", fd, uid);
	}
}

static int last_cap(void)
{
	int last = 0;
	while (last < 63 && prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0)
		last++;
	return last;
}

void setup_user_and_caps(const struct plan *p)
{
	int last = last_cap();
	uint64_t valid = last >= 63 ? ~0ULL : (1ULL << (last + 1)) - 1;
	uint64_t all = p->cap_bounding | p->cap_effective | p->cap_permitted | p->cap_inheritable | p->cap_ambient;
	if (all & ~valid)
		debugx("capabilities %#llx are unknown to this kernel (last is %d): ignored", (unsigned long long)(all & ~valid), last);

	fix_stdio(p->uid);
	if (!p->setgroups_deny && setgroups(p->n_additional_gids, p->additional_gids) < 0)
		fail("setgroups");
	/* Keep the permitted set across the uid change; capset trims it. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		fail("prctl(PR_SET_KEEPCAPS)");
	for (int c = 0; c <= last; c++)
		if (!(p->cap_bounding & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			fail("drop capability %d from the bounding set", c);
	if (setresgid(p->gid, p->gid, p->gid) < 0) {
		if (errno == EINVAL)
			failx("cannot setgid to unmapped gid %u in user namespace", p->gid);
		fail("setgid %u", p->gid);
	}
	if (setresuid(p->uid, p->uid, p->uid) < 0) {
		if (errno == EINVAL)
			failx("cannot setuid to unmapped uid %u in user namespace", p->uid);
		fail("setuid %u", p->uid);
	}
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		fail("prctl(PR_SET_KEEPCAPS)");
	/* The id change set dumpability to fs.suid_dumpable, which may be 1:
	 * we hold the runtime's fds until execve (main.c). */
	set_dumpable(0);

	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2];
	uint64_t eff = p->cap_effective & valid, perm = p->cap_permitted & valid, inh = p->cap_inheritable & valid;
	for (int i = 0; i < 2; i++) {
		data[i].effective = (uint32_t)(eff >> (32 * i));
		data[i].permitted = (uint32_t)(perm >> (32 * i));
		data[i].inheritable = (uint32_t)(inh >> (32 * i));
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		fail("capset");

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		fail("clear ambient capabilities");
	/* runc only warns: a cap missing from permitted or inheritable cannot
	 * be ambient, and configs in the wild ask for it anyway. */
	for (int c = 0; c <= last; c++)
		if ((p->cap_ambient & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
			warnx_msg("raise ambient capability %d: %s", c, errstr(errno));
}

/* Go's findExecutable: what the container user could execve. The image
 * may change the file before the execve: it is its own program either way. */
static int executable(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -1;
	/* runc 1.1 (Go 1.19) says "permission denied" for a directory, and
	 * Docker maps that text to exit status 126. */
	if (S_ISDIR(st.st_mode)) {
		errno = EACCES;
		return -1;
	}
	/* The plain faccessat syscall, not glibc's faccessat(AT_EACCESS), which
	 * is faccessat2 (Linux 5.8): a seccomp profile older than that, loaded
	 * early (no no_new_privs), answers EPERM for it. Real and effective ids
	 * are equal here, so the real-id check is the same check. */
	return (int)syscall(SYS_faccessat, AT_FDCWD, path, X_OK);
}

char *lookup_exec(const struct plan *p)
{
	const char *file = p->args.v[0];
	if (strchr(file, '/')) {
		struct stat st;
		if (stat(file, &st) < 0)
			fail("exec: \"%s\": stat %s", file, file);
		if (executable(file) < 0)
			fail("exec: \"%s\"", file);
		return xstrdup(file);
	}
	const char *path = plan_getenv(p, "PATH");
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (const char *d = path;; d++) {
		const char *e = strchrnul(d, ':');
		size_t dl = (size_t)(e - d);
		char *cand = xmalloc(dl + strlen(file) + 3);
		if (dl == 0)
			strcpy(cand, "./");
		else {
			memcpy(cand, d, dl);
			cand[dl] = '/';
			cand[dl + 1] = 0;
		}
		strcat(cand, file);
		if (executable(cand) == 0)
			return cand;
		free(cand);
		if (!*e)
			break;
		d = e;
	}
	failx_errno(ENOENT, "exec: \"%s\": executable file not found in $PATH", file);
}

/* close_range (5.9) may be refused by an older seccomp profile loaded
 * early: mark the fds one by one instead, finding them in /proc/self/fd,
 * or by trying every number below the fd limit if even that is refused.
 * That /proc is the container's to shape by now (a config without a /proc
 * mount leaves the image's directory there, listing what it likes): only
 * a procfs is believed. */
static void cloexec_from(int first)
{
	DIR *d = opendir("/proc/self/fd");
	struct statfs sfs;
	if (d && (fstatfs(dirfd(d), &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)) {
		closedir(d);
		d = NULL;
	}
	if (d) {
		int dfd = dirfd(d);
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			char *end;
			long fd = strtol(e->d_name, &end, 10);
			if (*end || end == e->d_name || fd < first || fd == dfd)
				continue;
			if (fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0 && errno != EBADF)
				fail("mark fd %ld close-on-exec", fd);
		}
		closedir(d);
		return;
	}
	struct rlimit rl;
	long max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? (long)rl.rlim_cur : 65536;
	for (long fd = first; fd < max; fd++)
		if (fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0 && errno != EBADF)
			fail("mark fd %ld close-on-exec", fd);
}

void exec_process(const struct plan *p, const char *path, int fifo_fd, bool load_filter, int syncfd,
		  const struct sigaction *sigpipe)
{
	/* Every fd of ours (sync socket, fifo, rootfs and /proc handles) is
	 * closed by execve; only stdio and the preserved fds go through. */
	if (close_range(3 + p->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		cloexec_from(3 + (int)p->preserve_fds);
	/* As late as possible: the fewer syscalls after it, the fewer a
	 * profile must allow. Before the '0' so a failure can still be told. */
	if (load_filter)
		load_seccomp(p, syncfd);
	if (fifo_fd >= 0 && write_all(fifo_fd, "0", 1) < 0)
		_exit(1);
	sigaction(SIGPIPE, sigpipe, NULL);
	execve(path, p->args.v, p->env.v);
	int err = errno;
	set_fail_code(err == ENOENT ? 127 : err == EACCES ? 126 : 1);
	fail_errno(err, "exec %s", path);
}
