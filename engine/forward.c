/*
 * Host forwards added to a running VM's user-mode NIC (forward and
 * unforward): a rule is parsed once, in the forward form of
 * lib/hostfwd.c, checked against the VM's other rules, handed to the
 * NIC's vmtop-slirp (netif_hostfwd) and kept in the VM in vm.conf's form,
 * for show and for the helpers of a restart after a guest reboot, until
 * the VM stops; its state file holds them for an engine that adopts it.
 */
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "hostfwd.h"
#include "log.h"

/*
 * The NIC that nic names (FORWARD_ANY_NIC: the first user-mode one), or
 * -1 with a sentence in err.
 */
static int
forward_nic(struct vm *vm, uint32_t nic, char *err, size_t errlen)
{
	struct conf_vm	*c = vm->conf;
	int		 i;

	if (nic == FORWARD_ANY_NIC) {
		for (i = 0; i < c->nnics; i++)
			if (c->nics[i].type == NIC_USER)
				return i;
		snprintf(err, errlen, "vm %s has no user-mode interface",
		    c->name);
		return -1;
	}
	if (nic >= (uint32_t)c->nnics) {
		snprintf(err, errlen, "vm %s has no interface %u", c->name,
		    nic);
		return -1;
	}
	if (c->nics[nic].type != NIC_USER) {
		snprintf(err, errlen, "vm %s: interface %u is a tap, not "
		    "user-mode", c->name, nic);
		return -1;
	}
	return nic;
}

/* The rule of vm (vm.conf's or added) that takes hf's host port, or NULL. */
static const char *
forward_taken(struct vm *vm, const struct hostfwd *hf)
{
	struct conf_vm	*c = vm->conf;
	struct hostfwd	 other;
	int		 i, j;

	for (i = 0; i < c->nnics; i++)
		for (j = 0; j < c->nics[i].nhostfwd; j++)
			if (hostfwd_parse(c->nics[i].hostfwd[j], &other) ==
			    NULL && hostfwd_clash(hf, &other))
				return c->nics[i].hostfwd[j];
	for (i = 0; i < vm->nforwards; i++)
		if (hostfwd_parse(vm->forwards[i].rule, &other) == NULL &&
		    hostfwd_clash(hf, &other))
			return vm->forwards[i].rule;
	return NULL;
}

/* The rules go in vm's state file too, for an engine that adopts it. */
static void
forward_saved(struct vm *vm)
{
	if (vm->statefile)
		state_write(vm);
}

/* Parse a rule of vm's (as hostfwd_parse_forward); -1 with err. */
static int
forward_parse(struct vm *vm, const char *text, int host_only,
    struct hostfwd *hf, char *err, size_t errlen)
{
	const char	*why;

	if ((why = hostfwd_parse_forward(text, host_only, hf)) == NULL)
		return 0;
	snprintf(err, errlen, "vm %s: invalid forward \"%s\": %s",
	    vm->conf->name, text, why);
	return -1;
}

/* Whether vm runs, so that its helpers do; else a sentence in err. */
static int
forward_running(struct vm *vm, const char *rule, char *err, size_t errlen)
{
	if (vm->state == VM_RUNNING || vm->state == VM_PAUSED)
		return 0;
	snprintf(err, errlen, "vm %s: forward %s: the vm is %s, not running",
	    vm->conf->name, rule, proto_state_name(vm->state));
	return -1;
}

int
forward_add(struct vm *vm, uint32_t nic, const char *text, char *err,
    size_t errlen)
{
	struct vm_forward	*f;
	struct hostfwd		 hf;
	const char		*why, *name = vm->conf->name;
	char			 rule[VM_HOSTFWD_SIZE];
	int			 i;

	if (forward_parse(vm, text, 0, &hf, err, errlen) == -1)
		return -1;
	hostfwd_format(&hf, rule, sizeof rule);
	if (forward_running(vm, rule, err, errlen) == -1 ||
	    (i = forward_nic(vm, nic, err, errlen)) == -1)
		return -1;
	if ((why = forward_taken(vm, &hf)) != NULL) {
		snprintf(err, errlen, "vm %s: forward %s: its host port is "
		    "taken by %s", name, rule, why);
		return -1;
	}
	if (vm->nforwards >= VM_MAX_FORWARDS) {
		snprintf(err, errlen, "vm %s: forward %s: it has %d forwards, "
		    "the most there may be", name, rule, VM_MAX_FORWARDS);
		return -1;
	}
	if (netif_hostfwd(vm, i, MSG_SLIRP_HOSTFWD_ADD, rule, err,
	    errlen) == -1)
		return -1;
	f = &vm->forwards[vm->nforwards++];
	f->nic = i;
	snprintf(f->rule, sizeof f->rule, "%s", rule);
	log_info("vm %s: interface %d: forward %s", name, i, rule);
	forward_saved(vm);
	return 0;
}

int
forward_remove(struct vm *vm, uint32_t nic, const char *text, char *err,
    size_t errlen)
{
	struct vm_forward	*f = NULL;
	struct hostfwd		 hf, other;
	const char		*why, *name = vm->conf->name;
	char			 rule[VM_HOSTFWD_SIZE];
	int			 i;

	if (forward_parse(vm, text, 1, &hf, err, errlen) == -1 ||
	    forward_running(vm, text, err, errlen) == -1)
		return -1;
	for (i = 0; i < vm->nforwards; i++) {
		f = &vm->forwards[i];
		if (hostfwd_parse(f->rule, &other) != NULL ||
		    !hostfwd_same(&hf, &other) ||
		    (nic != FORWARD_ANY_NIC && (uint32_t)f->nic != nic))
			continue;
		if (hf.guest_port != 0 && (hf.guest_port != other.guest_port ||
		    hf.guest_addr.s_addr != other.guest_addr.s_addr))
			continue;
		break;
	}
	if (i == vm->nforwards) {
		why = forward_taken(vm, &hf);
		snprintf(err, errlen, "vm %s: unforward %s: %s", name, text,
		    why != NULL ? "that rule is vm.conf's; it stays until the "
		    "vm stops" : "no forward added with that host port");
		return -1;
	}
	snprintf(rule, sizeof rule, "%s", f->rule);
	if (netif_hostfwd(vm, f->nic, MSG_SLIRP_HOSTFWD_REMOVE, rule, err,
	    errlen) == -1)
		return -1;
	log_info("vm %s: interface %d: unforward %s", name, f->nic, rule);
	*f = vm->forwards[--vm->nforwards];
	forward_saved(vm);
	return 0;
}
