/*
 * Who may touch what: clients are known by SO_PEERCRED and their groups
 * by SO_PEERGROUPS (else /proc/PID/status), never by /etc/group; root may
 * do everything, others act only on VMs they own or whose group they are
 * in, and a root engine opens a user's VM resources only if that user
 * could open them too.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
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

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS	59
#endif

/* The Groups: line of /proc/PID/status; the count, or -1. */
static int
access_proc_groups(pid_t pid, gid_t **out)
{
	char path[64], *line = NULL, *p, *end;
	size_t cap = 0;
	unsigned long g;
	int n = -1, max = 0;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (getline(&line, &cap, f) != -1) {
		if (strncmp(line, "Groups:", 7) != 0)
			continue;
		n = 0;
		for (p = line + 7;; p = end) {
			errno = 0;
			g = strtoul(p, &end, 10);
			if (end == p || errno != 0)
				break;
			if (n == max) {
				max = max != 0 ? max * 2 : 16;
				*out = xreallocarray(*out, max, sizeof **out);
			}
			(*out)[n++] = (gid_t)g;
		}
		break;
	}
	free(line);
	fclose(f);
	return n;
}

int
access_peer_groups(int s, pid_t pid, gid_t **out)
{
	socklen_t len = 64 * sizeof **out;
	int tries;

	*out = NULL;
	for (tries = 0; tries < 2; tries++) {
		*out = xreallocarray(*out, 1, len);
		if (getsockopt(s, SOL_SOCKET, SO_PEERGROUPS, *out, &len) == 0)
			return len / sizeof **out;
		if (errno != ERANGE)
			break;
	}
	free(*out);
	*out = NULL;
	return access_proc_groups(pid, out);
}

/* Root and the engine's own user may act on any VM; others on theirs. */
int
access_may_act(const struct vm *vm, const struct client *cl)
{
	int i;

	if (cl->uid == 0 || cl->uid == geteuid())
		return 1;
	if (!vm->conf->has_owner)
		return 0;
	if (vm->conf->uid == cl->uid)
		return 1;
	if (vm->conf->gid == (gid_t)-1)
		return 0;
	if (cl->gid == vm->conf->gid)
		return 1;
	for (i = 0; i < cl->ngroups; i++)
		if (cl->groups[i] == vm->conf->gid)
			return 1;
	return 0;
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
