/* Dropping root for good, and the sandbox pieces the helpers share. */
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

/*
 * Not root: enter a user namespace that maps our uid and gid to
 * themselves, setgroups denied. Returns 0, or -1 with errno set.
 */
int	privdrop_userns(void);
/*
 * In a mount namespace of our own: an empty 4 KiB tmpfs becomes the
 * root, read-only, nosuid, nodev, noexec; the old root is detached. keep,
 * if not NULL, is one host file (an absolute path) bound read-only at the
 * same path inside. Returns 0, or -1 with errno set.
 */
int	privdrop_pivot(const char *keep);

#endif
