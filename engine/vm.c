/*
 * The VM registry and its state machine: stopped -> starting -> running
 * <-> paused -> stopping -> stopped, or failed with a reason. Starts go
 * through the rate limit, resource opening and the runner hand-off.
 */
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "engine.h"
#include "log.h"
#include "msg.h"
#include "xmalloc.h"

struct vm *
vm_find(const char *name)
{
	struct vm *vm;

	TAILQ_FOREACH(vm, &engine->vms, entry)
		if (strcmp(vm->conf->name, name) == 0)
			return vm;
	return NULL;
}

struct vm *
vm_find_id(uint32_t id)
{
	struct vm *vm;

	TAILQ_FOREACH(vm, &engine->vms, entry)
		if (vm->id == id)
			return vm;
	return NULL;
}

struct vm *
vm_find_pid(pid_t pid)
{
	struct vm *vm;

	TAILQ_FOREACH(vm, &engine->vms, entry)
		if (vm->pid == pid && pid != 0)
			return vm;
	return NULL;
}

/* Add a VM to the registry; it takes conf. */
struct vm *
vm_add(struct conf_vm *conf, int adhoc)
{
	struct vm *vm;

	vm = xcalloc(1, sizeof *vm);
	vm->id = ++engine->nextid;
	vm->conf = conf;
	vm->adhoc = adhoc;
	vm->state = VM_STOPPED;
	vm->pty = -1;
	capture_init(&vm->capture);
	TAILQ_INSERT_TAIL(&engine->vms, vm, entry);
	return vm;
}

void
vm_remove(struct vm *vm)
{
	control_wake(vm, -1, "the vm was removed");
	stagger_cancel(vm);
	TAILQ_REMOVE(&engine->vms, vm, entry);
	if (vm->runner != NULL)
		msgconn_free(vm->runner);
	if (vm->pty != -1)
		close(vm->pty);
	if (vm->retry != NULL)
		event_free(vm->retry);
	capture_free(&vm->capture);
	conf_vm_free(vm->conf);
	if (vm->next_conf != NULL)
		conf_vm_free(vm->next_conf);
	free(vm);
}

void
vm_set_state(struct vm *vm, enum vm_state state)
{
	if (vm->state == state)
		return;
	log_debug("vm %s: %s -> %s", vm->conf->name, proto_state_name(vm->state),
	    proto_state_name(state));
	vm->state = state;
	if (state != VM_FAILED)
		vm->reason[0] = '\0';
	control_broadcast_vm(vm);
}

/* Mark the VM failed with a reason that names it. */
void
vm_fail(struct vm *vm, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vm->reason, sizeof vm->reason, fmt, ap);
	va_end(ap);
	log_warnx("%s", vm->reason);
	vm->state = VM_FAILED;
	control_broadcast_vm(vm);
}

/* Root and the engine's own user may act on any VM; others on theirs. */
int
vm_may_act(struct vm *vm, uid_t uid, gid_t gid)
{
	if (uid == 0 || uid == geteuid())
		return 1;
	if (!vm->conf->has_owner)
		return 0;
	if (vm->conf->uid == uid)
		return 1;
	return vm->conf->gid != (gid_t)-1 &&
	    access_in_group(uid, gid, vm->conf->gid);
}

static void
vm_release(struct vm *vm)
{
	netif_release(vm);
	if (vm->pty != -1)
		close(vm->pty);
	vm->pty = -1;
	vm->tty[0] = '\0';
	capture_stopped(&vm->capture);
}

/* Swap in a reload's config now that the VM is stopped. */
static void
vm_settle(struct vm *vm)
{
	if (vm->removed) {
		vm_remove(vm);
		return;
	}
	if (vm->next_conf != NULL) {
		conf_vm_free(vm->conf);
		vm->conf = vm->next_conf;
		vm->next_conf = NULL;
	}
}

int
vm_start(struct vm *vm, char *err, size_t errlen)
{
	struct resources res;

	if (vm->state != VM_STOPPED && vm->state != VM_FAILED) {
		snprintf(err, errlen, "vm %s is already %s", vm->conf->name,
		    proto_state_name(vm->state));
		return -1;
	}
	stagger_cancel(vm);
	if (ratelimit_start(&vm->rl, ratelimit_now()) == -1) {
		vm_release(vm);
		vm_fail(vm, "vm %s: restarted too quickly (%d starts less "
		    "than %llu s apart); not starting it again",
		    vm->conf->name, RATELIMIT_MAX_FAST,
		    RATELIMIT_FAST_NS / 1000000000ULL);
		snprintf(err, errlen, "%s", vm->reason);
		return -1;
	}
	vm->stop_requested = vm->force_stop = 0;
	resources_init(&res);
	if (resources_open(vm, &res, err, errlen) == -1 ||
	    runner_launch(vm, &res, err, errlen) == -1) {
		resources_close(&res);
		vm_release(vm);
		vm_fail(vm, "%s", err);
		return -1;
	}
	resources_close(&res);
	vm_set_state(vm, VM_STARTING);
	return 0;
}

int
vm_stop(struct vm *vm, int force, char *err, size_t errlen)
{
	switch (vm->state) {
	case VM_STOPPED:
	case VM_FAILED:
		snprintf(err, errlen, "vm %s is not running", vm->conf->name);
		return -1;
	case VM_STARTING:
		force = 1;
		break;
	case VM_STOPPING:
		if (!force)
			return 0;
		break;
	default:
		break;
	}
	vm->stop_requested = 1;
	if (force) {
		vm->force_stop = 1;
		if (vm->pid > 0)
			kill(vm->pid, SIGKILL);
	} else {
		if (vm->state == VM_PAUSED)
			runner_send(vm, MSG_RUN_UNPAUSE);
		runner_send(vm, MSG_RUN_SHUTDOWN);
	}
	vm_set_state(vm, VM_STOPPING);
	return 0;
}

static void
vm_retry_cb(int fd, short events, void *arg)
{
	struct vm *vm = arg;
	char err[PROTO_TEXT_SIZE];

	(void)fd;
	(void)events;
	if (vm_start(vm, err, sizeof err) == -1)
		control_wake(vm, -1, vm->reason);
	else
		vm->restarts++;
}

/* Describe how a runner ended, for the failed state. */
static void
vm_exit_reason(struct vm *vm, int status)
{
	if (vm->reason[0] != '\0')
		return;
	if (WIFSIGNALED(status))
		snprintf(vm->reason, sizeof vm->reason,
		    "vm %s: runner killed by signal %d (%s)", vm->conf->name,
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(vm->reason, sizeof vm->reason,
		    "vm %s: runner exited with status %d", vm->conf->name,
		    WEXITSTATUS(status));
}

void
vm_runner_exited(struct vm *vm, int status)
{
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	int reboot = code == RUNNER_EXIT_REBOOT && !vm->stop_requested;
	char reason[PROTO_TEXT_SIZE];

	log_debug("vm %s: runner %d ended (status 0x%x)", vm->conf->name,
	    (int)vm->pid, status);
	if (vm->runner != NULL) {
		msgconn_free(vm->runner);
		vm->runner = NULL;
	}
	vm->pid = 0;
	/* The runner's slirp helpers go with it, even across a reboot. */
	netif_release(vm);
	snprintf(reason, sizeof reason, "%s", vm->reason);
	vm->reason[0] = '\0';
	if (reboot) {
		/* A guest reboot: start again through the same path. */
		vm->state = VM_STOPPED;
		if (vm->retry == NULL)
			vm->retry = evtimer_new(engine->base, vm_retry_cb, vm);
		event_active(vm->retry, EV_TIMEOUT, 0);
		return;
	}
	if (code == RUNNER_EXIT_POWEROFF || vm->force_stop ||
	    (vm->stop_requested && code != RUNNER_EXIT_ERROR)) {
		vm_release(vm);
		vm_set_state(vm, VM_STOPPED);
		control_wake(vm, WAIT_START, "the vm stopped before it was "
		    "ready");
		control_wake(vm, -1, NULL);
	} else {
		snprintf(vm->reason, sizeof vm->reason, "%s", reason);
		vm_exit_reason(vm, status);
		snprintf(reason, sizeof reason, "%s", vm->reason);
		vm_release(vm);
		vm_fail(vm, "%s", reason);
		control_wake(vm, -1, reason);
	}
	vm_settle(vm);
}

void
vm_fill_info(struct vm *vm, struct proto_vm_info *info)
{
	memset(info, 0, sizeof *info);
	info->id = vm->id;
	info->state = vm->state;
	snprintf(info->name, sizeof info->name, "%s", vm->conf->name);
	snprintf(info->tty, sizeof info->tty, "%s", vm->tty);
	if (vm->conf->has_owner) {
		info->flags |= VMINFO_OWNED;
		info->uid = vm->conf->uid;
		if (vm->owner[0] == '\0' || vm->owner_uid != vm->conf->uid) {
			owner_name(vm->conf->uid, vm->owner, sizeof vm->owner);
			vm->owner_uid = vm->conf->uid;
		}
		memcpy(info->owner, vm->owner, sizeof info->owner);
	}
	if (vm->conf->enabled)
		info->flags |= VMINFO_ENABLED;
	if (vm->adhoc)
		info->flags |= VMINFO_ADHOC;
	info->memory = vm->conf->memory;
	info->vcpus = vm->conf->vcpus;
	info->pid = vm->pid;
	info->restarts = vm->restarts;
	info->started = vm->state == VM_STOPPED || vm->state == VM_FAILED ?
	    0 : vm->started;
	snprintf(info->reason, sizeof info->reason, "%s", vm->reason);
	info->stats = vm->stats;
	info->stats_time_ns = vm->stats_ns;
}

/*
 * Apply a new config: add new VMs, update stopped ones, and leave running
 * ones alone until they stop. VMs gone from the config are dropped once
 * stopped; ad hoc VMs stay.
 */
void
vm_apply_config(struct config *conf)
{
	struct conf_vm *cv;
	struct vm *vm, *next;

	TAILQ_FOREACH_SAFE(vm, &engine->vms, entry, next) {
		if (vm->adhoc || config_find_vm(conf, vm->conf->name) != NULL)
			continue;
		if (vm->state == VM_STOPPED || vm->state == VM_FAILED)
			vm_remove(vm);
		else
			vm->removed = 1;
	}
	TAILQ_FOREACH(cv, &conf->vms, entry) {
		if ((vm = vm_find(cv->name)) == NULL) {
			vm_add(conf_vm_dup(cv), 0);
			continue;
		}
		vm->removed = 0;
		vm->adhoc = 0;
		if (vm->state == VM_STOPPED || vm->state == VM_FAILED) {
			conf_vm_free(vm->conf);
			vm->conf = conf_vm_dup(cv);
		} else {
			if (vm->next_conf != NULL)
				conf_vm_free(vm->next_conf);
			vm->next_conf = conf_vm_dup(cv);
		}
	}
}
