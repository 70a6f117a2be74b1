/* Dropping root for good, as the sandboxed helpers do. */
#ifndef PRIVDROP_H
#define PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

#define PRIVDROP_NOBODY	65534

/*
 * Become uid/gid (0 means nobody) with no supplementary groups, and check
 * there is no way back to root. Returns 0, or -1 with a sentence in err.
 */
int	privdrop(uid_t uid, gid_t gid, char *err, size_t errlen);

#endif
