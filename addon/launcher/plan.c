#define _GNU_SOURCE
#include "plan.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "idmap.h"
#include "plan_tags.h"
#include "sync.h"
#include "util.h"

/* Appends one zeroed element to a counted array. */
#define PUSH(arr, n) (arr = xrealloc(arr, (n + 1) * sizeof(*arr)), memset(&arr[n], 0, sizeof(*arr)), &arr[n++])

static void strv_push(struct strv *s, char *v)
{
	s->v = xrealloc(s->v, (s->n + 2) * sizeof(char *));
	s->v[s->n++] = v;
	s->v[s->n] = NULL;
}

static __attribute__((noreturn)) void unexpected(const struct rec *r, const char *ctx)
{
	failx("plan: unexpected tag %s (%u) in %s", pt_name(r->tag), r->tag, ctx);
}

static void need(const char *what, const void *v, const char *ctx)
{
	if (!v)
		failx("plan: %s without %s", ctx, what);
}

static void decode_ns_join(struct plan *p, const struct rec *top)
{
	struct ns_join *j = PUSH(p->ns_join, p->n_ns_join);
	struct rec_iter it;
	struct rec r;
	rec_iter_init(&it, top->val, top->len, "NS_JOIN");
	while (rec_next(&it, &r)) {
		switch (r.tag) {
		case PT_NS_TYPE: j->type = rec_u32(&r); break;
		case PT_NS_PATH: j->path = rec_str(&r); break;
		default: unexpected(&r, it.ctx);
		}
	}
	need("NS_PATH", j->path, "NS_JOIN");
	if (!j->type)
		failx("plan: NS_JOIN %s without NS_TYPE", j->path);
}

static void decode_time_offset(struct plan *p, const struct rec *top)
{
	struct time_offset *t = PUSH(p->time_offsets, p->n_time_offsets);
	struct rec_iter it;
	struct rec r;
	rec_iter_init(&it, top->val, top->len, "TIME_OFFSET");
	while (rec_next(&it, &r)) {
		switch (r.tag) {
		case PT_TO_CLOCK: t->clock = rec_u32(&r); break;
		case PT_TO_SECS: t->secs = rec_i64(&r); break;
		case PT_TO_NSECS: t->nsecs = rec_u32(&r); break;
		default: unexpected(&r, it.ctx);
		}
	}
}

static void decode_mount(struct plan *p, const struct rec *top)
{
	struct mount_ent *m = PUSH(p->mounts, p->n_mounts);
	struct rec_iter it;
	struct rec r;
	m->mkdir_mode = 0755;
	rec_iter_init(&it, top->val, top->len, "MOUNT");
	while (rec_next(&it, &r)) {
		switch (r.tag) {
		case PT_M_SOURCE: m->source = rec_str(&r); break;
		case PT_M_TARGET: m->target = rec_str(&r); break;
		case PT_M_FSTYPE: m->fstype = rec_str(&r); break;
		case PT_M_FLAGS: m->flags = rec_u64(&r); break;
		case PT_M_FSOPT: strv_push(&m->fsopts, rec_str(&r)); break;
		case PT_M_DATA: failx("plan: M_DATA is reserved; filesystem options are M_FSOPT");
		case PT_M_LABEL: m->label = rec_str(&r); break;
		case PT_M_PROPAGATION:
			*PUSH(m->propagation, m->n_propagation) = rec_u32(&r);
			break;
		case PT_M_ATTR_SET: m->attr_set = rec_u64(&r); m->has_attr = true; break;
		case PT_M_ATTR_CLR: m->attr_clr = rec_u64(&r); m->has_attr = true; break;
		case PT_M_ATTR_PROPAGATION: m->attr_propagation = rec_u64(&r); m->has_attr = true; break;
		case PT_M_REMOUNT_FLAGS: m->remount_flags = rec_u64(&r); break;
		case PT_M_MKDIR_MODE: m->mkdir_mode = rec_u32(&r); break;
		case PT_M_TMPCOPYUP: m->tmpcopyup = rec_bool(&r); break;
		case PT_M_SYMLINK: m->symlink = rec_str(&r); break;
		case PT_M_IDMAP: m->idmap = idmap_decode(&r); break;
		case PT_M_IDMAP_USERNS: failx("plan: M_IDMAP_USERNS is reserved; idmapped mounts use M_IDMAP");
		default: unexpected(&r, it.ctx);
		}
	}
	need("M_TARGET", m->target, "MOUNT");
	if (m->target[0] != '/')
		failx("plan: mount target %s is not absolute", m->target);
	if (m->fstype && !m->fstype[0]) {
		free(m->fstype);
		m->fstype = NULL;
	}
	if (m->symlink)
		return;
	if (!(m->flags & MS_BIND))
		need("M_FSTYPE", m->fstype, m->target);
	else
		need("M_SOURCE", m->source, m->target);
}

static void decode_device(struct plan *p, const struct rec *top)
{
	struct device *d = PUSH(p->devices, p->n_devices);
	struct rec_iter it;
	struct rec r;
	rec_iter_init(&it, top->val, top->len, "DEVICE");
	while (rec_next(&it, &r)) {
		switch (r.tag) {
		case PT_D_PATH: d->path = rec_str(&r); break;
		case PT_D_TYPE: d->type = rec_u32(&r); break;
		case PT_D_MAJOR: d->major = rec_u32(&r); break;
		case PT_D_MINOR: d->minor = rec_u32(&r); break;
		case PT_D_MODE: d->mode = rec_u32(&r); break;
		case PT_D_UID: d->uid = rec_u32(&r); break;
		case PT_D_GID: d->gid = rec_u32(&r); break;
		case PT_D_BIND: d->bind = rec_bool(&r); break;
		default: unexpected(&r, it.ctx);
		}
	}
	need("D_PATH", d->path, "DEVICE");
	if (d->path[0] != '/')
		failx("plan: device path %s is not absolute", d->path);
}

static void decode_symlink(struct plan *p, const struct rec *top)
{
	struct dev_symlink *s = PUSH(p->symlinks, p->n_symlinks);
	struct rec_iter it;
	struct rec r;
	rec_iter_init(&it, top->val, top->len, "DEV_SYMLINK");
	while (rec_next(&it, &r)) {
		switch (r.tag) {
		case PT_SL_TARGET: s->target = rec_str(&r); break;
		case PT_SL_LINK: s->link = rec_str(&r); break;
		default: unexpected(&r, it.ctx);
		}
	}
	need("SL_TARGET", s->target, "DEV_SYMLINK");
	need("SL_LINK", s->link, "DEV_SYMLINK");
}

static void decode_sysctl(struct plan *p, const struct rec *top)
{
	struct sysctl_ent *s = PUSH(p->sysctls, p->n_sysctls);
	struct rec_iter it;
	struct rec r;
	rec_iter_init(&it, top->val, top->len, "SYSCTL");
	while (rec_next(&it, &r)) {
		switch (r.tag) {
		case PT_SC_KEY: s->key = rec_str(&r); break;
		case PT_SC_VALUE: s->value = rec_str(&r); break;
		default: unexpected(&r, it.ctx);
		}
	}
	need("SC_KEY", s->key, "SYSCTL");
	need("SC_VALUE", s->value, s->key);
}

static void decode_sched(struct plan *p, const struct rec *top)
{
	struct rec_iter it;
	struct rec r;
	bool has_policy = false;
	p->has_sched = true;
	rec_iter_init(&it, top->val, top->len, "SCHED");
	while (rec_next(&it, &r)) {
		switch (r.tag) {
		case PT_SCH_POLICY: p->sched_policy = rec_u32(&r); has_policy = true; break;
		case PT_SCH_FLAGS: p->sched_flags = rec_u64(&r); break;
		case PT_SCH_NICE: p->sched_nice = rec_i32(&r); break;
		case PT_SCH_PRIORITY: p->sched_priority = rec_u32(&r); break;
		case PT_SCH_RUNTIME: p->sched_runtime = rec_u64(&r); break;
		case PT_SCH_DEADLINE: p->sched_deadline = rec_u64(&r); break;
		case PT_SCH_PERIOD: p->sched_period = rec_u64(&r); break;
		default: unexpected(&r, it.ctx);
		}
	}
	if (!has_policy)
		failx("plan: SCHED without SCH_POLICY");
}

static void decode_mempolicy(struct plan *p, const struct rec *top)
{
	struct rec_iter it;
	struct rec r;
	bool has_mode = false;
	p->has_mempolicy = true;
	rec_iter_init(&it, top->val, top->len, "MEMPOLICY");
	while (rec_next(&it, &r)) {
		switch (r.tag) {
		case PT_MP_MODE: p->mempolicy_mode = rec_u32(&r); has_mode = true; break;
		case PT_MP_NODES:
			if (r.len % sizeof(unsigned long))
				failx("plan: MP_NODES of %u bytes is not a whole number of unsigned longs", (unsigned)r.len);
			p->mempolicy_words = r.len / sizeof(unsigned long);
			if (r.len) {
				p->mempolicy_nodes = xmalloc(r.len);
				memcpy(p->mempolicy_nodes, r.val, r.len);
			}
			break;
		default: unexpected(&r, it.ctx);
		}
	}
	if (!has_mode)
		failx("plan: MEMPOLICY without MP_MODE");
}

/* A CPU_AFFINITY_* mask: whole unsigned longs, at least one CPU. */
static unsigned long *decode_cpu_mask(const struct rec *r, size_t *size, const char *what)
{
	if (r->len == 0 || r->len % sizeof(unsigned long))
		failx("plan: %s of %u bytes is not a non-empty whole number of unsigned longs", what, (unsigned)r->len);
	unsigned long *set = xcalloc(1, r->len);
	memcpy(set, r->val, r->len);
	*size = r->len;
	if (CPU_COUNT_S(r->len, (cpu_set_t *)set) == 0)
		failx("plan: %s names no CPU", what);
	return set;
}

static void decode_rlimit(struct plan *p, const struct rec *top)
{
	struct rlimit_ent *l = PUSH(p->rlimits, p->n_rlimits);
	struct rec_iter it;
	struct rec r;
	bool has_type = false;
	rec_iter_init(&it, top->val, top->len, "RLIMIT");
	while (rec_next(&it, &r)) {
		switch (r.tag) {
		case PT_RL_TYPE: l->type = rec_u32(&r); has_type = true; break;
		case PT_RL_SOFT: l->soft = rec_u64(&r); break;
		case PT_RL_HARD: l->hard = rec_u64(&r); break;
		default: unexpected(&r, it.ctx);
		}
	}
	if (!has_type)
		failx("plan: RLIMIT without RL_TYPE");
}

static void decode_hook(struct hook_list *hl, const struct rec *top, const char *ctx)
{
	struct hook *h = PUSH(hl->v, hl->n);
	struct strv args = {0}, env = {0};
	struct rec_iter it;
	struct rec r;
	rec_iter_init(&it, top->val, top->len, ctx);
	while (rec_next(&it, &r)) {
		switch (r.tag) {
		case PT_H_PATH: h->path = rec_str(&r); break;
		case PT_H_ARG: strv_push(&args, rec_str(&r)); break;
		case PT_H_ENV: strv_push(&env, rec_str(&r)); break;
		case PT_H_TIMEOUT: h->timeout = rec_u32(&r); break;
		default: unexpected(&r, it.ctx);
		}
	}
	need("H_PATH", h->path, ctx);
	/* Like Go's exec.Cmd (runc): no args means argv = { path }. */
	if (args.n == 0)
		strv_push(&args, xstrdup(h->path));
	if (env.n == 0)
		env.v = xcalloc(1, sizeof(char *));
	h->args = args.v;
	h->n_args = args.n;
	h->env = env.v;
	h->n_env = env.n;
}

/* An fd number the runtime passed us: open, and never one of the container's stdio. */
static int plan_fd(const struct rec *r)
{
	uint32_t v = rec_u32(r);
	if (v < 3 || v > 1 << 20)
		failx("plan: %s %u is not an fd the runtime can pass", pt_name(r->tag), v);
	if (fcntl((int)v, F_GETFD) < 0)
		fail("plan: %s %u", pt_name(r->tag), v);
	return (int)v;
}

void plan_decode(struct plan *p, const uint8_t *buf, size_t len)
{
	struct rec_iter it;
	struct rec r;
	memset(p, 0, sizeof(*p));
	p->rootfs_propagation = MS_REC | MS_SLAVE;
	p->console_fd = p->exec_pidfd = p->seccomp_sock = p->cgroup_fd = p->pidfd_sock = -1;
	rec_iter_init(&it, buf, len, "MSG_PLAN");
	while (rec_next(&it, &r)) {
		switch (r.tag) {
		case PT_MODE: p->mode = rec_u32(&r); break;
		case PT_LOG_LEVEL: p->log_level = rec_u32(&r); break;
		case PT_NS_JOIN: decode_ns_join(p, &r); break;
		case PT_NS_NEW: p->ns_new = rec_u64(&r); break;
		case PT_TIME_OFFSET: decode_time_offset(p, &r); break;
		case PT_USERNS_MAPS: p->userns_maps = rec_bool(&r); break;
		case PT_RUNTIME_UNPRIVILEGED: p->runtime_unprivileged = rec_bool(&r); break;
		case PT_ROOTFS: p->rootfs = rec_str(&r); break;
		case PT_ROOTFS_READONLY: p->rootfs_readonly = rec_bool(&r); break;
		case PT_ROOTFS_PROPAGATION: p->rootfs_propagation = rec_u32(&r); break;
		case PT_ROOTFS_FINAL_PROPAGATION: p->rootfs_final_propagation = rec_u32(&r); break;
		case PT_NO_PIVOT: p->no_pivot = rec_bool(&r); break;
		case PT_ROOT_CHROOT: p->root_chroot = rec_bool(&r); break;
		case PT_MOUNT: decode_mount(p, &r); break;
		case PT_DEVICE: decode_device(p, &r); break;
		case PT_DEV_SYMLINK: decode_symlink(p, &r); break;
		case PT_MASKED_PATH: strv_push(&p->masked, rec_str(&r)); break;
		case PT_READONLY_PATH: strv_push(&p->readonly, rec_str(&r)); break;
		case PT_HOSTNAME: p->hostname = rec_str(&r); break;
		case PT_DOMAINNAME: p->domainname = rec_str(&r); break;
		case PT_LOOPBACK_UP: p->loopback_up = rec_bool(&r); break;
		case PT_SYSCTL: decode_sysctl(p, &r); break;
		case PT_ARG: strv_push(&p->args, rec_str(&r)); break;
		case PT_ENV: strv_push(&p->env, rec_str(&r)); break;
		case PT_CWD: p->cwd = rec_str(&r); break;
		case PT_UID: p->uid = rec_u32(&r); break;
		case PT_GID: p->gid = rec_u32(&r); break;
		case PT_ADDITIONAL_GID: *PUSH(p->additional_gids, p->n_additional_gids) = rec_u32(&r); break;
		case PT_UMASK: p->umask = rec_u32(&r); p->has_umask = true; break;
		case PT_RLIMIT: decode_rlimit(p, &r); break;
		case PT_SCHED: decode_sched(p, &r); break;
		case PT_IOPRIO: p->ioprio = rec_u32(&r); p->has_ioprio = true; break;
		case PT_MEMPOLICY: decode_mempolicy(p, &r); break;
		case PT_CPU_AFFINITY_INITIAL: p->cpu_initial = decode_cpu_mask(&r, &p->cpu_initial_size, "CPU_AFFINITY_INITIAL"); break;
		case PT_CPU_AFFINITY_FINAL: p->cpu_final = decode_cpu_mask(&r, &p->cpu_final_size, "CPU_AFFINITY_FINAL"); break;
		case PT_OOM_SCORE_ADJ: p->oom_score_adj = rec_i32(&r); p->has_oom_score_adj = true; break;
		case PT_PERSONALITY: p->personality = rec_u64(&r); p->has_personality = true; break;
		case PT_CAP_BOUNDING: p->cap_bounding = rec_u64(&r); break;
		case PT_CAP_EFFECTIVE: p->cap_effective = rec_u64(&r); break;
		case PT_CAP_PERMITTED: p->cap_permitted = rec_u64(&r); break;
		case PT_CAP_INHERITABLE: p->cap_inheritable = rec_u64(&r); break;
		case PT_CAP_AMBIENT: p->cap_ambient = rec_u64(&r); break;
		case PT_NO_NEW_PRIVS: p->no_new_privs = rec_bool(&r); break;
		case PT_SECCOMP_BPF:
			p->seccomp_bpf = xmalloc(r.len);
			memcpy(p->seccomp_bpf, r.val, r.len);
			p->seccomp_len = r.len;
			break;
		case PT_SECCOMP_FLAGS: p->seccomp_flags = rec_u32(&r); break;
		case PT_PRESERVE_FDS: p->preserve_fds = rec_u32(&r); break;
		case PT_EXEC_FIFO: p->exec_fifo = rec_str(&r); break;
		case PT_NEW_KEYRING: p->new_keyring = rec_bool(&r); break;
		case PT_KEYRING_NAME: p->keyring_name = rec_str(&r); break;
		case PT_SETSID: p->setsid = rec_bool(&r); break;
		case PT_SETGROUPS_DENY: p->setgroups_deny = rec_bool(&r); break;
		case PT_CONSOLE_FD: p->console_fd = plan_fd(&r); break;
		case PT_CONSOLE_WIDTH: p->console_width = rec_u32(&r); break;
		case PT_CONSOLE_HEIGHT: p->console_height = rec_u32(&r); break;
		case PT_EXEC_PIDFD: p->exec_pidfd = plan_fd(&r); break;
		case PT_CGROUP_FD: p->cgroup_fd = plan_fd(&r); break;
		case PT_SECCOMP_FD_SOCK: p->seccomp_sock = plan_fd(&r); break;
		case PT_PIDFD_SOCK: p->pidfd_sock = plan_fd(&r); break;
		case PT_EXEC_NS: p->exec_ns = rec_u64(&r); break;
		case PT_HOOK_CREATE_CONTAINER: decode_hook(&p->hooks_create, &r, "HOOK_CREATE_CONTAINER"); break;
		case PT_HOOK_START_CONTAINER: decode_hook(&p->hooks_start, &r, "HOOK_START_CONTAINER"); break;
		case PT_MOUNT_LABEL: p->mount_label = rec_str(&r); break;
		case PT_APPARMOR_PROFILE: p->apparmor_profile = rec_str(&r); break;
		case PT_APPARMOR_STACK: p->apparmor_stack = rec_bool(&r); break;
		case PT_SELINUX_LABEL: p->selinux_label = rec_str(&r); break;
		default: unexpected(&r, it.ctx);
		}
	}
	if (!p->env.v)
		p->env.v = xcalloc(1, sizeof(char *));
	set_log_level(p->log_level);
	if (p->mode != MODE_CREATE && p->mode != MODE_EXEC)
		failx("plan: MODE %u is not 1 (create) or 2 (exec)", p->mode);
	if (p->args.n == 0)
		failx("plan: no ARG: the process to run is missing");
	if (p->mode == MODE_CREATE) {
		need("ROOTFS", p->rootfs, "plan");
		need("EXEC_FIFO", p->exec_fifo, "plan");
		if (p->exec_pidfd >= 0 || p->exec_ns)
			failx("plan: EXEC_PIDFD and EXEC_NS belong to exec mode");
		/* The spec: execCPUAffinity is not the init's. */
		if (p->cpu_initial || p->cpu_final)
			failx("plan: CPU_AFFINITY_INITIAL and CPU_AFFINITY_FINAL belong to exec mode");
	} else {
		if (p->exec_pidfd < 0)
			failx("plan: exec mode without EXEC_PIDFD");
		/* What only an init does: exec mode would silently skip it. */
		if (p->n_mounts || p->n_devices || p->n_symlinks || p->masked.n || p->readonly.n || p->n_ns_join || p->ns_new ||
		    p->exec_fifo || p->hooks_create.n || p->hooks_start.n || p->hostname || p->domainname || p->n_sysctls || p->userns_maps || p->runtime_unprivileged || p->loopback_up || p->has_mempolicy ||
		    p->mount_label)
			failx("plan: container setup tags in an exec mode plan");
		if (p->root_chroot)
			need("ROOTFS", p->rootfs, "ROOT_CHROOT");
	}
	if (p->runtime_unprivileged) {
		if (!plan_has_userns(p))
			failx("plan: RUNTIME_UNPRIVILEGED without a user namespace");
		for (size_t i = 0; i < p->n_mounts; i++)
			if (p->mounts[i].idmap)
				failx("plan: RUNTIME_UNPRIVILEGED with an idmapped mount (%s)", p->mounts[i].target);
	}
	if (p->rootfs && p->rootfs[0] != '/')
		failx("plan: ROOTFS %s is not absolute", p->rootfs);
	if (p->new_keyring)
		need("KEYRING_NAME", p->keyring_name, "NEW_KEYRING");
	if (p->apparmor_stack && !p->apparmor_profile)
		failx("plan: APPARMOR_STACK without APPARMOR_PROFILE");
	if (p->seccomp_bpf && p->seccomp_len % 8 != 0)
		failx("plan: SECCOMP_BPF is %zu bytes, not a whole number of instructions", p->seccomp_len);
	/* A listener nobody receives would leave the process waiting on its
	 * first notified syscall; a socket without one is a runtime bug too. */
	bool listener = p->seccomp_bpf && (p->seccomp_flags & SECCOMP_FILTER_FLAG_NEW_LISTENER);
	if (listener != (p->seccomp_sock >= 0))
		failx("plan: SECCOMP_FD_SOCK must come with SECCOMP_FLAGS NEW_LISTENER, and only with it");
}

bool plan_has_userns(const struct plan *p)
{
	if (p->ns_new & CLONE_NEWUSER)
		return true;
	for (size_t i = 0; i < p->n_ns_join; i++)
		if (p->ns_join[i].type == CLONE_NEWUSER)
			return true;
	return false;
}

const char *plan_getenv(const struct plan *p, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < p->env.n; i++)
		if (strncmp(p->env.v[i], name, n) == 0 && p->env.v[i][n] == '=')
			return p->env.v[i] + n + 1;
	return NULL;
}
