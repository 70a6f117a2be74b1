/*
 * Per-user limits on what a start may make the engine run: the memory and
 * vCPUs of a user's active VMs in all, and how many ad hoc VMs a user may
 * have defined (engine/config.h, struct conf_limits). Requests of root and
 * of the engine's own user are bound by none of them, and neither are VMs
 * without an owner (root's).
 */
#include <sys/queue.h>
#include <sys/types.h>

#include <event2/event.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "size.h"

/* A VM that holds memory and vCPUs: not stopped, not failed. */
static int
limits_active(const struct vm *vm)
{
	return vm->state != VM_STOPPED && vm->state != VM_FAILED;
}

static int
limits_owned_by(const struct vm *vm, uid_t uid)
{
	return vm->conf->has_owner && vm->conf->uid == uid;
}

/*
 * Whether uid may start conf as vm (NULL: a new ad hoc VM, not in the
 * registry yet) without passing the limits of conf's owner. Returns 0, or
 * -1 with a sentence naming the VM, the user, the limit and what is in use
 * in err.
 */
int
limits_check_start(struct vm *vm, const struct conf_vm *conf, uid_t uid,
    char *err, size_t errlen)
{
	const struct conf_limits *l = &engine->conf.limits;
	struct vm *v;
	uint64_t memory = 0;
	uint32_t vcpus = 0, adhoc = 0;
	char user[32], in_use[32], limit[32], want[32];
	uid_t owner;

	if (uid == 0 || uid == geteuid() || !conf->has_owner ||
	    conf->uid == 0)
		return 0;
	owner = conf->uid;
	TAILQ_FOREACH(v, &engine->vms, entry) {
		if (v == vm || !limits_owned_by(v, owner))
			continue;
		if (v->adhoc)
			adhoc++;
		if (!limits_active(v))
			continue;
		memory += v->conf->memory;
		vcpus += v->conf->vcpus;
	}
	owner_name(owner, user, sizeof user);
	if (vm == NULL && l->user_adhoc != 0 && adhoc >= l->user_adhoc) {
		snprintf(err, errlen, "vm %s: user %s already has %u ad hoc "
		    "vms, the limit", conf->name, user, adhoc);
		return -1;
	}
	if (l->user_memory != 0 && (conf->memory > l->user_memory ||
	    memory > l->user_memory - conf->memory)) {
		size_format(conf->memory, want, sizeof want);
		size_format(l->user_memory, limit, sizeof limit);
		size_format(memory, in_use, sizeof in_use);
		snprintf(err, errlen, "vm %s: memory %s would exceed user %s's "
		    "limit of %s (%s in use)", conf->name, want, user, limit,
		    in_use);
		return -1;
	}
	if (l->user_vcpus != 0 && (conf->vcpus > l->user_vcpus ||
	    vcpus > l->user_vcpus - conf->vcpus)) {
		snprintf(err, errlen, "vm %s: %u vcpus would exceed user %s's "
		    "limit of %u (%u in use)", conf->name, conf->vcpus, user,
		    l->user_vcpus, vcpus);
		return -1;
	}
	return 0;
}
