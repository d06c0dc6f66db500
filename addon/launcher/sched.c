/* No path, nothing of the container's to trust: plain syscalls on
 * ourselves with checked values, no defence needed from any seat.
 * The process's scheduling (sched_setattr), I/O priority (ioprio_set) and
 * the init's NUMA memory policy (set_mempolicy): the values come checked
 * from the plan (src/launch/sched.ts); here only the calls. Before the
 * capabilities are dropped: raising a priority or choosing a real-time
 * policy needs CAP_SYS_NICE. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched/types.h>
#include <linux/sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "launcher.h"
#include "util.h"

#define IOPRIO_WHO_PROCESS 1

void apply_sched(const struct plan *p)
{
	if (p->has_sched) {
		struct sched_attr a;
		memset(&a, 0, sizeof a);
		a.size = sizeof a;
		a.sched_policy = p->sched_policy;
		a.sched_flags = p->sched_flags;
		a.sched_nice = p->sched_nice;
		a.sched_priority = p->sched_priority;
		a.sched_runtime = p->sched_runtime;
		a.sched_deadline = p->sched_deadline;
		a.sched_period = p->sched_period;
		if (syscall(SYS_sched_setattr, 0, &a, 0) < 0) {
			/* With RT group scheduling (cgroup v1 cpu.rt_runtime_us), a
			 * cgroup that was given no real-time time refuses FIFO/RR. */
			if (errno == EPERM && (p->sched_policy == SCHED_FIFO || p->sched_policy == SCHED_RR))
				fail("process.scheduler: sched_setattr (policy %u, priority %u; a real-time policy needs real-time time in the container's cgroup: linux.resources.cpu.realtimeRuntime)", p->sched_policy, p->sched_priority);
			fail("process.scheduler: sched_setattr (policy %u, nice %d, priority %u)", p->sched_policy, p->sched_nice, p->sched_priority);
		}
	}
	if (p->has_ioprio && syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, (int)p->ioprio) < 0)
		fail("process.ioPriority: ioprio_set (class %u, level %u)", p->ioprio >> 13, p->ioprio & 0x1fff);
	if (p->has_mempolicy) {
		/* maxnode counts one more than the mask's bits (the kernel has
		 * always read one bit less than it is told). */
		unsigned long maxnode = p->mempolicy_words ? p->mempolicy_words * 8 * sizeof(unsigned long) + 1 : 0;
		if (syscall(SYS_set_mempolicy, (int)p->mempolicy_mode, p->mempolicy_nodes, maxnode) < 0)
			fail("linux.memoryPolicy: set_mempolicy (mode %#x)", p->mempolicy_mode);
	}
}
