/* Idmapped bind mounts (mount options idmap/ridmap, per-mount uidMappings
 * and gidMappings). The launcher prepares each one before it clones the init,
 * while it is still root in the initial user namespace (the kernel wants
 * CAP_SYS_ADMIN over the source's superblock, which an init in a new user
 * namespace lacks); the init takes the prepared tree, or with a user
 * namespace a clone of it staged where its flags got locked (bindsrc.c), as
 * the bind's source (mounts.c: its flags set, then attached onto the target). */
#ifndef HAKO_IDMAP_H
#define HAKO_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct plan;
struct mount_ent;
struct rec;

struct idmap_line {
	uint32_t container, host, size;
};

struct idmap {
	bool recursive; /* ridmap */
	struct idmap_line *uid, *gid;
	size_t n_uid, n_gid;
	char *userns; /* instead of the lines: a user namespace to take them from */
	int tree;     /* the prepared detached mount: -1 until idmap_prepare, and once staged */
};

/* Decodes the value of an M_IDMAP record; fatal on anything malformed. */
struct idmap *idmap_decode(const struct rec *r);

/* Launcher, before any setns and before the clone: makes the idmapped
 * detached tree of every such mount. */
void idmap_prepare(const struct plan *p);

#endif
