/*
 * Unit tests for lib/vmcheck.c: the limits of a VM's settings that the
 * config, ad hoc starts and the runner share.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "proto.h"
#include "vmcheck.h"

static void
test_memory(void **state)
{
	(void)state;
	assert_null(vmcheck_memory(1ULL << 20));
	assert_null(vmcheck_memory((1ULL << 20) + 1));
	assert_null(vmcheck_memory(1ULL << 40));
	assert_string_equal(vmcheck_memory(0), "is too small (at least 1M)");
	assert_string_equal(vmcheck_memory((1ULL << 20) - 1),
	    "is too small (at least 1M)");
	assert_string_equal(vmcheck_memory((1ULL << 40) + 1),
	    "is too large (at most 1T)");
	assert_string_equal(vmcheck_memory(UINT64_MAX),
	    "is too large (at most 1T)");
}

static void
test_vcpus(void **state)
{
	(void)state;
	assert_null(vmcheck_vcpus(1));
	assert_null(vmcheck_vcpus(VM_MAX_VCPUS));
	assert_string_equal(vmcheck_vcpus(0), "is out of range (1 to 64)");
	assert_string_equal(vmcheck_vcpus(-1), "is out of range (1 to 64)");
	assert_string_equal(vmcheck_vcpus(VM_MAX_VCPUS + 1),
	    "is out of range (1 to 64)");
	assert_string_equal(vmcheck_vcpus(INT64_MAX),
	    "is out of range (1 to 64)");
}

static void
test_counts_and_paths(void **state)
{
	char path[VM_PATH_SIZE + 1];

	(void)state;
	assert_null(vmcheck_disks(0));
	assert_null(vmcheck_disks(VM_MAX_DISKS));
	assert_string_equal(vmcheck_disks(VM_MAX_DISKS + 1),
	    "too many disks (at most 8)");
	assert_null(vmcheck_nics(VM_MAX_NICS));
	assert_string_equal(vmcheck_nics(VM_MAX_NICS + 1),
	    "too many interfaces (at most 4)");

	memset(path, 'a', sizeof path);
	path[VM_PATH_SIZE - 1] = '\0';
	assert_null(vmcheck_path(path));
	path[VM_PATH_SIZE - 1] = 'a';
	path[VM_PATH_SIZE] = '\0';
	assert_string_equal(vmcheck_path(path),
	    "is too long (at most 1023 characters)");
}

static void
test_whole_vm(void **state)
{
	static const struct {
		struct vmcheck	 vc;
		const char	*want;
	} bad[] = {
		{ { "web", 512ULL << 10, 2, 1, 1 },
		    "vm web: memory 512K is too small (at least 1M)" },
		{ { "web", 2ULL << 40, 2, 1, 1 },
		    "vm web: memory 2T is too large (at most 1T)" },
		{ { "web", 512ULL << 20, 65, 1, 1 },
		    "vm web: vcpus 65 is out of range (1 to 64)" },
		{ { "web", 512ULL << 20, 0, 1, 1 },
		    "vm web: vcpus 0 is out of range (1 to 64)" },
		{ { "web", 512ULL << 20, 2, 9, 1 },
		    "vm web: too many disks (at most 8)" },
		{ { "web", 512ULL << 20, 2, 1, 5 },
		    "vm web: too many interfaces (at most 4)" },
		/* The first bad setting is the one named. */
		{ { "web", 0, 0, 9, 5 },
		    "vm web: memory 0B is too small (at least 1M)" },
	};
	struct vmcheck	vc = { "web", 512ULL << 20, 2, 1, 1 };
	char		err[PROTO_TEXT_SIZE];
	size_t		i;

	(void)state;
	assert_int_equal(vmcheck(&vc, err, sizeof err), 0);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(err, 0, sizeof err);
		assert_int_equal(vmcheck(&bad[i].vc, err, sizeof err), -1);
		assert_string_equal(err, bad[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_vcpus),
		cmocka_unit_test(test_counts_and_paths),
		cmocka_unit_test(test_whole_vm),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
