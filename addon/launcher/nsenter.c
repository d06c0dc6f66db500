/* The launcher's half of create: everything that must happen in the process
 * that clones the init, in the host's view of the world. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

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

void nsenter_create(const struct plan *p, int syncfd)
{
	/* Host paths: everything is opened before the first setns changes what
	 * paths mean (a joined mount namespace has its own /proc and /run). */
	int fifo = open(p->exec_fifo, O_PATH | O_CLOEXEC);
	if (fifo < 0)
		fail("open exec fifo %s", p->exec_fifo);
	/* Needs the host's paths and CAP_SYS_ADMIN in the initial user
	 * namespace, both gone after the joins and the clone. */
	idmap_prepare(p);

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
		timens = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
		if (timens < 0)
			fail("time namespace: open /proc/self/timens_offsets");
	}

	/* The oom score and rlimits are inherited by the clone. Setting them
	 * here, before joining a user namespace, is what lets a container get a
	 * lower oom_score_adj or a higher hard limit than its user namespace
	 * could grant itself (runc sets them from the parent for that reason). */
	apply_oom_score_adj(p);
	apply_rlimits(p);

	for (size_t i = 0; i < p->n_ns_join; i++) {
		if (setns(nsfd[i], (int)p->ns_join[i].type) < 0)
			fail("join %s namespace %s", ns_name(p->ns_join[i].type), p->ns_join[i].path);
		close(nsfd[i]);
	}

	if (timens >= 0) {
		if (unshare(CLONE_NEWTIME) < 0)
			fail("unshare time namespace");
		write_time_offsets(p, timens);
		close(timens);
	}

	/* CLONE_PARENT: the init is the runtime's child, and becomes the
	 * subreaper's (conmon, containerd-shim) when the runtime exits. A new
	 * cgroup namespace is rooted where its creator is at that moment: the
	 * init unshares it itself once it is in its cgroup (init_main). */
	uint64_t flags = CLONE_PARENT | (p->ns_new & ~(uint64_t)(CLONE_NEWTIME | CLONE_NEWCGROUP));
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
