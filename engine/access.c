/*
 * Who may touch what: clients are known by SO_PEERCRED; root may do
 * everything, others act only on VMs they own, and a root engine opens a
 * user's VM resources only if that user could open them too.
 */
#include <sys/stat.h>

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "xmalloc.h"

void
owner_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw;

	if ((pw = getpwuid(uid)) != NULL)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "%u", (unsigned)uid);
}

/* Whose a VM is: its owner's, else the engine's own user's. */
uid_t
access_owner(const struct vm *vm)
{
	return vm->conf->has_owner ? vm->conf->uid : geteuid();
}

int
access_in_group(uid_t uid, gid_t gid, gid_t group)
{
	struct passwd *pw;
	gid_t *groups;
	int i, n = 64, found = 0;

	if (gid == group)
		return 1;
	if ((pw = getpwuid(uid)) == NULL)
		return 0;
	groups = xreallocarray(NULL, n, sizeof *groups);
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) == -1) {
		groups = xreallocarray(groups, n, sizeof *groups);
		if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) == -1)
			n = 0;
	}
	for (i = 0; i < n && !found; i++)
		found = groups[i] == group;
	free(groups);
	return found;
}

int
access_file_ok(const struct stat *st, uid_t uid, gid_t gid, int write)
{
	mode_t want = write ? 06 : 04;

	if (uid == 0)
		return 1;
	if (st->st_uid == uid)
		return ((st->st_mode >> 6) & want) == want;
	if (access_in_group(uid, gid, st->st_gid))
		return ((st->st_mode >> 3) & want) == want;
	return (st->st_mode & want) == want;
}
