/* Bind sources staged by the launcher as host root, for the init to take
 * where its own lookup is refused, and idmapped trees, staged so that their
 * flags get locked (bindsrc.c says when and why). */
#ifndef HAKO_BINDSRC_H
#define HAKO_BINDSRC_H

#include "plan.h"

/* Launcher, before the joins and before it unshares a new user namespace. */
void bindsrc_prepare(const struct plan *p);
/* Init, first thing (its working directory is the staging one). */
void bindsrc_init(void);
/* Init: an O_PATH fd of mount m's (of p->mounts) staged source, or -1 when
 * none was staged. */
int bindsrc_open(const struct plan *p, const struct mount_ent *m);
/* Init, right after the mounts. */
void bindsrc_done(void);

#endif
