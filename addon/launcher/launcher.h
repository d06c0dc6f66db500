/* The steps of the launcher, in the order init.c calls them. */
#ifndef HAKO_LAUNCHER_H
#define HAKO_LAUNCHER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "plan.h"

/* selfseal.c: re-exec from a sealed memfd unless already running from one. */
void selfseal(char **argv, char **envp);
/* An fd of our own executable, checked to be the sealed memfd (selfseal
 * ran), for a later re-exec when /proc may no longer be ours to trust. */
int selfseal_exe(void);

/* procfs.c. procfs_private: a new procfs of our pid namespace, subset=pid,
 * mounted detached; -1 with errno when the kernel refuses. procfs_host: the
 * host's /proc, checked to be a procfs root. procfs_for_container: the
 * private one (and host, the host's /proc opened earlier or -1, closed),
 * else where the kernel refuses it the host's (host, or opened now). */
int procfs_private(void);
int procfs_host(void);
int procfs_for_container(int host);

/* nsenter.c, launcher side of create: joins, time namespace, clone. Returns
 * 0 in the init and never returns in the launcher (which reports the pid). */
void nsenter_create(const struct plan *p, int syncfd);
/* The re-exec'd launcher of RUNTIME_UNPRIVILEGED: the plan it saved, then the
 * rest of nsenter_create from the fds it named (args after "resume"). */
uint8_t *nsenter_resume_plan(const char *fd_arg, uint32_t *len);
__attribute__((noreturn)) void nsenter_resume(const struct plan *p, int syncfd, int argc, char **argv);
void write_time_offsets(const struct plan *p, int fd);
void timens_in_userns(const struct plan *p);

/* exec.c, exec mode: joins the init's namespaces through its pidfd and
 * clones the process into them; never returns. */
__attribute__((noreturn)) void nsenter_exec(const struct plan *p, int syncfd);

/* init.c: the container init, from MSG_GO to execve. */
__attribute__((noreturn)) void init_main(const struct plan *p, int syncfd, int fifo_path_fd);
/* Joins (or creates) the session keyring named KEYRING_NAME; the owner
 * (the init) also makes it searchable by the container's user. procfd: a
 * procfs root, for the SELinux keyring label. */
void join_keyring(const struct plan *p, bool owner, int procfd);

/* console.c: a pty from /dev/pts/ptmx of the current root, its master sent
 * to CONSOLE_FD, its slave made stdio and controlling terminal (the caller
 * is a session leader). procfd: a procfs to reopen through; rootfd >= 0:
 * also bind the slave onto /dev/console under it. */
void console_setup(const struct plan *p, int procfd, int rootfd);

/* pidfdsend.c: with PIDFD_SOCK, a pidfd of the calling process goes there
 * (kind: "standard" from the init, "setns" from an exec'd process); the
 * socket is closed. */
void pidfd_send_self(const struct plan *p, const char *kind);

/* State shared by the rootfs steps. */
struct rootctx {
	const struct plan *p;
	int rootfd;       /* O_PATH: the rootfs bind mount before entering it, "/" after */
	int procfd;       /* the container's own procfs (procfs.c), made before pivot_root */
	int sysctl_procfd; /* the host's /proc while sysctls are to be written, else -1 */
	char *rootfs_real; /* canonical host path of the rootfs (before entering it) */
	int devnull_tree; /* detached clone of the host's /dev/null, for masked files */
	int mask_dir;     /* the read-only tmpfs masking directories, once attached */
	struct late_ro {
		int fd;
		const char *target;
	} *late_ro;        /* tmpfs and /dev mounts made read-only only at the end */
	size_t n_late_ro;
};

/* rootfs.c */
void rootfs_prepare(struct rootctx *c);
void rootfs_enter(struct rootctx *c);
void rootfs_finalize(struct rootctx *c);

/* mounts.c */
void mount_one(struct rootctx *c, const struct mount_ent *m);
/* mountflags.c */
/* mount(2) onto what fd holds, from what src_fd holds (>= 0) or from
 * source, through their magic links in c->procfd (never "/proc" by name).
 * For the classic API: 0 or -1 with errno, like mount(2). */
int mount_fd(struct rootctx *c, const char *source, int src_fd, int fd, const char *fstype, unsigned long flags, const void *data);
/* MS_REMOUNT|MS_BIND|flags on the mount at fd, keeping the flags a less
 * privileged user namespace cannot clear. 0 or -1 with errno. */
int remount_bind(struct rootctx *c, int fd, unsigned long flags, const char **why);
/* The mount at fd read-only, its other flags kept (mount_setattr; the
 * classic remount where the new API is refused). 0 or -1 with errno. */
int remount_ro(struct rootctx *c, int fd);

/* devices.c */
void create_devices(struct rootctx *c);
void create_dev_symlinks(struct rootctx *c);

/* maskpaths.c */
void mask_prepare(struct rootctx *c);
void readonly_paths(struct rootctx *c);
void masked_paths(struct rootctx *c);

/* sysctl.c */
void write_sysctls(struct rootctx *c);

/* sched.c: SCHED, IOPRIO and MEMPOLICY, before the capabilities go. */
void apply_sched(const struct plan *p);

/* affinity.c: CPU_AFFINITY_INITIAL on the launcher before it joins the
 * container (the exec'd process inherits it), CPU_AFFINITY_FINAL on the
 * process once it is in the container's cgroup; each a no-op without its tag. */
void apply_cpu_initial(const struct plan *p);
void apply_cpu_final(const struct plan *p);

/* net.c */
void loopback_up(void);

/* clone.c: fork-like clone with `flags` (no signal bits), into the cgroup of
 * cgroup_fd (>= 0) when the kernel allows; *in_cgroup says whether it did.
 * Closes cgroup_fd in the child and on failure. */
pid_t clone_process(uint64_t flags, int cgroup_fd, bool *in_cgroup);

/* lsm.c, through procfd (a procfs root the caller made or opened itself,
 * never the container's /proc): SELINUX_LABEL and APPARMOR_PROFILE for the next execve, and the
 * SELinux label for keyrings created until it is cleared (set false). */
void lsm_exec_labels(const struct plan *p, int procfd);
void lsm_keycreate(const struct plan *p, int procfd, bool set);

/* hooks.c: runs each hook; reports "<kind> hook <path>: ..." and exits on failure. */
void run_hooks(const struct hook_list *hooks, const char *kind, const char *state, mode_t umask_for_hooks);

/* process.c */
void apply_rlimits(const struct plan *p);
void apply_oom_score_adj(const struct plan *p);
void set_personality(const struct plan *p);
void make_cwd(struct rootctx *c);
/* true when the chdir must be retried as the container user (EACCES) */
int enter_cwd(const struct plan *p, int final);
void setup_user_and_caps(const struct plan *p);
/* Resolves ARG[0] like Go's exec.LookPath with the container's PATH. */
char *lookup_exec(const struct plan *p);
struct sigaction;
/* close_range, the seccomp filter if load_filter (a listener is announced
 * on syncfd), '0' on the fifo (if fifo_fd >= 0), execve; the error to the
 * current error sink if execve fails. sigpipe: the disposition to give back
 * to the process. */
__attribute__((noreturn)) void exec_process(const struct plan *p, const char *path, int fifo_fd, bool load_filter,
					    int syncfd, const struct sigaction *sigpipe);

/* seccomp.c: loads SECCOMP_BPF. With a listener (NEW_LISTENER), a helper
 * sends it on SECCOMP_FD_SOCK and announces it on syncfd (the filtered
 * caller makes no syscall for that), and this returns once the runtime
 * answered MSG_SECCOMP_DONE: the agent has it. */
void load_seccomp(const struct plan *p, int syncfd);
bool seccomp_has_listener(const struct plan *p);

#endif
