/*
 * Unit tests for engine/vm.c, the VM state machine: which transitions it
 * takes and refuses, the waiters it answers, restarts counted against the
 * rate limit, and the reasons a VM fails with. The runner and the clock
 * are fakes (vm_set_ops), so no process is started.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "engine.h"
#include "log.h"
#include "xmalloc.h"

#define SEC	1000000000ULL
#define EXITED(code)	((code) << 8)

/* What the fake runner was asked, and how it answers. */
static struct {
	int		 launches;
	int		 kills;
	uint32_t	 sent[8];
	int		 nsent;
	const char	*launch_error;	/* launch fails with this */
	int		 send_fails;
	uint64_t	 now;
} fake;

static int
fake_launch(struct vm *vm, char *err, size_t errlen)
{
	fake.launches++;
	if (fake.launch_error != NULL) {
		snprintf(err, errlen, "vm %s: %s", vm->conf->name,
		    fake.launch_error);
		return -1;
	}
	return 0;
}

static int
fake_send(struct vm *vm, uint32_t type)
{
	(void)vm;
	if (fake.send_fails)
		return -1;
	if (fake.nsent < (int)(sizeof fake.sent / sizeof fake.sent[0]))
		fake.sent[fake.nsent++] = type;
	return 0;
}

static void
fake_kill(struct vm *vm)
{
	(void)vm;
	fake.kills++;
}

static uint64_t
fake_now(void)
{
	return fake.now;
}

static const struct vm_ops fake_ops = {
	fake_launch, fake_send, fake_kill, fake_now
};

/* What one waiter was told. */
struct woken {
	int	calls;
	int	ok;
	char	err[PROTO_TEXT_SIZE];
};

static void
woken_cb(struct vm *vm, const char *err, void *arg)
{
	struct woken *w = arg;

	(void)vm;
	w->calls++;
	w->ok = err == NULL;
	snprintf(w->err, sizeof w->err, "%s", err != NULL ? err : "");
}

static struct engine test_engine;

static int
setup(void **state)
{
	(void)state;
	memset(&fake, 0, sizeof fake);
	fake.now = 1000 * SEC;
	memset(&test_engine, 0, sizeof test_engine);
	engine = &test_engine;
	TAILQ_INIT(&engine->vms);
	TAILQ_INIT(&engine->clients);
	TAILQ_INIT(&engine->waiters);
	engine->base = event_base_new();
	assert_non_null(engine->base);
	vm_set_ops(&fake_ops);
	return 0;
}

static int
teardown(void **state)
{
	struct vm *vm;

	(void)state;
	/* Every waiter was answered: none points at a finished test. */
	assert_true(TAILQ_EMPTY(&engine->waiters));
	while ((vm = TAILQ_FIRST(&engine->vms)) != NULL)
		vm_remove(vm);
	event_base_free(engine->base);
	vm_set_ops(NULL);
	engine = NULL;
	return 0;
}

static struct vm *
new_vm(const char *name)
{
	struct conf_vm *c;

	c = xcalloc(1, sizeof *c);
	snprintf(c->name, sizeof c->name, "%s", name);
	c->memory = CONF_DEFAULT_MEMORY;
	c->vcpus = CONF_DEFAULT_VCPUS;
	return vm_add(c, 0);
}

/* Run what vm.c deferred to the event loop (a restart). */
static void
run_deferred(void)
{
	event_base_loop(engine->base, EVLOOP_NONBLOCK);
}

static struct vm *
running_vm(const char *name)
{
	struct vm *vm = new_vm(name);
	char err[PROTO_TEXT_SIZE];

	assert_int_equal(vm_start(vm, err, sizeof err), 0);
	vm_runner_ready(vm);
	assert_int_equal(vm->state, VM_RUNNING);
	return vm;
}

/* The table: from which states each event may happen. */
static void
test_table(void **state)
{
	static const struct {
		enum vm_event	ev;
		unsigned int	from;	/* bit per enum vm_state */
	} want[] = {
		{ VM_EV_START, 1 << VM_STOPPED | 1 << VM_FAILED },
		{ VM_EV_READY, 1 << VM_STARTING },
		{ VM_EV_PAUSE, 1 << VM_RUNNING },
		{ VM_EV_UNPAUSE, 1 << VM_PAUSED },
		{ VM_EV_STOP, 1 << VM_STARTING | 1 << VM_RUNNING |
		    1 << VM_PAUSED | 1 << VM_STOPPING },
		{ VM_EV_EXIT, 1 << VM_STARTING | 1 << VM_RUNNING |
		    1 << VM_PAUSED | 1 << VM_STOPPING },
		{ VM_EV_RESTART, 1 << VM_STARTING | 1 << VM_RUNNING |
		    1 << VM_PAUSED },
		{ VM_EV_FAIL, (1 << VM_STATE_COUNT) - 1 },
	};
	struct vm *vm = new_vm("t");
	size_t i;
	int s;

	(void)state;
	for (i = 0; i < sizeof want / sizeof want[0]; i++)
		for (s = 0; s < VM_STATE_COUNT; s++) {
			vm->state = s;
			if ((unsigned int)vm_can(vm, want[i].ev) !=
			    ((want[i].from >> s) & 1))
				fail_msg("%s from %s",
				    vm_event_name(want[i].ev),
				    proto_state_name(s));
		}
	vm->state = VM_STOPPED;
}

static void
test_start_ready_stop(void **state)
{
	struct vm *vm = new_vm("a");
	struct woken start = { 0 }, stop = { 0 };
	char err[PROTO_TEXT_SIZE];

	(void)state;
	assert_int_equal(vm_start(vm, err, sizeof err), 0);
	assert_int_equal(vm->state, VM_STARTING);
	assert_int_equal(fake.launches, 1);
	vm_wait(vm, WAIT_START, woken_cb, &start);
	assert_int_equal(start.calls, 0);

	/* Illegal while starting: a second start, a pause. */
	assert_int_equal(vm_start(vm, err, sizeof err), -1);
	assert_string_equal(err, "vm a is already starting");
	assert_int_equal(vm_pause(vm, err, sizeof err), -1);
	assert_string_equal(err, "vm a is starting, not running");
	assert_int_equal(fake.launches, 1);

	vm_runner_ready(vm);
	assert_int_equal(vm->state, VM_RUNNING);
	assert_int_equal(start.calls, 1);
	assert_true(start.ok);
	assert_true(vm->started != 0);
	/* A second ready changes nothing. */
	vm_runner_ready(vm);
	assert_int_equal(start.calls, 1);

	assert_int_equal(vm_unpause(vm, err, sizeof err), -1);
	assert_string_equal(err, "vm a is running, not paused");

	assert_int_equal(vm_stop(vm, 0, err, sizeof err), 0);
	assert_int_equal(vm->state, VM_STOPPING);
	assert_int_equal(fake.nsent, 1);
	assert_int_equal(fake.sent[0], MSG_RUN_SHUTDOWN);
	assert_int_equal(fake.kills, 0);
	vm_wait(vm, WAIT_STOP, woken_cb, &stop);
	/* Stopping again without force asks nothing more. */
	assert_int_equal(vm_stop(vm, 0, err, sizeof err), 0);
	assert_int_equal(fake.nsent, 1);

	vm_runner_exited(vm, EXITED(RUNNER_EXIT_POWEROFF));
	assert_int_equal(vm->state, VM_STOPPED);
	assert_int_equal(stop.calls, 1);
	assert_true(stop.ok);
	assert_string_equal(vm->reason, "");

	assert_int_equal(vm_stop(vm, 0, err, sizeof err), -1);
	assert_string_equal(err, "vm a is not running");
	assert_int_equal(vm_pause(vm, err, sizeof err), -1);
	assert_string_equal(err, "vm a is stopped, not running");
}

/* A VM stopped before it is ready: the start waiter hears so. */
static void
test_force_stop_starting(void **state)
{
	struct vm *vm = new_vm("b");
	struct woken start = { 0 }, stop = { 0 };
	char err[PROTO_TEXT_SIZE];

	(void)state;
	assert_int_equal(vm_start(vm, err, sizeof err), 0);
	vm_wait(vm, WAIT_START, woken_cb, &start);
	/* A stop of a starting VM is always forced. */
	assert_int_equal(vm_stop(vm, 0, err, sizeof err), 0);
	assert_int_equal(fake.kills, 1);
	assert_int_equal(fake.nsent, 0);
	assert_int_equal(vm->state, VM_STOPPING);
	vm_wait(vm, WAIT_STOP, woken_cb, &stop);
	vm_runner_exited(vm, SIGKILL);
	assert_int_equal(vm->state, VM_STOPPED);
	assert_int_equal(start.calls, 1);
	assert_string_equal(start.err, "the vm stopped before it was ready");
	assert_int_equal(stop.calls, 1);
	assert_true(stop.ok);
	/* Waiting on a stopped VM answers at once. */
	memset(&stop, 0, sizeof stop);
	vm_wait(vm, WAIT_STOP, woken_cb, &stop);
	assert_int_equal(stop.calls, 1);
	assert_true(stop.ok);
}

static void
test_pause_unpause(void **state)
{
	struct vm *vm = running_vm("p");
	struct woken w = { 0 };
	char err[PROTO_TEXT_SIZE];

	(void)state;
	assert_int_equal(vm_pause(vm, err, sizeof err), 0);
	assert_int_equal(fake.sent[0], MSG_RUN_PAUSE);
	/* The state changes when the runner says so, not before. */
	assert_int_equal(vm->state, VM_RUNNING);
	vm_wait(vm, WAIT_RUNNER, woken_cb, &w);
	assert_int_equal(vm_pause(vm, err, sizeof err), -1);
	assert_string_equal(err, "vm p is busy with another pause or unpause");
	vm_runner_replied(vm, NULL);
	assert_int_equal(vm->state, VM_PAUSED);
	assert_int_equal(w.calls, 1);
	assert_true(w.ok);

	assert_int_equal(vm_pause(vm, err, sizeof err), -1);
	assert_string_equal(err, "vm p is paused, not running");

	/* The runner refuses an unpause: still paused, the waiter told. */
	memset(&w, 0, sizeof w);
	assert_int_equal(vm_unpause(vm, err, sizeof err), 0);
	vm_wait(vm, WAIT_RUNNER, woken_cb, &w);
	vm_runner_replied(vm, "cannot resume");
	assert_int_equal(vm->state, VM_PAUSED);
	assert_int_equal(w.calls, 1);
	assert_string_equal(w.err, "vm p: cannot resume");

	/* A runner that cannot be reached. */
	fake.send_fails = 1;
	assert_int_equal(vm_unpause(vm, err, sizeof err), -1);
	assert_int_equal(strncmp(err, "vm p: runner: ", 14), 0);
	assert_int_equal(vm->pending_op, 0);
	fake.send_fails = 0;

	/* Stopping a paused VM unpauses it first. */
	fake.nsent = 0;
	assert_int_equal(vm_stop(vm, 0, err, sizeof err), 0);
	assert_int_equal(fake.nsent, 2);
	assert_int_equal(fake.sent[0], MSG_RUN_UNPAUSE);
	assert_int_equal(fake.sent[1], MSG_RUN_SHUTDOWN);
	assert_int_equal(vm->state, VM_STOPPING);
	vm_runner_exited(vm, EXITED(RUNNER_EXIT_POWEROFF));
	assert_int_equal(vm->state, VM_STOPPED);
}

/* Guest reboots restart the VM; the third fast one in a row fails it. */
static void
test_fast_restarts_fail(void **state)
{
	struct vm *vm = running_vm("r");
	struct woken stop = { 0 };
	int i;

	(void)state;
	vm_wait(vm, WAIT_STOP, woken_cb, &stop);
	for (i = 1; i <= 2; i++) {
		fake.now += 1 * SEC;
		vm_runner_exited(vm, EXITED(RUNNER_EXIT_REBOOT));
		assert_int_equal(vm->state, VM_STARTING);
		run_deferred();
		assert_int_equal(fake.launches, 1 + i);
		assert_int_equal(vm->restarts, (uint32_t)i);
		vm_runner_ready(vm);
		assert_int_equal(vm->state, VM_RUNNING);
	}
	assert_int_equal(stop.calls, 0);
	fake.now += 1 * SEC;
	vm_runner_exited(vm, EXITED(RUNNER_EXIT_REBOOT));
	run_deferred();
	assert_int_equal(fake.launches, 3);
	assert_int_equal(vm->restarts, 2);
	assert_int_equal(vm->state, VM_FAILED);
	assert_non_null(strstr(vm->reason, "vm r: restarted too quickly"));
	assert_int_equal(stop.calls, 1);
	assert_string_equal(stop.err, vm->reason);
}

static void
test_slow_restarts_go_on(void **state)
{
	struct vm *vm = running_vm("s");
	int i;

	(void)state;
	for (i = 1; i <= 5; i++) {
		fake.now += 7 * SEC;
		vm_runner_exited(vm, EXITED(RUNNER_EXIT_REBOOT));
		run_deferred();
		vm_runner_ready(vm);
		assert_int_equal(vm->state, VM_RUNNING);
	}
	assert_int_equal(vm->restarts, 5);
	assert_int_equal(fake.launches, 6);
}

/* A stop that comes between a reboot and its restart stops the VM. */
static void
test_stop_before_restart(void **state)
{
	struct vm *vm = running_vm("w");
	struct woken stop = { 0 };
	char err[PROTO_TEXT_SIZE];

	(void)state;
	vm_runner_exited(vm, EXITED(RUNNER_EXIT_REBOOT));
	assert_int_equal(vm->state, VM_STARTING);
	assert_int_equal(vm_stop(vm, 0, err, sizeof err), 0);
	vm_wait(vm, WAIT_STOP, woken_cb, &stop);
	run_deferred();
	assert_int_equal(fake.launches, 1);
	assert_int_equal(vm->state, VM_STOPPED);
	assert_int_equal(stop.calls, 1);
	assert_true(stop.ok);
	assert_int_equal(vm->restarts, 0);
}

/* A reboot asked to stop is a stop, not a restart. */
static void
test_reboot_while_stopping(void **state)
{
	struct vm *vm = running_vm("x");
	char err[PROTO_TEXT_SIZE];

	(void)state;
	assert_int_equal(vm_stop(vm, 0, err, sizeof err), 0);
	vm_runner_exited(vm, EXITED(RUNNER_EXIT_REBOOT));
	assert_int_equal(vm->state, VM_STOPPED);
	run_deferred();
	assert_int_equal(fake.launches, 1);
}

static void
test_fail_reasons(void **state)
{
	struct vm *vm = running_vm("f");
	struct woken w = { 0 };
	char err[PROTO_TEXT_SIZE];

	(void)state;
	/* The runner's own sentence, named after the VM. */
	vm_wait(vm, WAIT_STOP, woken_cb, &w);
	vm_runner_error(vm, "disk0: short read");
	vm_runner_exited(vm, EXITED(RUNNER_EXIT_ERROR));
	assert_int_equal(vm->state, VM_FAILED);
	assert_string_equal(vm->reason, "vm f: disk0: short read");
	assert_int_equal(w.calls, 1);
	assert_string_equal(w.err, "vm f: disk0: short read");

	/* One that names the VM already is kept as it is. */
	fake.now += 10 * SEC;
	assert_int_equal(vm_start(vm, err, sizeof err), 0);
	assert_string_equal(vm->reason, "");
	vm_runner_error(vm, "vm f: no memory for the guest");
	vm_runner_exited(vm, EXITED(RUNNER_EXIT_ERROR));
	assert_string_equal(vm->reason, "vm f: no memory for the guest");

	/* Without a sentence: the signal or the exit status. */
	fake.now += 10 * SEC;
	assert_int_equal(vm_start(vm, err, sizeof err), 0);
	vm_runner_exited(vm, SIGSEGV);
	assert_int_equal(vm->state, VM_FAILED);
	assert_non_null(strstr(vm->reason,
	    "vm f: runner killed by signal 11"));
	fake.now += 10 * SEC;
	assert_int_equal(vm_start(vm, err, sizeof err), 0);
	vm_runner_exited(vm, EXITED(42));
	assert_string_equal(vm->reason, "vm f: runner exited with status 42");

	/* Waiting on a failed VM answers at once with its reason. */
	memset(&w, 0, sizeof w);
	vm_wait(vm, WAIT_STOP, woken_cb, &w);
	assert_int_equal(w.calls, 1);
	assert_string_equal(w.err, "vm f: runner exited with status 42");

	/* A launch that fails: the start fails with its sentence. */
	fake.now += 10 * SEC;
	fake.launch_error = "disk /nowhere: No such file or directory";
	assert_int_equal(vm_start(vm, err, sizeof err), -1);
	assert_string_equal(err, "vm f: disk /nowhere: No such file or "
	    "directory");
	assert_int_equal(vm->state, VM_FAILED);
	assert_string_equal(vm->reason, err);
}

/* A runner that hangs up is ended, unless it is stopping anyway. */
static void
test_hangup(void **state)
{
	struct vm *vm = running_vm("h");
	char err[PROTO_TEXT_SIZE];

	(void)state;
	vm_runner_hungup(vm);
	assert_int_equal(fake.kills, 1);
	assert_int_equal(vm_stop(vm, 0, err, sizeof err), 0);
	vm_runner_hungup(vm);
	assert_int_equal(fake.kills, 1);
	vm_runner_exited(vm, EXITED(RUNNER_EXIT_POWEROFF));
}

static struct woken cancelled;

/* A waiter whose answer drops another client's waiters. */
static void
cancel_cb(struct vm *vm, const char *err, void *arg)
{
	woken_cb(vm, err, arg);
	vm_wait_cancel(&cancelled);
}

static void
test_waiters(void **state)
{
	struct vm *a = running_vm("wa"), *b = running_vm("wb");
	struct woken first = { 0 }, other = { 0 }, gone = { 0 };
	char err[PROTO_TEXT_SIZE];

	(void)state;
	memset(&cancelled, 0, sizeof cancelled);
	vm_wait(a, WAIT_STOP, cancel_cb, &first);
	vm_wait(a, WAIT_STOP, woken_cb, &cancelled);
	vm_wait(b, WAIT_STOP, woken_cb, &other);
	vm_wait(b, WAIT_STOP, woken_cb, &gone);
	vm_wait_cancel(&gone);

	assert_int_equal(vm_stop(a, 1, err, sizeof err), 0);
	vm_runner_exited(a, SIGKILL);
	assert_int_equal(first.calls, 1);
	assert_int_equal(cancelled.calls, 0);
	/* Only a's waiters were answered. */
	assert_int_equal(other.calls, 0);

	vm_remove(b);
	assert_int_equal(other.calls, 1);
	assert_string_equal(other.err, "the vm was removed");
	assert_int_equal(gone.calls, 0);
}

/* Every change of state is logged as "vm NAME: from -> to". */
static void
test_state_log(void **state)
{
	struct vm *vm = running_vm("logged");
	char err[PROTO_TEXT_SIZE], buf[4096];
	FILE *f;
	size_t n;
	int saved;

	(void)state;
	assert_non_null(f = tmpfile());
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(f), 2);
	log_init("test_vm", 1, 1);
	assert_int_equal(vm_stop(vm, 0, err, sizeof err), 0);
	assert_int_equal(vm_start(vm, err, sizeof err), -1);
	vm_runner_exited(vm, EXITED(RUNNER_EXIT_POWEROFF));
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	log_init("test_vm", 1, 0);
	rewind(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	assert_non_null(strstr(buf, "vm logged: running -> stopping\n"));
	assert_non_null(strstr(buf, "vm logged: stopping -> stopped\n"));
	/* A refused request changes nothing and logs no change. */
	assert_null(strstr(buf, "-> starting"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_ready_stop, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_force_stop_starting,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause_unpause, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_fast_restarts_fail, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_slow_restarts_go_on,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_before_restart,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_reboot_while_stopping,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail_reasons, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hangup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waiters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_log, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
