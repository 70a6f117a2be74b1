/* The one way vmtop's sandboxed processes give up root. */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "privdrop.h"

int
privdrop(uid_t uid, gid_t gid, char *err, size_t errlen)
{
	if (uid == 0)
		uid = PRIVDROP_NOBODY;
	if (gid == 0)
		gid = PRIVDROP_NOBODY;
	if (setgroups(0, NULL) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1) {
		snprintf(err, errlen, "dropping to uid %u gid %u: %s",
		    (unsigned)uid, (unsigned)gid, strerror(errno));
		return -1;
	}
	if (setuid(0) != -1) {
		snprintf(err, errlen, "uid %u could become root again",
		    (unsigned)uid);
		return -1;
	}
	return 0;
}
