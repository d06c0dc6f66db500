/* The launcher's half of create: everything that must happen in the process
 * that clones the init, in the host's view of the world. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bindsrc.h"
#include "idmap.h"
#include "launcher.h"
#include "plan_tags.h"
#include "sync.h"
#include "util.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const char *ns_name(uint32_t type)
{
	switch (type) {
	case CLONE_NEWUSER: return "user";
	case CLONE_NEWNS: return "mount";
	case CLONE_NEWNET: return "network";
	case CLONE_NEWPID: return "pid";
	case CLONE_NEWIPC: return "ipc";
	case CLONE_NEWUTS: return "uts";
	case CLONE_NEWCGROUP: return "cgroup";
	case CLONE_NEWTIME: return "time";
	default: return "unknown";
	}
}

/* "<clock> <secs> <nsecs>" lines; the kernel takes them all in one write. */
void write_time_offsets(const struct plan *p, int fd)
{
	char buf[4096];
	size_t off = 0;
	for (size_t i = 0; i < p->n_time_offsets; i++) {
		const struct time_offset *t = &p->time_offsets[i];
		int n = snprintf(buf + off, sizeof(buf) - off, "%u %lld %u\n", t->clock, (long long)t->secs, t->nsecs);
		if (n < 0 || (size_t)n >= sizeof(buf) - off)
			failx("time namespace: too many offsets");
		off += (size_t)n;
	}
	if (off && write(fd, buf, off) != (ssize_t)off)
		fail("time namespace: write offsets to /proc/self/timens_offsets");
}

/* The user namespace is made here, by unshare after the joins, rather than
 * by the clone of the init, so that the process whose maps are written is
 * this one: in the runtime's pid namespace, which no process of the
 * container shares (a sibling container joining the init's pid namespace
 * would see the init). The runtime writes the maps through /proc/<our pid>.
 * Root (of the initial or of an outer user namespace) may open those files
 * whatever owns them, so we stay non-dumpable: and must, as every euid 0
 * process of the initial user namespace, a container's root without a user
 * namespace of its own included, holds all capabilities in a namespace
 * root made. An unprivileged runtime, and newuidmap, which drops to the
 * caller's uid before it opens the file, can only open files we own, which
 * a non-dumpable process's are not: we are dumpable for that moment only,
 * as runc's nsexec is, and only to the user itself (its processes hold
 * every capability in a namespace it made; a container's processes are in
 * namespaces of their own and hold none here). */
static void enter_new_userns(const struct plan *p, int syncfd)
{
	if (unshare(CLONE_NEWUSER) < 0)
		fail("unshare user namespace");
	if (p->runtime_unprivileged)
		set_dumpable(1);
	struct msgbuf m;
	msg_begin(&m, PT_MSG_USERNS);
	if (msg_send(&m, syncfd) < 0)
		_exit(1);
	uint32_t tag, len;
	uint8_t *val;
	if (!msg_read(syncfd, &tag, &val, &len))
		_exit(1); /* the runtime could not write the maps; it says why */
	if (tag != PT_MSG_USERNS_DONE)
		failx("sync socket: expected MSG_USERNS_DONE, got %s (%u)", pt_name(tag), tag);
	free(val);
	if (p->runtime_unprivileged)
		set_dumpable(0);
}

/* The clone, and the time namespace that must exist before it. */
static __attribute__((noreturn)) void clone_init(const struct plan *p, int syncfd, int fifo, int timens)
{
	if (timens >= 0) {
		if (unshare(CLONE_NEWTIME) < 0)
			fail("unshare time namespace");
		write_time_offsets(p, timens);
		close(timens);
	}

	/* CLONE_PARENT: the init is the runtime's child, and becomes the
	 * subreaper's (conmon, containerd-shim) when the runtime exits. A new
	 * cgroup namespace is rooted where its creator is at that moment: the
	 * init unshares it itself once it is in its cgroup (init_main). The
	 * user namespace is ours already (enter_new_userns). The init inherits
	 * our non-dumpable memory: nothing in the container can ptrace it or
	 * open its /proc/PID/fd, root or cwd while it still holds the host's
	 * paths (until pivot_root) and our fds. */
	uint64_t flags = CLONE_PARENT | (p->ns_new & ~(uint64_t)(CLONE_NEWTIME | CLONE_NEWCGROUP | CLONE_NEWUSER));
	bool in_cgroup;
	pid_t pid = clone_process(flags, p->cgroup_fd, &in_cgroup);
	if (pid < 0)
		fail("clone the container init");
	if (pid == 0)
		init_main(p, syncfd, fifo);

	struct msgbuf m;
	msg_begin(&m, PT_MSG_PID);
	msg_u32(&m, PT_INIT_PID, (uint32_t)pid);
	if (in_cgroup)
		msg_u32(&m, PT_INIT_IN_CGROUP, 1);
	if (msg_send(&m, syncfd) < 0) {
		kill(pid, SIGKILL);
		_exit(1);
	}
	_exit(0);
}

/* RUNTIME_UNPRIVILEGED: a non-dumpable process may be ptraced (and its
 * /proc/PID/ns read, setns'd into through a pidfd) only with CAP_SYS_PTRACE
 * in the user namespace its memory belongs to, the one it last exec'd in.
 * Ours is the initial one, where an unprivileged runtime has nothing: it
 * could not `exec` into (or `kill --all`) a created container whose init
 * it made non-dumpable. Exec'd again inside the container's user namespace,
 * which the runtime owns, our memory and the init's belong to that one: the
 * runtime reaches them, and in the container only a process given
 * CAP_SYS_PTRACE does (which can ptrace every process of the container
 * anyway; the init holds nothing of the host while container code runs,
 * procfs.c, though with no_new_privs its seccomp filter goes on only just
 * before execve: such a process could have the waiting init make syscalls
 * the filter refuses). runc's rootless init is dumpable: any container
 * process with its uid and capabilities reaches it. The plan goes through
 * a memfd; the fds keep their numbers. From the fd of our sealed copy
 * taken before the joins: a joined mount namespace decides what /proc is
 * by now. */
static __attribute__((noreturn)) void reexec_in_userns(const struct plan *p, int syncfd, int exe, int fifo, int timens)
{
	int planfd = memfd_create("hako-plan", MFD_CLOEXEC);
	if (planfd < 0)
		fail("re-exec in the user namespace: memfd_create");
	if (write_all(planfd, p->raw, p->raw_len) < 0)
		fail("re-exec in the user namespace: save the plan");
	const int keep[] = {syncfd, planfd, fifo, timens, p->console_fd, p->cgroup_fd, p->seccomp_sock, p->pidfd_sock};
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if (keep[i] >= 0 && fcntl(keep[i], F_SETFD, 0) < 0)
			fail("re-exec in the user namespace: keep fd %d", keep[i]);
	char a[4][16];
	snprintf(a[0], sizeof(a[0]), "%d", syncfd);
	snprintf(a[1], sizeof(a[1]), "%d", planfd);
	snprintf(a[2], sizeof(a[2]), "%d", fifo);
	snprintf(a[3], sizeof(a[3]), "%d", timens);
	char *argv[] = {"hako-launcher", a[0], "resume", a[1], a[2], a[3], NULL};
	char *envp[] = {NULL};
	fexecve(exe, argv, envp);
	fail("re-exec in the user namespace");
}

static int resume_fd(const char *s, bool optional)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < (optional ? -1 : 3) || v > 1 << 20 || (v >= 0 && fcntl((int)v, F_SETFD, FD_CLOEXEC) < 0))
		failx("resume: bad fd argument %s", s);
	return (int)v;
}

uint8_t *nsenter_resume_plan(const char *fd_arg, uint32_t *len)
{
	int fd = resume_fd(fd_arg, false);
	struct stat st;
	if (fstat(fd, &st) < 0)
		fail("resume: stat the saved plan");
	if (st.st_size <= 0 || st.st_size > 64 << 20)
		failx("resume: the saved plan has %lld bytes", (long long)st.st_size);
	uint8_t *buf = xmalloc((size_t)st.st_size);
	if (pread(fd, buf, (size_t)st.st_size, 0) != st.st_size)
		fail("resume: read the saved plan");
	close(fd);
	*len = (uint32_t)st.st_size;
	return buf;
}

void nsenter_resume(const struct plan *p, int syncfd, int argc, char **argv)
{
	if (argc != 2 || p->mode != MODE_CREATE || !p->runtime_unprivileged)
		failx("resume: not a re-exec of create with RUNTIME_UNPRIVILEGED");
	int fifo = resume_fd(argv[0], false);
	int timens = resume_fd(argv[1], true);
	clone_init(p, syncfd, fifo, timens);
}

/* Each step below is judged from three seats: a malicious image (the
 * rootfs is not touched here), a co-tenant renaming things on a shared
 * volume (only the runtime's own paths are opened here, and each once),
 * and a process in a container whose namespaces we join (it cannot reach
 * us: we are non-dumpable since main, in the runtime's pid namespace). */
void nsenter_create(const struct plan *p, int syncfd)
{
	/* Host paths: everything is opened before the first setns changes what
	 * paths mean (a joined mount namespace has its own /proc and /run).
	 * The fifo is in the runtime's state directory (0700 or root's): no
	 * co-tenant can swap it. */
	int fifo = open(p->exec_fifo, O_PATH | O_CLOEXEC);
	if (fifo < 0)
		fail("open exec fifo %s", p->exec_fifo);
	/* Needs the host's paths and CAP_SYS_ADMIN in the initial user
	 * namespace, both gone after the joins and the clone. */
	idmap_prepare(p);
	int exe = p->runtime_unprivileged ? selfseal_exe() : -1;

	/* Namespace paths come from config.json (trusted, the caller's): a
	 * path that is not a namespace file fails setns below. */
	int *nsfd = xcalloc(p->n_ns_join, sizeof(int));
	for (size_t i = 0; i < p->n_ns_join; i++) {
		nsfd[i] = open(p->ns_join[i].path, O_RDONLY | O_CLOEXEC);
		if (nsfd[i] < 0)
			fail("open %s namespace %s", ns_name(p->ns_join[i].type), p->ns_join[i].path);
	}

	int timens = -1;
	/* With a new user namespace the init makes the time namespace inside
	 * it (timens_in_userns), where it holds CAP_SYS_ADMIN and CAP_SYS_TIME
	 * whoever runs us; runc orders it the same way. */
	if ((p->ns_new & CLONE_NEWTIME) && !(p->ns_new & CLONE_NEWUSER)) {
		/* Opened now so that it is this process's file in the host's /proc
		 * and carries host credentials for the CAP_SYS_TIME check. */
		timens = open_own_proc("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
		if (timens < 0)
			fail("time namespace: open /proc/self/timens_offsets");
	}

	/* The oom score and rlimits are inherited by the clone. Setting them
	 * here, before joining a user namespace, is what lets a container get a
	 * lower oom_score_adj or a higher hard limit than its user namespace
	 * could grant itself (runc sets them from the parent for that reason). */
	apply_oom_score_adj(p);
	apply_rlimits(p);

	/* While we are still host root (a joined user namespace ends that):
	 * sources only it may reach, idmapped trees where the copy into the
	 * container's user namespace locks their flags (bindsrc.c). No mount
	 * namespace is joined when one is made, so paths mean what they will
	 * mean for the init. */
	bindsrc_prepare(p);

	/* A namespace we join may hold the container's processes (a shared
	 * pid or network namespace): joining moves only us, non-dumpable, and
	 * setns of a pid namespace only places our children. */
	for (size_t i = 0; i < p->n_ns_join; i++) {
		if (setns(nsfd[i], (int)p->ns_join[i].type) < 0)
			fail("join %s namespace %s", ns_name(p->ns_join[i].type), p->ns_join[i].path);
		close(nsfd[i]);
	}
	free(nsfd);

	if (p->ns_new & CLONE_NEWUSER)
		enter_new_userns(p, syncfd);
	if (exe >= 0)
		reexec_in_userns(p, syncfd, exe, fifo, timens);
	clone_init(p, syncfd, fifo, timens);
}

/* The init's half of a time namespace under a new user namespace: made,
 * given its offsets before anyone is in it, and entered at once (not only
 * at execve), so that hooks and `exec` (which joins the init's namespaces)
 * see the same clocks as the container. */
void timens_in_userns(const struct plan *p)
{
	if (unshare(CLONE_NEWTIME) < 0)
		fail("unshare time namespace");
	int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		fail("time namespace: open /proc/self/timens_offsets");
	write_time_offsets(p, fd);
	close(fd);
	int ns = open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		fail("time namespace: open /proc/self/ns/time_for_children");
	if (setns(ns, CLONE_NEWTIME) < 0)
		fail("enter the new time namespace");
	close(ns);
}
