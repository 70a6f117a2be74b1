/*
 * A uid of its own for each running VM when the engine is root, from the
 * configured range (runner_uid_first, runner_uid_count): the runner and
 * its slirp helpers drop to it, so no two VMs share a uid and a broken
 * runner has no other process of its uid to reach. A uid is taken at
 * launch and given back when the runner has ended and been reaped; an
 * adopted runner's is claimed again, and one recorded in runners/ for a
 * runner left alone is never handed out. An engine that is not root runs
 * everything as itself and takes none.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "xmalloc.h"

static uint32_t	uids_next;	/* where the next search starts */

/* A uid held by a runner recorded in runners/ that was not adopted. */
struct uids_kept {
	TAILQ_ENTRY(uids_kept) entry;
	char	name[VM_NAME_SIZE];
	uid_t	uid;
};
static TAILQ_HEAD(, uids_kept) uids_kept = TAILQ_HEAD_INITIALIZER(uids_kept);

static int
uids_taken(uid_t uid, struct vm *self)
{
	struct uids_kept *k;
	struct vm *vm;

	TAILQ_FOREACH(vm, &engine->vms, entry)
		if (vm != self && vm->runner_uid == uid)
			return 1;
	TAILQ_FOREACH(k, &uids_kept, entry)
		if (k->uid == uid)
			return 1;
	return 0;
}

int
uids_may_claim(struct vm *self, uid_t uid)
{
	uid_t first = engine->conf.runner_uid_first;
	uint32_t count = engine->conf.runner_uid_count;

	if (uid == 0 || uid < first || uid - first >= count)
		return 0;
	return !uids_taken(uid, self);
}

void
uids_reserve(const char *name, uid_t uid)
{
	struct uids_kept *k;

	if (uid == 0)
		return;
	k = xcalloc(1, sizeof *k);
	snprintf(k->name, sizeof k->name, "%s", name);
	k->uid = uid;
	TAILQ_INSERT_TAIL(&uids_kept, k, entry);
}

/* name's state file is gone: the uid it recorded is free again. */
void
uids_unreserve(const char *name)
{
	struct uids_kept *k, *next;

	TAILQ_FOREACH_SAFE(k, &uids_kept, entry, next) {
		if (strcmp(k->name, name) != 0)
			continue;
		TAILQ_REMOVE(&uids_kept, k, entry);
		free(k);
	}
}

/* Give vm a free uid of the range (root only): 0, or -1 and err. */
int
uids_alloc(struct vm *vm, char *err, size_t errlen)
{
	uid_t first = engine->conf.runner_uid_first;
	uint32_t count = engine->conf.runner_uid_count, i;
	uid_t uid;

	if (vm->runner_uid != 0 || geteuid() != 0)
		return 0;
	for (i = 0; i < count; i++) {
		uid = first + (uids_next + i) % count;
		if (uid != 0 && !uids_taken(uid, NULL)) {
			uids_next = (uids_next + i + 1) % count;
			vm->runner_uid = uid;
			return 0;
		}
	}
	snprintf(err, errlen, "vm %s: every runner uid (%u from %u) is in "
	    "use", vm->conf->name, (unsigned)count, (unsigned)first);
	errno = EAGAIN;
	return -1;
}

/* Give vm's uid back; its runner and helpers have ended. */
void
uids_free(struct vm *vm)
{
	vm->runner_uid = 0;
}

/*
 * The uid and gid vm's sandboxed processes (runner, slirp helpers) drop
 * to when started as root: its own uid, as gid too; without one (an
 * engine that is not root: they do not drop) the owner's, or 0 (nobody).
 */
void
uids_of(struct vm *vm, uint32_t *uid, uint32_t *gid)
{
	struct conf_vm *c = vm->conf;

	if (vm->runner_uid != 0) {
		*uid = *gid = vm->runner_uid;
		return;
	}
	*uid = c->has_owner ? c->uid : 0;
	*gid = c->has_owner && c->gid != (gid_t)-1 ? c->gid : 0;
}
