/*
 * Unit tests for lib/size.c: the size parser the config and every command
 * share, and the size printer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "size.h"

static void
test_parse_size(void **state)
{
	static const struct {
		const char	*s;
		uint64_t	 bytes;
	} good[] = {
		{ "512", 512ULL << 20 },
		{ "1", 1ULL << 20 },
		{ "4K", 4ULL << 10 },
		{ "4k", 4ULL << 10 },
		{ "256M", 256ULL << 20 },
		{ "256m", 256ULL << 20 },
		{ "2G", 2ULL << 30 },
		{ "2g", 2ULL << 30 },
		{ "3T", 3ULL << 40 },
		{ "16777215T", 16777215ULL << 40 },
		{ "007", 7ULL << 20 },
		/* What the config took too: B, iB, and B alone. */
		{ "1GB", 1ULL << 30 },
		{ "512MB", 512ULL << 20 },
		{ "512mib", 512ULL << 20 },
		{ "4096KiB", 4ULL << 20 },
		{ "1tib", 1ULL << 40 },
		{ "1048577b", (1ULL << 20) + 1 },
		{ "1B", 1 },
	};
	static const char *bad[] = {
		"", "0", "0G", "G", "-1", "+1", " 1", "1 ", "12X",
		"1.5G", "0x10", "1KK", "1Gi", "1GBB", "1iB", "1Bi", "1BB",
		"M", "G1", "0B",
	};
	uint64_t bytes;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		bytes = 0;
		if (size_parse(good[i].s, SIZE_MIB, &bytes) != 0)
			fail_msg("%s did not parse", good[i].s);
		assert_true(bytes == good[i].bytes);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		errno = 0;
		if (size_parse(bad[i], SIZE_MIB, &bytes) != -1)
			fail_msg("%s parsed", bad[i]);
		assert_int_equal(errno, EINVAL);
	}
	assert_int_equal(size_parse("16777216T", SIZE_MIB, &bytes), -1);
	assert_int_equal(errno, ERANGE);
	assert_int_equal(size_parse("17592186044416", SIZE_MIB, &bytes), -1);
	assert_int_equal(errno, ERANGE);
	assert_int_equal(size_parse("18446744073709551616K", SIZE_MIB,
	    &bytes), -1);
	assert_int_equal(errno, ERANGE);
	assert_int_equal(size_parse("99999999999999999999999G", SIZE_MIB,
	    &bytes), -1);
	assert_int_equal(errno, ERANGE);
}

static void
test_default_unit(void **state)
{
	uint64_t bytes;

	(void)state;
	assert_int_equal(size_parse("3", 1, &bytes), 0);
	assert_true(bytes == 3);
	assert_int_equal(size_parse("3", SIZE_KIB, &bytes), 0);
	assert_true(bytes == 3 * SIZE_KIB);
	/* A suffix wins over the default unit. */
	assert_int_equal(size_parse("3M", SIZE_KIB, &bytes), 0);
	assert_true(bytes == 3 * SIZE_MIB);
	assert_int_equal(size_parse("18446744073709551615", 1, &bytes), 0);
	assert_true(bytes == UINT64_MAX);
	assert_int_equal(size_parse("18446744073709551616", 1, &bytes), -1);
	assert_int_equal(errno, ERANGE);
}

static void
test_scan_zero(void **state)
{
	uint64_t bytes = 1;

	(void)state;
	assert_int_equal(size_scan("0", SIZE_MIB, &bytes), 0);
	assert_true(bytes == 0);
	bytes = 1;
	assert_int_equal(size_scan("0M", SIZE_MIB, &bytes), 0);
	assert_true(bytes == 0);
	assert_int_equal(size_scan("0X", SIZE_MIB, &bytes), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(size_scan("", SIZE_MIB, &bytes), -1);
	assert_int_equal(errno, EINVAL);
}

static void
test_format(void **state)
{
	char buf[32];

	(void)state;
	size_format(0, buf, sizeof buf);
	assert_string_equal(buf, "0B");
	size_format(1023, buf, sizeof buf);
	assert_string_equal(buf, "1023B");
	size_format(1024, buf, sizeof buf);
	assert_string_equal(buf, "1K");
	size_format(1536, buf, sizeof buf);
	assert_string_equal(buf, "1.5K");
	size_format(512ULL << 20, buf, sizeof buf);
	assert_string_equal(buf, "512M");
	size_format(1000ULL << 20, buf, sizeof buf);
	assert_string_equal(buf, "1000M");
	size_format(1536ULL << 20, buf, sizeof buf);
	assert_string_equal(buf, "1.5G");
	size_format(4ULL << 30, buf, sizeof buf);
	assert_string_equal(buf, "4G");
	size_format(UINT64_MAX, buf, sizeof buf);
	assert_string_equal(buf, "16.0E");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_default_unit),
		cmocka_unit_test(test_scan_zero),
		cmocka_unit_test(test_format),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
