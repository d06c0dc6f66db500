/* Exec mode: a new process inside a running container. The launcher joins
 * the namespaces of the container's init and clones the process into them;
 * the process then sets itself up like the init's last steps (process.c)
 * and execs. No rootfs work: joining the mount namespace already puts us at
 * the container's root. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "launcher.h"
#include "plan_tags.h"
#include "sync.h"
#include "util.h"

/* Until MSG_GO the runtime may still refuse us (and, once hako manages
 * cgroups, moves us into the container's before we run anything). */
static void wait_go(int syncfd)
{
	uint32_t tag, len;
	uint8_t *val;
	if (!msg_read(syncfd, &tag, &val, &len))
		_exit(1); /* EOF: the runtime gave up on us */
	if (tag != PT_MSG_GO)
		failx("sync socket: expected MSG_GO, got %s (%u)", pt_name(tag), tag);
	struct rec_iter it;
	struct rec r;
	rec_iter_init(&it, val, len, "MSG_GO");
	while (rec_next(&it, &r))
		if (r.tag != PT_STATE_JSON && r.tag != PT_STATE_JSON_START)
			failx("plan: unexpected tag %s (%u) in MSG_GO", pt_name(r.tag), r.tag);
	free(val);
}

/* From the clone to execve we are in the container's pid namespace (and its
 * others): its processes see us, and may try ptrace, /proc/PID/fd, root and
 * cwd, or pidfd_getfd (issue 10: the sync socket taken that way let the
 * container hang `hako exec` and forge messages). We are non-dumpable
 * throughout (main.c), which refuses all of those to anyone without
 * CAP_SYS_PTRACE over the initial user namespace (CVE-2016-9962: runc's
 * process was ptraced from the container during `exec`), and before we
 * first wait we hold nothing of the host we can do without: */
static __attribute__((noreturn)) void exec_child(const struct plan *p, int syncfd, int hostproc, int rootfd)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, old_pipe;
	sigaction(SIGPIPE, &ign, &old_pipe);
	/* the host's /proc gives way to a procfs of the container's own
	 * (procfs.c: the host's stays only where the kernel refuses that and it
	 * gives the container nothing); */
	int procfd = procfs_for_container(hostproc);
	/* the rootfs, a directory of the host's tree when the container has no
	 * mount namespace, becomes our root at once. Entering it runs nothing
	 * of the container's. */
	if (rootfd >= 0) {
		if (fchdir(rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0)
			fail("chroot %s", p->rootfs);
		close(rootfd);
	}
	/* What remains is needed until execve and is the runtime's side of the
	 * container's own business: the sync socket (close-on-exec; its end of
	 * file tells the runtime that execve succeeded), the console socket
	 * until the pty master went out, the pidfd socket until the pidfd did,
	 * the seccomp socket until the listener did. */
	wait_go(syncfd);

	/* In a joined user namespace our ids are still the host's, most likely
	 * unmapped there: become its root, as runc's exec does, so that what we
	 * create (the pty) belongs to someone the container knows and can give
	 * away to the container user. Stay as we are if 0 is unmapped. */
	if (p->exec_ns & CLONE_NEWUSER) {
		if ((setresgid(0, 0, 0) < 0 && errno != EINVAL) || (setresuid(0, 0, 0) < 0 && errno != EINVAL))
			fail("become root of the container's user namespace");
		/* A change of ids sets dumpability to fs.suid_dumpable, which may be 1. */
		set_dumpable(0);
	}
	/* Our own session, as runc's exec: never the caller's terminal as
	 * controlling terminal, and a session leader can take the pty's. */
	if (p->setsid && setsid() < 0)
		fail("setsid");
	if (p->new_keyring)
		join_keyring(p, false, procfd);
	/* The pty comes from the container's devpts, checked (console.c): the
	 * container shapes /dev/pts, but cannot make us open anything else. */
	if (p->console_fd >= 0)
		console_setup(p, procfd, -1);
	pidfd_send_self(p, "setns");

	/* In the container's cgroup now (cloned there, or moved before
	 * MSG_GO): its final CPUs (execCPUAffinity.final), after the runtime's
	 * own setup (keyring, pty, pidfd), before the scheduler policy
	 * (SCHED_DEADLINE checks the affinity it is given) and before any
	 * seccomp filter of the container could refuse the call. Without it
	 * the kernel's choice stands (the spec's SHOULD NOT change). */
	apply_cpu_final(p);
	set_personality(p);
	apply_sched(p);
	int retry_cwd = enter_cwd(p, 0);
	/* As in the init: through our procfs, never the container's /proc, and
	 * before the seccomp filter and the user switch. */
	lsm_exec_labels(p, procfd);
	close(procfd);
	/* The same order as the init (see there): without no_new_privs the
	 * filter goes on while we still have CAP_SYS_ADMIN. */
	if (p->seccomp_bpf && !p->no_new_privs)
		load_seccomp(p, syncfd);
	setup_user_and_caps(p);
	if (retry_cwd)
		enter_cwd(p, 1);
	if (p->has_umask)
		umask((mode_t)p->umask);
	if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fail("prctl(PR_SET_NO_NEW_PRIVS)");
	/* A missing binary is reported on the sync socket like any other
	 * failure, in runc's words; the socket is close-on-exec, so the
	 * runtime sees EOF exactly when execve succeeded. */
	char *path = lookup_exec(p);
	/* The runtime waits for our execve (end of file on the sync socket):
	 * a listener loaded just before it still reaches the agent. */
	exec_process(p, path, -1, p->seccomp_bpf && p->no_new_privs, syncfd, &old_pipe);
}

void nsenter_exec(const struct plan *p, int syncfd)
{
	/* First of all, execCPUAffinity.initial: our own work and the
	 * process's setup run on those CPUs rather than the container's, and
	 * the process inherits them through the clone, into the cgroup. */
	apply_cpu_initial(p);
	/* Opened in the host's view: after setns, /proc (if any) is the
	 * container's, and the root path means nothing. */
	int procfd = procfs_host();
	int rootfd = -1;
	if (p->root_chroot) {
		rootfd = open(p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (rootfd < 0)
			fail("open rootfs %s", p->rootfs);
	}

	/* Before joining a user namespace, for the same reason as in create:
	 * the host's privileges may grant what the container's could not. */
	apply_oom_score_adj(p);
	apply_rlimits(p);

	/* One setns through the pidfd joins them all at once, user namespace
	 * first, and cannot be fooled by a recycled pid: the pidfd is the init
	 * the runtime checked, or ESRCH. The pid namespace applies to children,
	 * hence the clone below. */
	if (p->exec_ns && setns(p->exec_pidfd, (int)p->exec_ns) < 0) {
		if (errno == ESRCH)
			failx("the container init has exited");
		fail("join the namespaces of the container init (setns through a pidfd needs Linux 5.8 or later)");
	}
	close(p->exec_pidfd);

	/* CLONE_PARENT: the runtime's child, reaped by it in the foreground or
	 * by the caller's subreaper once `exec --detach` returns. */
	bool in_cgroup;
	pid_t pid = clone_process(CLONE_PARENT, p->cgroup_fd, &in_cgroup);
	if (pid < 0)
		fail("clone the exec process");
	if (pid == 0)
		exec_child(p, syncfd, procfd, rootfd);

	struct msgbuf m;
	msg_begin(&m, PT_MSG_EXEC_PID);
	msg_u32(&m, PT_INIT_PID, (uint32_t)pid);
	if (in_cgroup)
		msg_u32(&m, PT_INIT_IN_CGROUP, 1);
	if (msg_send(&m, syncfd) < 0) {
		kill(pid, SIGKILL);
		_exit(1);
	}
	_exit(0);
}
