/* Loading the container's seccomp filter, and handing a notify listener over
 * to the runtime.
 *
 * With SCMP_ACT_NOTIFY rules seccomp(2) returns a listener fd, and until the
 * agent holds it, any syscall of ours that the filter notifies on waits for an
 * answer nobody can give. runc hands the fd over with a write(2) and so has to
 * refuse NOTIFY for write. Here the filtered process makes no syscall at all
 * for the handover (crun's idea): a helper forked just before the load, hence
 * not under the filter, shares our fd table and one page of memory. Right after
 * seccomp(2) returns, a plain store publishes the listener's number; the
 * helper, polling for it, sends the fd on SECCOMP_FD_SOCK, announces it with
 * MSG_SECCOMP_FD on the sync socket, closes it (in the shared table: we never
 * hold it again, and an fd nobody received cannot leave notifications
 * pending) and exits. We wait for it, then for MSG_SECCOMP_DONE, which the
 * runtime sends once the agent has the fd: nothing of the container's runs
 * unless the agent holds its listener (runc 1.1 waits the same way). Those
 * waits, like everything after the load, may notify: harmless, since neither
 * the helper nor the runtime needs anything from us to hand the fd on. */
/* The helper shares our fd table (the sync socket included) in the
 * container's pid namespace: like us it is non-dumpable (main.c), so
 * nothing there can reach that table through it, and it exits as soon as
 * the listener is sent. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "launcher.h"
#include "plan_tags.h"
#include "sync.h"
#include "util.h"

/* Values of handover.fd besides a listener's number. */
#define FD_PENDING (-1)
#define FD_LOAD_FAILED (-2)

/* handover.step: where the helper failed. */
enum { STEP_NONE, STEP_SEND, STEP_ANNOUNCE };

/* MAP_SHARED, so that the fork leaves one copy for both of us. */
struct handover {
	int fd;     /* FD_PENDING until seccomp(2) returned */
	int result; /* -1 until the helper is done, then its errno (0: sent and announced) */
	int step;
};

bool seccomp_has_listener(const struct plan *p)
{
	return (p->seccomp_flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) != 0;
}

static __attribute__((noreturn)) void helper(struct handover *h, pid_t parent, int sock, int syncfd)
{
	/* Never outlive the process we serve: the runtime kills it when the
	 * agent cannot be reached. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(1);
	/* Polling, not a futex: waking us would be a syscall of the filtered
	 * process. seccomp(2) takes microseconds; so does each nap. */
	const struct timespec nap = {.tv_sec = 0, .tv_nsec = 20 * 1000};
	int fd;
	while ((fd = __atomic_load_n(&h->fd, __ATOMIC_ACQUIRE)) == FD_PENDING)
		nanosleep(&nap, NULL);
	if (fd == FD_LOAD_FAILED)
		_exit(0);
	int err = 0, step = STEP_NONE;
	/* One byte: a stream peer would drop an fd that comes with none. */
	if (send_fd(sock, fd, "L", 1) < 0) {
		err = errno;
		step = STEP_SEND;
	} else {
		struct msgbuf m;
		msg_begin(&m, PT_MSG_SECCOMP_FD);
		if (msg_send(&m, syncfd) < 0) {
			err = errno;
			step = STEP_ANNOUNCE;
		}
	}
	close(fd);
	h->step = step;
	__atomic_store_n(&h->result, err, __ATOMIC_RELEASE);
	_exit(0);
}

static void load_with_listener(const struct plan *p, const struct sock_fprog *prog, int syncfd)
{
	struct handover *h = mmap(NULL, sizeof(*h), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (h == MAP_FAILED)
		fail("seccomp: map memory shared with the listener helper");
	h->fd = FD_PENDING;
	h->result = -1;
	h->step = STEP_NONE;
	pid_t self = getpid();
	pid_t pid = (pid_t)syscall(SYS_clone, CLONE_FILES | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0)
		fail("seccomp: fork the helper that hands the listener over (a pids limit of 1 leaves no room for it)");
	if (pid == 0)
		helper(h, self, p->seccomp_sock, syncfd);

	long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->seccomp_flags, prog);
	int load_err = fd < 0 ? errno : 0;
	/* Not one syscall between the load and this store. */
	__atomic_store_n(&h->fd, fd < 0 ? FD_LOAD_FAILED : (int)fd, __ATOMIC_RELEASE);

	int status;
	/* ECHILD when SIGCHLD is ignored: the shared word still tells. */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (load_err == EBUSY)
		failx_errno(EBUSY, "seccomp: load the filter: this process is under a filter with a listener already "
				   "(the kernel allows one per process: does hako itself run under a seccomp agent?)");
	if (load_err)
		fail_errno(load_err, "seccomp: load the filter");
	int result = __atomic_load_n(&h->result, __ATOMIC_ACQUIRE);
	int step = h->step;
	munmap(h, sizeof(*h));
	if (result < 0) {
		/* Killed before it finished: the listener may still be ours, and
		 * a notified syscall of the error report below would wait for it. */
		close((int)fd);
		failx("seccomp: the helper handing the listener over died");
	}
	if (result > 0)
		fail_errno(result, step == STEP_SEND ? "seccomp: send the listener to the runtime"
						     : "seccomp: announce the listener on the sync socket");
	close(p->seccomp_sock);

	uint32_t tag, len;
	uint8_t *val;
	if (!msg_read(syncfd, &tag, &val, &len))
		_exit(1); /* EOF: the runtime could not reach the agent; it says so */
	if (tag != PT_MSG_SECCOMP_DONE)
		failx("sync socket: expected MSG_SECCOMP_DONE, got %s (%u)", pt_name(tag), tag);
	free(val);
}

void load_seccomp(const struct plan *p, int syncfd)
{
	size_t n = p->seccomp_len / sizeof(struct sock_filter);
	if (n == 0 || n > BPF_MAXINSNS)
		failx("seccomp: a filter of %zu instructions cannot be loaded", n);
	struct sock_fprog prog = {.len = (unsigned short)n, .filter = (struct sock_filter *)p->seccomp_bpf};
	if (seccomp_has_listener(p)) {
		load_with_listener(p, &prog, syncfd);
		return;
	}
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->seccomp_flags, &prog) < 0)
		fail("seccomp: load the filter");
}
