/* The decoded plan: everything the launcher does, already decided by TypeScript. */
#ifndef HAKO_PLAN_H
#define HAKO_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct idmap;

#define MODE_CREATE 1
#define MODE_EXEC 2

struct ns_join {
	uint32_t type; /* CLONE_NEW* */
	char *path;
};

struct time_offset {
	uint32_t clock;
	int64_t secs;
	uint32_t nsecs;
};

/* Arrays of strings are NULL-terminated as well as counted. */
struct strv {
	char **v;
	size_t n;
};

struct mount_ent {
	char *source, *target, *fstype;
	struct strv fsopts; /* M_FSOPT: "key" or "key=value", for fsconfig */
	uint64_t flags;
	uint32_t *propagation;
	size_t n_propagation;
	bool has_attr;
	uint64_t attr_set, attr_clr, attr_propagation;
	uint64_t remount_flags; /* 0 = no remount after a bind */
	uint32_t mkdir_mode;
	bool tmpcopyup; /* tmpfs: start with a copy of the covered directory */
	char *symlink;  /* not a mount: a symlink with this text at target */
	struct idmap *idmap; /* NULL: not idmapped (idmap.h) */
	char *label;         /* M_LABEL: security.selinux for the new mount's root, or NULL */
};

struct device {
	char *path;
	uint32_t type, major, minor, mode, uid, gid;
	bool bind;
};

struct dev_symlink {
	char *target, *link;
};

struct sysctl_ent {
	char *key, *value;
};

struct rlimit_ent {
	uint32_t type;
	uint64_t soft, hard;
};

struct hook {
	char *path;
	char **args; /* NULL-terminated */
	size_t n_args;
	char **env; /* NULL-terminated */
	size_t n_env;
	uint32_t timeout;
};

struct hook_list {
	struct hook *v;
	size_t n;
};

struct plan {
	uint32_t mode;
	uint32_t log_level;

	struct ns_join *ns_join;
	size_t n_ns_join;
	uint64_t ns_new;
	struct time_offset *time_offsets;
	size_t n_time_offsets;
	bool userns_maps;
	bool runtime_unprivileged; /* RUNTIME_UNPRIVILEGED (nsenter.c) */

	char *rootfs;
	bool rootfs_readonly;
	uint32_t rootfs_propagation;
	uint32_t rootfs_final_propagation;
	bool no_pivot;
	bool root_chroot;
	struct mount_ent *mounts;
	size_t n_mounts;
	struct device *devices;
	size_t n_devices;
	struct dev_symlink *symlinks;
	size_t n_symlinks;
	struct strv masked, readonly;

	char *hostname, *domainname;
	bool loopback_up;
	struct sysctl_ent *sysctls;
	size_t n_sysctls;

	struct strv args, env;
	char *cwd;
	uint32_t uid, gid;
	uint32_t *additional_gids;
	size_t n_additional_gids;
	bool has_umask;
	uint32_t umask;
	struct rlimit_ent *rlimits;
	size_t n_rlimits;
	bool has_sched; /* SCHED: sched_setattr (sched.c) */
	uint32_t sched_policy, sched_priority;
	int32_t sched_nice;
	uint64_t sched_flags, sched_runtime, sched_deadline, sched_period;
	bool has_ioprio;
	uint32_t ioprio;
	bool has_mempolicy;
	uint32_t mempolicy_mode;
	unsigned long *mempolicy_nodes; /* NULL with no nodes */
	size_t mempolicy_words;
	/* CPU_AFFINITY_INITIAL/FINAL (exec mode): cpu_set_t masks (unsigned
	 * longs), NULL when absent; sizes in bytes (affinity.c). */
	unsigned long *cpu_initial, *cpu_final;
	size_t cpu_initial_size, cpu_final_size;
	bool has_oom_score_adj;
	int32_t oom_score_adj;
	bool has_personality;
	uint64_t personality;
	uint64_t cap_bounding, cap_effective, cap_permitted, cap_inheritable, cap_ambient;
	bool no_new_privs;
	uint8_t *seccomp_bpf;
	size_t seccomp_len;
	uint32_t seccomp_flags;
	int seccomp_sock; /* -1: the filter has no listener to hand over */
	uint32_t preserve_fds;
	char *exec_fifo;
	bool new_keyring;
	char *keyring_name;
	bool setsid;
	bool setgroups_deny;
	int console_fd; /* -1: no terminal */
	uint32_t console_width, console_height;
	char *apparmor_profile, *selinux_label, *mount_label; /* NULL: none (lsm.c) */
	bool apparmor_stack;

	int exec_pidfd; /* exec mode: the container init, -1 otherwise */
	int cgroup_fd;  /* -1: none (clone.c) */
	int pidfd_sock; /* PIDFD_SOCK: -1, or where the process sends a pidfd of itself (pidfdsend.c) */
	uint64_t exec_ns;

	struct hook_list hooks_create, hooks_start;

	/* The MSG_PLAN value as received: what a re-exec inside the user
	 * namespace decodes again (nsenter.c). */
	const uint8_t *raw;
	size_t raw_len;
};

/* Decodes the value of a MSG_PLAN record; fatal on anything malformed. */
void plan_decode(struct plan *p, const uint8_t *buf, size_t len);

/* Whether the container has a user namespace (new or joined). */
bool plan_has_userns(const struct plan *p);

/* Value of NAME in the plan's environment, or NULL. */
const char *plan_getenv(const struct plan *p, const char *name);

#endif
