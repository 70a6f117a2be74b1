/*
 * The VM registry and its state machine: stopped -> starting -> running
 * <-> paused -> stopping -> stopped, or failed with a reason. Every change
 * of state goes through vm_transition() and its table, which logs it and
 * tells subscribers; waiters are answered here too. Starts and restarts
 * go through the rate limit and the runner (vm_ops).
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

#define VM_S(state)	(1U << (state))
#define VM_ACTIVE	(VM_S(VM_STARTING) | VM_S(VM_RUNNING) | \
			    VM_S(VM_PAUSED) | VM_S(VM_STOPPING))
#define VM_ANY		((1U << VM_STATE_COUNT) - 1)

/*
 * Each event: the states it may happen in, the state it leads to, and the
 * sentence (taking the VM's name and state) that refuses a request for it
 * in any other state; NULL for events only the runner brings.
 */
static const struct vm_edge {
	const char	*name;
	unsigned int	 from;
	enum vm_state	 to;
	const char	*refusal;
} vm_edges[VM_EV_COUNT] = {
	[VM_EV_START] = { "start", VM_S(VM_STOPPED) | VM_S(VM_FAILED),
	    VM_STARTING, "vm %s is already %s" },
	[VM_EV_READY] = { "ready", VM_S(VM_STARTING), VM_RUNNING, NULL },
	[VM_EV_PAUSE] = { "pause", VM_S(VM_RUNNING), VM_PAUSED,
	    "vm %s is %s, not running" },
	[VM_EV_UNPAUSE] = { "unpause", VM_S(VM_PAUSED), VM_RUNNING,
	    "vm %s is %s, not paused" },
	[VM_EV_STOP] = { "stop", VM_ACTIVE, VM_STOPPING,
	    "vm %s is not running" },
	[VM_EV_EXIT] = { "exit", VM_ACTIVE, VM_STOPPED, NULL },
	[VM_EV_RESTART] = { "restart", VM_S(VM_STARTING) | VM_S(VM_RUNNING) |
	    VM_S(VM_PAUSED), VM_STARTING, NULL },
	[VM_EV_FAIL] = { "fail", VM_ANY, VM_FAILED, NULL },
	[VM_EV_ADOPT] = { "adopt", VM_S(VM_STOPPED) | VM_S(VM_FAILED),
	    VM_RUNNING, NULL },
};

static const struct vm_ops vm_runner_ops = {
	runner_launch, runner_send, runner_kill, ratelimit_now
};
static const struct vm_ops *vm_ops = &vm_runner_ops;

static void	vm_wake(struct vm *, int, const char *);

void
vm_set_ops(const struct vm_ops *ops)
{
	vm_ops = ops != NULL ? ops : &vm_runner_ops;
}

int
vm_can(const struct vm *vm, enum vm_event ev)
{
	return (vm_edges[ev].from & VM_S(vm->state)) != 0;
}

const char *
vm_event_name(enum vm_event ev)
{
	return vm_edges[ev].name;
}

/* Refuse a request for ev that the table does not allow: -1 and err. */
static int
vm_check(struct vm *vm, enum vm_event ev, char *err, size_t errlen)
{
	if (vm_can(vm, ev))
		return 0;
	snprintf(err, errlen, vm_edges[ev].refusal, vm->conf->name,
	    proto_state_name(vm->state));
	return -1;
}

/*
 * Take vm along ev: log the change and tell the subscribers. An event the
 * table does not allow changes nothing and returns -1.
 */
static int
vm_transition(struct vm *vm, enum vm_event ev)
{
	const struct vm_edge *e = &vm_edges[ev];

	if (!vm_can(vm, ev)) {
		log_debug("vm %s: %s refused while %s", vm->conf->name,
		    e->name, proto_state_name(vm->state));
		return -1;
	}
	/* A new failure of a failed VM changes only its reason. */
	if (vm->state == e->to && ev != VM_EV_FAIL)
		return 0;
	if (vm->state != e->to)
		log_debug("vm %s: %s -> %s", vm->conf->name,
		    proto_state_name(vm->state), proto_state_name(e->to));
	vm->state = e->to;
	if (e->to != VM_FAILED)
		vm->reason[0] = '\0';
	control_broadcast_vm(vm);
	return 0;
}

/* Mark the VM failed with a reason that names it. */
static void __attribute__((format(printf, 2, 3)))
vm_fail(struct vm *vm, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vm->reason, sizeof vm->reason, fmt, ap);
	va_end(ap);
	log_warnx("%s", vm->reason);
	vm_transition(vm, VM_EV_FAIL);
}

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
	vm->pidfd = -1;
	capture_init(&vm->capture);
	TAILQ_INSERT_TAIL(&engine->vms, vm, entry);
	return vm;
}

void
vm_remove(struct vm *vm)
{
	vm_wake(vm, -1, "the vm was removed");
	stagger_cancel(vm);
	resources_forget(vm);
	TAILQ_REMOVE(&engine->vms, vm, entry);
	if (vm->runner != NULL)
		msgconn_free(vm->runner);
	if (vm->pty != -1)
		close(vm->pty);
	if (vm->retry != NULL)
		event_free(vm->retry);
	if (vm->pidfd_ev != NULL)
		event_free(vm->pidfd_ev);
	if (vm->gone_timer != NULL)
		event_free(vm->gone_timer);
	if (vm->pidfd != -1)
		close(vm->pidfd);
	capture_free(&vm->capture);
	/* Not while a runner (left unadopted) may still read it. */
	if (engine->statedir != NULL && vm->pid == 0)
		cloudinit_remove(engine->statedir, vm->conf->name);
	conf_vm_free(vm->conf);
	if (vm->next_conf != NULL)
		conf_vm_free(vm->next_conf);
	free(vm);
}

/*
 * The VM has stopped for good: its pty, helpers, the rules forward added
 * and runner files go.
 */
static void
vm_release(struct vm *vm)
{
	if (vm->statefile)
		state_remove(vm->conf->name);
	vm->statefile = 0;
	netif_release(vm);
	vm->nforwards = 0;
	if (vm->pty != -1)
		close(vm->pty);
	vm->pty = -1;
	vm->tty[0] = '\0';
	capture_stopped(&vm->capture);
}

/*
 * Swap in a reload's config now that the VM is stopped. A VM gone from
 * the config, or an ad hoc one that failed, is dropped.
 */
static void
vm_settle(struct vm *vm)
{
	if (vm->removed || (vm->adhoc && vm->state == VM_FAILED)) {
		vm_remove(vm);
		return;
	}
	if (vm->next_conf != NULL) {
		conf_vm_free(vm->conf);
		vm->conf = vm->next_conf;
		vm->next_conf = NULL;
	}
	vm->changed = 0;
}

/* Answer the waiters of vm of kind (every kind if -1), one at a time. */
static void
vm_wake(struct vm *vm, int kind, const char *err)
{
	struct waiter *w;

	for (;;) {
		TAILQ_FOREACH(w, &engine->waiters, entry)
			if (w->vmid == vm->id && (kind == -1 ||
			    (int)w->kind == kind))
				break;
		if (w == NULL)
			return;
		/* A callback may cancel other waiters: search again. */
		TAILQ_REMOVE(&engine->waiters, w, entry);
		w->fn(vm, err, w->arg);
		free(w);
	}
}

void
vm_wait(struct vm *vm, enum wait_kind kind, vm_wake_cb fn, void *arg)
{
	struct waiter *w;

	if (vm->state == VM_FAILED && kind != WAIT_RUNNER) {
		fn(vm, vm->reason, arg);
		return;
	}
	if ((kind == WAIT_STOP && vm->state == VM_STOPPED) ||
	    (kind == WAIT_START && (vm->state == VM_RUNNING ||
	    vm->state == VM_PAUSED))) {
		fn(vm, NULL, arg);
		return;
	}
	if (kind == WAIT_START && vm->state == VM_STOPPED) {
		fn(vm, "the vm stopped before it was ready", arg);
		return;
	}
	w = xcalloc(1, sizeof *w);
	w->kind = kind;
	w->vmid = vm->id;
	w->fn = fn;
	w->arg = arg;
	TAILQ_INSERT_TAIL(&engine->waiters, w, entry);
}

void
vm_wait_cancel(void *arg)
{
	struct waiter *w, *next;

	TAILQ_FOREACH_SAFE(w, &engine->waiters, entry, next) {
		if (w->arg != arg)
			continue;
		TAILQ_REMOVE(&engine->waiters, w, entry);
		free(w);
	}
}

/*
 * Count a start against the rate limit and launch the runner. Returns 0,
 * or -1 with the VM failed and its reason in err.
 */
static int
vm_launch(struct vm *vm, char *err, size_t errlen)
{
	struct ratelimit *rl = &vm->rl;

	if (ratelimit_start(rl, vm_ops->now()) == -1) {
		vm_release(vm);
		vm_fail(vm, "vm %s: restarted too quickly (%d starts less "
		    "than %llu s apart); not starting it again",
		    vm->conf->name, RATELIMIT_MAX_FAST,
		    RATELIMIT_FAST_NS / 1000000000ULL);
		snprintf(err, errlen, "%s", vm->reason);
		return -1;
	}
	vm->stop_requested = vm->force_stop = 0;
	if (vm_ops->launch(vm, err, errlen) == -1) {
		vm_release(vm);
		vm_fail(vm, "%s", err);
		return -1;
	}
	return 0;
}

int
vm_start(struct vm *vm, char *err, size_t errlen)
{
	if (vm_check(vm, VM_EV_START, err, errlen) == -1)
		return -1;
	stagger_cancel(vm);
	if (vm_launch(vm, err, errlen) == -1)
		return -1;
	vm_transition(vm, VM_EV_START);
	return 0;
}

int
vm_start_conf(struct vm *vm, struct conf_vm *conf, char *err, size_t errlen)
{
	if (vm_check(vm, VM_EV_START, err, errlen) == -1) {
		conf_vm_free(conf);
		return -1;
	}
	/* Ad hoc options last for this run; the config returns at stop. */
	if (vm->next_conf == NULL)
		vm->next_conf = vm->conf;
	else
		conf_vm_free(vm->conf);
	vm->conf = conf;
	return vm_start(vm, err, errlen);
}

/*
 * Ask the guest to power off, or (force, or a VM not yet running) end its
 * runner. The VM is stopping until the runner's exit is reaped.
 */
int
vm_stop(struct vm *vm, int force, char *err, size_t errlen)
{
	if (vm_check(vm, VM_EV_STOP, err, errlen) == -1)
		return -1;
	if (vm->state == VM_STARTING)
		force = 1;
	else if (vm->state == VM_STOPPING && !force)
		return 0;
	vm->stop_requested = 1;
	if (force) {
		vm->force_stop = 1;
		vm_ops->kill(vm);
	} else {
		if (vm->state == VM_PAUSED)
			vm_ops->send(vm, MSG_RUN_UNPAUSE);
		vm_ops->send(vm, MSG_RUN_SHUTDOWN);
	}
	vm_transition(vm, VM_EV_STOP);
	return 0;
}

/* Ask the runner to pause or unpause; its answer comes to waiters. */
static int
vm_pause_op(struct vm *vm, enum vm_event ev, uint32_t type, char *err,
    size_t errlen)
{
	if (vm_check(vm, ev, err, errlen) == -1)
		return -1;
	if (vm->pending_op != 0) {
		snprintf(err, errlen, "vm %s is busy with another pause or "
		    "unpause", vm->conf->name);
		return -1;
	}
	if (vm_ops->send(vm, type) == -1) {
		snprintf(err, errlen, "vm %s: runner: %s", vm->conf->name,
		    strerror(errno));
		return -1;
	}
	vm->pending_op = type;
	return 0;
}

int
vm_pause(struct vm *vm, char *err, size_t errlen)
{
	return vm_pause_op(vm, VM_EV_PAUSE, MSG_RUN_PAUSE, err, errlen);
}

int
vm_unpause(struct vm *vm, char *err, size_t errlen)
{
	return vm_pause_op(vm, VM_EV_UNPAUSE, MSG_RUN_UNPAUSE, err, errlen);
}

void
vm_runner_ready(struct vm *vm)
{
	if (!vm_can(vm, VM_EV_READY))
		return;
	vm->started = time(NULL);
	vm_transition(vm, VM_EV_READY);
	vm_wake(vm, WAIT_START, NULL);
}

/* The runner's reason for the failure its exit will bring. */
void
vm_runner_error(struct vm *vm, const char *text)
{
	if (strncmp(text, "vm ", 3) == 0)
		snprintf(vm->reason, sizeof vm->reason, "%s", text);
	else
		snprintf(vm->reason, sizeof vm->reason, "vm %s: %s",
		    vm->conf->name, text);
}

/* The runner's answer to a pause or unpause: error is NULL for MSG_OK. */
void
vm_runner_replied(struct vm *vm, const char *error)
{
	char text[PROTO_TEXT_SIZE];
	uint32_t op = vm->pending_op;

	vm->pending_op = 0;
	if (error != NULL) {
		snprintf(text, sizeof text, "vm %s: %s", vm->conf->name,
		    error);
		vm_wake(vm, WAIT_RUNNER, text);
		return;
	}
	if (op == MSG_RUN_PAUSE)
		vm_transition(vm, VM_EV_PAUSE);
	else if (op == MSG_RUN_UNPAUSE)
		vm_transition(vm, VM_EV_UNPAUSE);
	vm_wake(vm, WAIT_RUNNER, NULL);
}

/* The runner closed its socket: unless it is stopping, make sure it ends. */
void
vm_runner_hungup(struct vm *vm)
{
	if (vm->state != VM_STOPPING)
		vm_ops->kill(vm);
}

/* The runner ended as asked, or the stop came before a restart. */
static void
vm_stopped(struct vm *vm)
{
	vm_release(vm);
	vm_transition(vm, VM_EV_EXIT);
	vm_wake(vm, WAIT_START, "the vm stopped before it was ready");
	vm_wake(vm, -1, NULL);
	vm_settle(vm);
}

/* A guest reboot: launch again through the same path, counted. */
static void
vm_retry_cb(int fd, short events, void *arg)
{
	struct vm *vm = arg;
	char err[PROTO_TEXT_SIZE];

	(void)fd;
	(void)events;
	if (vm->stop_requested) {
		vm_stopped(vm);
		return;
	}
	if (vm_launch(vm, err, sizeof err) == -1)
		vm_wake(vm, -1, vm->reason);
	else
		vm->restarts++;
}

/* Describe how a runner ended, for the failed state. */
static void
vm_exit_reason(struct vm *vm, int status, char *reason, size_t len)
{
	if (reason[0] != '\0')
		return;
	if (WIFSIGNALED(status))
		snprintf(reason, len, "vm %s: runner killed by signal %d (%s)",
		    vm->conf->name, WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	else
		snprintf(reason, len, "vm %s: runner exited with status %d",
		    vm->conf->name, WEXITSTATUS(status));
}

/*
 * The runner ended with status (runner.c has let go of it): a reboot
 * starts it again, an exit that was asked for stops it, anything else
 * fails it with the runner's reason or one made from status.
 */
void
vm_runner_exited(struct vm *vm, int status)
{
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	char reason[PROTO_TEXT_SIZE];

	/* The runner's slirp helpers go with it, even across a reboot. */
	netif_release(vm);
	snprintf(reason, sizeof reason, "%s", vm->reason);
	vm->reason[0] = '\0';
	if (code == RUNNER_EXIT_REBOOT && !vm->stop_requested &&
	    vm_transition(vm, VM_EV_RESTART) == 0) {
		if (vm->retry == NULL)
			vm->retry = evtimer_new(engine->base, vm_retry_cb, vm);
		event_active(vm->retry, EV_TIMEOUT, 0);
		return;
	}
	if (code == RUNNER_EXIT_POWEROFF || vm->force_stop ||
	    (vm->stop_requested && code != RUNNER_EXIT_ERROR)) {
		vm_stopped(vm);
		return;
	}
	vm_exit_reason(vm, status, reason, sizeof reason);
	vm_release(vm);
	vm_fail(vm, "%s", reason);
	vm_wake(vm, -1, reason);
	vm_settle(vm);
}

void
vm_adopted(struct vm *vm, int paused)
{
	if (vm_transition(vm, VM_EV_ADOPT) == -1)
		return;
	if (paused)
		vm_transition(vm, VM_EV_PAUSE);
	vm_wake(vm, WAIT_START, NULL);
}

void
vm_launch_failed(struct vm *vm, const char *err)
{
	vm_release(vm);
	vm_fail(vm, "%s", err);
	vm_wake(vm, -1, vm->reason);
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
	if (vm->adopted)
		info->flags |= VMINFO_ADOPTED;
	if (vm->changed)
		info->flags |= VMINFO_CHANGED;
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
			vm->changed = conf_vm_differs(vm->conf, cv);
		}
	}
}
