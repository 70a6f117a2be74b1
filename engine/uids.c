/*
 * A uid of its own for each running VM when the engine is root, from the
 * configured range (runner_uid_first, runner_uid_count): the runner and
 * its slirp helpers drop to it, so no two VMs share a uid and a broken
 * runner has no other process of its uid to reach. A uid is taken at
 * launch and given back when the runner has ended and been reaped. An
 * engine that is not root runs everything as itself and takes none.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"

static uint32_t	uids_next;	/* where the next search starts */

static int
uids_taken(uid_t uid)
{
	struct vm *vm;

	TAILQ_FOREACH(vm, &engine->vms, entry)
		if (vm->runner_uid == uid)
			return 1;
	return 0;
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
		if (uid != 0 && !uids_taken(uid)) {
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
