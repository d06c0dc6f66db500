/* The one clone that makes the container's process (init or exec), into
 * its cgroup when the runtime gave one. The child inherits our memory's
 * non-dumpability (main.c): from its first instruction in the container's
 * pid namespace, nothing there can ptrace it or open its /proc files. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "launcher.h"
#include "util.h"

/* clone3(CLONE_INTO_CGROUP) places the child in its cgroup as it is made.
 * The alternative, the runtime writing the pid to cgroup.procs afterwards,
 * takes the kernel's cgroup_threadgroup_rwsem for writing, which waits for
 * an RCU grace period: milliseconds on every create and exec. Any refusal
 * (a kernel before 5.7, a cgroup the kernel will not put us in this way)
 * falls back to a plain clone and the runtime's write, which then reports
 * the real problem if there is one. In the child the fd is closed at once:
 * a cgroup directory fd reaching the container is a way out of its root
 * (CVE-2024-21626). */
pid_t clone_process(uint64_t flags, int cgroup_fd, bool *in_cgroup)
{
	*in_cgroup = false;
	pid_t pid = -1;
	if (cgroup_fd >= 0) {
		struct clone_args a;
		memset(&a, 0, sizeof a);
		a.flags = flags | CLONE_INTO_CGROUP;
		/* clone3 refuses an exit signal with CLONE_PARENT: the child gets
		 * ours then (SIGCHLD, as the runtime spawned us), as with clone. */
		a.exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD;
		a.cgroup = (uint64_t)cgroup_fd;
		pid = (pid_t)syscall(SYS_clone3, &a, sizeof a);
		if (pid >= 0)
			*in_cgroup = true;
		else
			debugx("clone3 into the container's cgroup: %s; cloning, the runtime moves the process", strerror(errno));
	}
	if (pid < 0)
		pid = (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid <= 0 && cgroup_fd >= 0)
		close(cgroup_fd);
	return pid;
}
