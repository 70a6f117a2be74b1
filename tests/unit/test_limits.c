/*
 * Unit tests for engine/limits.c: what a user's active VMs add up to, what
 * is left out (stopped and failed VMs, other users', root's), the ad hoc
 * count, 0 as no limit, and the sentence a refusal gives.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "engine.h"
#include "xmalloc.h"

#define USER	4000001		/* a uid with no name: shown as digits */
#define OTHER	4000002

static struct engine test_engine;

static int
setup(void **state)
{
	(void)state;
	memset(&test_engine, 0, sizeof test_engine);
	engine = &test_engine;
	TAILQ_INIT(&engine->vms);
	config_init(&engine->conf);
	engine->conf.limits.user_memory = 4ULL << 30;
	engine->conf.limits.user_vcpus = 4;
	engine->conf.limits.user_adhoc = 2;
	return 0;
}

static int
teardown(void **state)
{
	struct vm *vm;

	(void)state;
	while ((vm = TAILQ_FIRST(&engine->vms)) != NULL) {
		TAILQ_REMOVE(&engine->vms, vm, entry);
		conf_vm_free(vm->conf);
		free(vm);
	}
	engine = NULL;
	return 0;
}

static struct conf_vm *
conf_of(const char *name, uid_t owner, uint64_t memory, uint32_t vcpus)
{
	struct conf_vm *c = xcalloc(1, sizeof *c);

	snprintf(c->name, sizeof c->name, "%s", name);
	c->memory = memory;
	c->vcpus = vcpus;
	c->has_owner = owner != 0;
	c->uid = owner;
	return c;
}

/* A VM in the registry, in state, without the rest of vm.c. */
static struct vm *
vm_in(const char *name, uid_t owner, uint64_t memory, uint32_t vcpus,
    enum vm_state state, int adhoc)
{
	struct vm *vm = xcalloc(1, sizeof *vm);

	vm->conf = conf_of(name, owner, memory, vcpus);
	vm->state = state;
	vm->adhoc = adhoc;
	TAILQ_INSERT_TAIL(&engine->vms, vm, entry);
	return vm;
}

/* limits_check_start of a new conf; returns its result, err in err. */
static int
check(struct vm *vm, uid_t uid, uint64_t memory, uint32_t vcpus, char *err,
    size_t errlen)
{
	struct conf_vm *c = conf_of("new", vm != NULL ? vm->conf->uid : uid,
	    memory, vcpus);
	int rv;

	err[0] = '\0';
	rv = limits_check_start(vm, c, uid, err, errlen);
	conf_vm_free(c);
	return rv;
}

static void
test_memory(void **state)
{
	char err[PROTO_TEXT_SIZE];

	(void)state;
	vm_in("a", USER, 3ULL << 30, 1, VM_RUNNING, 0);
	vm_in("b", USER, 8ULL << 30, 1, VM_STOPPED, 0);
	vm_in("c", USER, 8ULL << 30, 1, VM_FAILED, 0);
	vm_in("d", OTHER, 8ULL << 30, 1, VM_RUNNING, 0);
	vm_in("e", 0, 8ULL << 30, 1, VM_RUNNING, 0);
	/* exactly the limit is allowed */
	assert_int_equal(check(NULL, USER, 1ULL << 30, 1, err, sizeof err), 0);
	assert_int_equal(check(NULL, USER, (1ULL << 30) + 1, 1, err,
	    sizeof err), -1);
	assert_int_equal(check(NULL, USER, 2ULL << 30, 1, err, sizeof err),
	    -1);
	assert_string_equal(err, "vm new: memory 2G would exceed user "
	    "4000001's limit of 4G (3G in use)");
	/* more than the limit alone, with nothing running */
	TAILQ_FIRST(&engine->vms)->state = VM_STOPPED;
	assert_int_equal(check(NULL, USER, UINT64_MAX, 1, err, sizeof err),
	    -1);
	assert_string_equal(err, "vm new: memory 16.0E would exceed user "
	    "4000001's limit of 4G (0B in use)");
}

static void
test_states_count(void **state)
{
	static const enum vm_state active[] = {
		VM_STARTING, VM_RUNNING, VM_PAUSED, VM_STOPPING
	};
	char err[PROTO_TEXT_SIZE];
	struct vm *vm;
	size_t i;

	(void)state;
	vm = vm_in("a", USER, 4ULL << 30, 1, VM_STOPPED, 0);
	for (i = 0; i < sizeof active / sizeof active[0]; i++) {
		vm->state = active[i];
		assert_int_equal(check(NULL, USER, 1ULL << 20, 1, err,
		    sizeof err), -1);
	}
}

static void
test_vcpus(void **state)
{
	char err[PROTO_TEXT_SIZE];

	(void)state;
	vm_in("a", USER, 1ULL << 20, 3, VM_PAUSED, 0);
	assert_int_equal(check(NULL, USER, 1ULL << 20, 1, err, sizeof err), 0);
	assert_int_equal(check(NULL, USER, 1ULL << 20, 2, err, sizeof err),
	    -1);
	assert_string_equal(err, "vm new: 2 vcpus would exceed user 4000001's "
	    "limit of 4 (3 in use)");
	assert_int_equal(check(NULL, USER, 1ULL << 20, UINT32_MAX, err,
	    sizeof err), -1);
}

static void
test_adhoc(void **state)
{
	char err[PROTO_TEXT_SIZE];
	struct vm *vm;

	(void)state;
	vm = vm_in("a", USER, 1ULL << 20, 1, VM_STOPPED, 1);
	vm_in("b", USER, 1ULL << 20, 1, VM_STOPPED, 0);
	vm_in("c", OTHER, 1ULL << 20, 1, VM_STOPPED, 1);
	assert_int_equal(check(NULL, USER, 1ULL << 20, 1, err, sizeof err), 0);
	vm_in("d", USER, 1ULL << 20, 1, VM_RUNNING, 1);
	assert_int_equal(check(NULL, USER, 1ULL << 20, 1, err, sizeof err),
	    -1);
	assert_string_equal(err, "vm new: user 4000001 already has 2 ad hoc "
	    "vms, the limit");
	/* starting one that is defined already makes none more */
	assert_int_equal(check(vm, USER, 1ULL << 20, 1, err, sizeof err), 0);
	/* and what it held as it stops does not count against its start */
	vm->state = VM_STOPPING;
	vm->conf->memory = 4ULL << 30;
	vm->conf->vcpus = 3;
	TAILQ_LAST(&engine->vms, vmlist)->state = VM_STOPPED;
	assert_int_equal(check(vm, USER, 4ULL << 30, 4, err, sizeof err), 0);
}

/* Root, the engine's user and VMs without an owner are bound by none. */
static void
test_exempt(void **state)
{
	char err[PROTO_TEXT_SIZE];
	struct conf_vm *c;

	(void)state;
	vm_in("a", USER, 4ULL << 30, 4, VM_RUNNING, 1);
	vm_in("b", USER, 1ULL << 20, 1, VM_STOPPED, 1);
	c = conf_of("new", USER, 1ULL << 40, 64);
	assert_int_equal(limits_check_start(NULL, c, 0, err, sizeof err), 0);
	assert_int_equal(limits_check_start(NULL, c, geteuid(), err,
	    sizeof err), 0);
	c->has_owner = 0;
	assert_int_equal(limits_check_start(NULL, c, USER, err, sizeof err),
	    0);
	conf_vm_free(c);
}

static void
test_zero_is_no_limit(void **state)
{
	char err[PROTO_TEXT_SIZE];

	(void)state;
	engine->conf.limits.user_memory = 0;
	engine->conf.limits.user_vcpus = 0;
	engine->conf.limits.user_adhoc = 0;
	vm_in("a", USER, 1ULL << 40, 64, VM_RUNNING, 1);
	vm_in("b", USER, 1ULL << 40, 64, VM_RUNNING, 1);
	assert_int_equal(check(NULL, USER, 1ULL << 40, 64, err, sizeof err),
	    0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_states_count, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_vcpus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_adhoc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exempt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_is_no_limit, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
