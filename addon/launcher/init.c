/* The container init: the ordered steps between clone and execve. The order
 * follows runc where it matters; each step's comment says why it is where it
 * is, and what it defends against from three seats: a malicious image (its
 * rootfs: symlinks anywhere, odd file types), a co-tenant renaming things on
 * a shared volume while we create, and a process of the container (an
 * `exec`'d one, or of a sibling sharing our pid namespace) while we run.
 * Against the last, once and for all: we are non-dumpable from the
 * launcher's main to execve (main.c), so none of our fds, our root (the
 * host's until pivot_root), cwd or memory can be reached from it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bindsrc.h"
#include "launcher.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#include "plan_tags.h"
#include "sync.h"
#include "util.h"

/* Blocks for MSG_GO: until then the runtime writes our uid/gid maps, puts us
 * in the cgroup and runs the createRuntime/prestart hooks. */
struct go {
	char *state;       /* for createContainer hooks */
	char *state_start; /* for startContainer hooks */
};

static struct go wait_go(int syncfd)
{
	uint32_t tag, len;
	uint8_t *val;
	if (!msg_read(syncfd, &tag, &val, &len))
		_exit(1); /* EOF: the runtime gave up on us; it reports why */
	if (tag != PT_MSG_GO)
		failx("sync socket: expected MSG_GO, got %s (%u)", pt_name(tag), tag);
	struct go go = {NULL, NULL};
	struct rec_iter it;
	struct rec r;
	rec_iter_init(&it, val, len, "MSG_GO");
	while (rec_next(&it, &r)) {
		if (r.tag == PT_STATE_JSON)
			go.state = rec_str(&r);
		else if (r.tag == PT_STATE_JSON_START)
			go.state_start = rec_str(&r);
		else
			failx("plan: unexpected tag %s (%u) in MSG_GO", pt_name(r.tag), r.tag);
	}
	free(val);
	if (!go.state)
		go.state = xstrdup("");
	if (!go.state_start)
		go.state_start = go.state;
	return go;
}

/* Key permission bits (keyutils.h, which we do not link). */
#define KEY_USR_SEARCH 0x00080000
#define KEY_OTH_SEARCH 0x00000008

/* runc's behaviour, except that EACCES/EPERM (keyctl filtered by an outer
 * seccomp profile, e.g. hako inside Docker) is a warning, not a failure:
 * the session keyring is best-effort isolation. */
void join_keyring(const struct plan *p, bool owner, int procfd)
{
	lsm_keycreate(p, procfd, true);
	long id = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, p->keyring_name, 0, 0, 0);
	int err = errno;
	lsm_keycreate(p, procfd, false);
	errno = err;
	if (id < 0) {
		if (errno == ENOSYS)
			return;
		if (errno == EACCES || errno == EPERM) {
			warnx_msg("join session keyring %s: %s (continuing without a new session keyring)", p->keyring_name, errstr(errno));
			return;
		}
		fail("join session keyring %s", p->keyring_name);
	}
	/* An exec process joins the keyring the init made, which is not ours
	 * to change (runc's exec only joins too). */
	if (!owner)
		return;
	/* Make it searchable by the container's user: by "other" in a user
	 * namespace (its uids differ from the keyring owner's), else by "user". */
	char desc[512];
	long n = syscall(SYS_keyctl, KEYCTL_DESCRIBE, id, desc, sizeof(desc) - 1, 0);
	if (n < 0)
		fail("describe session keyring %s", p->keyring_name);
	desc[sizeof(desc) - 1] = 0;
	/* "type;uid;gid;perm;description" with perm in hex */
	char *s = desc;
	for (int i = 0; i < 3 && s; i++) {
		s = strchr(s, ';');
		if (s)
			s++;
	}
	if (!s)
		failx("describe session keyring %s: unexpected answer %s", p->keyring_name, desc);
	unsigned long perm = strtoul(s, NULL, 16);
	perm |= plan_has_userns(p) ? KEY_OTH_SEARCH : KEY_USR_SEARCH;
	if (syscall(SYS_keyctl, KEYCTL_SETPERM, id, perm, 0, 0) < 0)
		fail("set permissions of session keyring %s", p->keyring_name);
}

static void identity(const struct plan *p, int procfd)
{
	if (p->setsid && setsid() < 0)
		fail("setsid");
	if (p->new_keyring)
		join_keyring(p, true, procfd);
	if (p->hostname && sethostname(p->hostname, strlen(p->hostname)) < 0)
		fail("sethostname %s", p->hostname);
	if (p->domainname && setdomainname(p->domainname, strlen(p->domainname)) < 0)
		fail("setdomainname %s", p->domainname);
	if (p->loopback_up)
		loopback_up();
}

void init_main(const struct plan *p, int syncfd, int fifo_path_fd)
{
	/* Our writes to hook stdin pipes and to the fifo must fail with EPIPE,
	 * not kill us; the container gets the disposition we inherited. */
	struct sigaction ign = {.sa_handler = SIG_IGN}, old_pipe;
	sigaction(SIGPIPE, &ign, &old_pipe);
	/* We create directories, files and nodes with exact modes; the hooks
	 * and the process get the inherited umask (or UMASK). */
	mode_t inherited_umask = umask(0);

	/* The runtime is our only peer on the socket (nobody else can take it
	 * from us) and what it sends is bounds-checked anyway (sync.c). */
	struct go go = wait_go(syncfd);

	/* MSG_GO means the runtime has put us in the container's cgroup: a
	 * cgroup namespace made now has it as its root, so the container sees
	 * "/" in /proc/self/cgroup (runc waits for its cgroup the same way). */
	if ((p->ns_new & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0)
		fail("unshare cgroup namespace");

	/* Before the switch to the namespace's root. Non-dumpable, our
	 * /proc/self files belong to root of the user namespace our memory
	 * belongs to: the initial one's for a privileged runtime, which our
	 * fsuid is only until that switch; the container's for a rootless one
	 * (nsenter.c re-exec'd there), which is us or a uid our CAP_DAC_OVERRIDE
	 * there covers. The capabilities it needs are ours in the new user
	 * namespace from the start. */
	if ((p->ns_new & CLONE_NEWTIME) && (p->ns_new & CLONE_NEWUSER))
		timens_in_userns(p);

	if (p->userns_maps) {
		if (setresgid(0, 0, 0) < 0)
			fail("setresgid to root of the new user namespace (are the gid maps written?)");
		if (setresuid(0, 0, 0) < 0)
			fail("setresuid to root of the new user namespace (are the uid maps written?)");
	} else if (plan_has_userns(p)) {
		/* A joined user namespace: our ids are still the host's, probably
		 * unmapped there; its root is who should create files in the
		 * rootfs. If 0 is unmapped in it, stay as we are. */
		if ((setresgid(0, 0, 0) < 0 && errno != EINVAL) || (setresuid(0, 0, 0) < 0 && errno != EINVAL))
			fail("become root of the joined user namespace");
	}
	/* A change of ids sets dumpability to fs.suid_dumpable, which may be 1. */
	set_dumpable(0);

	/* Before anything changes our working directory: it is where the
	 * launcher staged the bind sources (bindsrc.c). */
	bindsrc_init();
	struct rootctx c = {.p = p, .rootfd = -1, .procfd = -1, .sysctl_procfd = -1, .devnull_tree = -1, .mask_dir = -1};
	/* Makes the procfs we keep (a pid-only one of our own, procfs.c) and
	 * the rootfs fd; rootfs.c and mounts.c (their own comments) resolve
	 * everything in the rootfs without trusting the image or the names. */
	rootfs_prepare(&c);
	/* After rootfs_prepare only for its procfs handle (the keyring label);
	 * it changes nothing these depend on. */
	identity(p, c.procfd);
	for (size_t i = 0; i < p->n_mounts; i++)
		mount_one(&c, &p->mounts[i]);
	/* The staged bind sources' directory: the hooks below must not
	 * inherit it, nor anything of the container's. */
	bindsrc_done();
	create_devices(&c);
	create_dev_symlinks(&c);
	mask_prepare(&c);
	/* runc's order: after the mounts, before pivot_root, so the hooks still
	 * see the host's tree and can add mounts to the container's; runc runs
	 * them from the rootfs as cwd. The hook is the config's program, and
	 * gets none of our fds (hooks.c). Not defended (as in runc): once
	 * exec'd it is dumpable, with the host's tree as its root, in our pid
	 * namespace; a sibling sharing that namespace that may ptrace it (the
	 * same uid and capabilities, or root of the initial user namespace when
	 * we have a user namespace of our own) reaches the host through it. */
	if (p->hooks_create.n && fchdir(c.rootfd) < 0)
		fail("chdir to rootfs %s", p->rootfs);
	run_hooks(&p->hooks_create, "createContainer", go.state, inherited_umask);
	rootfs_enter(&c);
	/* The image's path, created with rs_walk beneath the new root. */
	make_cwd(&c);
	/* runc's place for it: after pivot_root, so that the pty comes from the
	 * container's devpts, and before /dev turns read-only. */
	if (p->console_fd >= 0)
		console_setup(p, c.procfd, p->root_chroot ? -1 : c.rootfd);
	/* runc's place for it: right after the console. */
	pidfd_send_self(p, "standard");

	/* Through the host's /proc, which only this step needs (/proc/sys):
	 * closed at once, long before anyone could wait on us. */
	write_sysctls(&c);
	xclose(c.sysctl_procfd);
	c.sysctl_procfd = -1;
	readonly_paths(&c);
	masked_paths(&c);
	rootfs_finalize(&c);
	/* The container's own "/" (rootfs_enter reopened it): harmless, but
	 * nothing needs it any more. */
	close(c.rootfd);
	c.rootfd = -1;

	set_personality(p);
	apply_sched(p);
	/* chdir inside the new root (the image's symlinks resolve within it),
	 * then getcwd must say so (CVE-2024-21626). */
	int retry_cwd = enter_cwd(p, 0);
	/* The labels take effect at execve (and for the startContainer hooks,
	 * as in runc, which run in the container). Here: after everything that
	 * builds the container, before any seccomp filter (which may not allow
	 * openat2), capability drop or user switch. */
	lsm_exec_labels(p, c.procfd);
	/* Without no_new_privs loading a filter needs CAP_SYS_ADMIN, which the
	 * process may be about to lose: load it now, as runc does (the profile
	 * must then allow the remaining setup syscalls). */
	if (p->seccomp_bpf && !p->no_new_privs)
		load_seccomp(p, syncfd);
	setup_user_and_caps(p);
	if (retry_cwd)
		enter_cwd(p, 1);
	umask(p->has_umask ? (mode_t)p->umask : inherited_umask);
	if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fail("prctl(PR_SET_NO_NEW_PRIVS)");
	/* After the user switch, like runc: permission to execute is the
	 * container user's, and a missing binary fails `create`. The image may
	 * swap the file before execve: it is its own program either way. */
	char *path = lookup_exec(p);
	/* A listener must reach the agent while `create` still runs to pass it
	 * on: with no_new_privs such a filter goes on here, before MSG_READY
	 * (runc's place for every filter under no_new_privs); any other waits
	 * until just before execve. */
	bool late_seccomp = p->seccomp_bpf && p->no_new_privs;
	if (late_seccomp && seccomp_has_listener(p)) {
		load_seccomp(p, syncfd);
		late_seccomp = false;
	}

	struct msgbuf m;
	msg_begin(&m, PT_MSG_READY);
	if (msg_send(&m, syncfd) < 0)
		_exit(1);
	/* Blocked on the fifo, only the runtime's record says who we are: wait
	 * until it is written (MSG_COMMIT). End of file instead means the
	 * runtime died or gave up before that; nobody would ever start or
	 * delete us, so we go. */
	uint32_t tag, len;
	uint8_t *val;
	if (!msg_read(syncfd, &tag, &val, &len))
		_exit(1);
	if (tag != PT_MSG_COMMIT)
		failx("sync socket: expected MSG_COMMIT, got %s (%u)", pt_name(tag), tag);
	free(val);
	close(syncfd);
	err_set_none();

	/* Blocks until `hako start` opens the fifo for reading, for as long as
	 * the caller likes, in the container's pid namespace: `hako exec`
	 * processes and a sibling container sharing it run beside us. What we
	 * hold here, besides stdio and the preserved fds (the container's):
	 *   - fifo_path_fd, O_PATH on exec.fifo: a name for that one fifo,
	 *     which leads nowhere else (no directory to walk from); opening it
	 *     would only start the container early, which runc's init allows
	 *     the same way;
	 *   - c.procfd, a procfs of the container's own pid namespace with
	 *     subset=pid, mounted nowhere (procfs.c): it shows what the
	 *     container's /proc shows of its processes, no sysctl, nothing of
	 *     the host. Through it, since the container may have no /proc.
	 * Nothing else: the sync socket is closed, the console socket, the
	 * pidfd socket and the seccomp socket were closed once used, the cgroup fd in the clone,
	 * the idmapped trees once attached, the staged bind sources'
	 * directory after the mounts, the rootfs fd above; cwd and root
	 * are the container's. And we are non-dumpable (main.c): none of it is
	 * reachable without CAP_SYS_PTRACE over the initial user namespace (or
	 * over the container's, rootless: nsenter.c). */
	char rel[FDPATH_MAX];
	snprintf(rel, sizeof(rel), "self/fd/%d", fifo_path_fd);
	int fifo = openat(c.procfd, rel, O_WRONLY | O_CLOEXEC);
	if (fifo < 0)
		_exit(1);
	close(fifo_path_fd);
	close(c.procfd);
	err_set_fifo(fifo);

	/* In the container (runc: the path is the container's, so the image's
	 * to provide, by the spec's design), as the container's user; of ours
	 * we hold only the fifo now, which the hook does not get. */
	run_hooks(&p->hooks_start, "startContainer", go.state_start, p->has_umask ? (mode_t)p->umask : inherited_umask);
	exec_process(p, path, fifo, late_seccomp, -1, &old_pipe);
}
