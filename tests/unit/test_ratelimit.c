/* The start rate limit and the console capture ring. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <stdio.h>
#include <sys/stat.h>

#include "engine.h"

#define SEC	1000000000ULL

/* Three starts a second apart from t, all allowed. */
static void
start_three_fast(struct ratelimit *rl, uint64_t t)
{
	assert_int_equal(ratelimit_start(rl, t), 0);
	assert_int_equal(ratelimit_start(rl, t + 1 * SEC), 0);
	assert_int_equal(ratelimit_start(rl, t + 2 * SEC), 0);
}

static void
test_first_start_is_slow(void **state)
{
	struct ratelimit rl = { 0, 0 };

	(void)state;
	assert_int_equal(ratelimit_start(&rl, 1 * SEC), 0);
	assert_int_equal(rl.fast, 0);
}

static void
test_third_fast_start_fails(void **state)
{
	struct ratelimit rl = { 0, 0 };
	uint64_t t = 100 * SEC;

	(void)state;
	start_three_fast(&rl, t);
	assert_int_equal(ratelimit_start(&rl, t + 3 * SEC), -1);
	/* After the refusal the count starts again. */
	assert_int_equal(ratelimit_start(&rl, t + 4 * SEC), 0);
}

static void
test_slow_start_resets(void **state)
{
	struct ratelimit rl = { 0, 0 };
	uint64_t t = 100 * SEC;

	(void)state;
	start_three_fast(&rl, t);
	assert_int_equal(rl.fast, 2);
	assert_int_equal(ratelimit_start(&rl, t + 8 * SEC), 0);
	assert_int_equal(rl.fast, 0);
	assert_int_equal(ratelimit_start(&rl, t + 9 * SEC), 0);
	assert_int_equal(ratelimit_start(&rl, t + 10 * SEC), 0);
	assert_int_equal(ratelimit_start(&rl, t + 11 * SEC), -1);
}

static void
test_boundary_is_slow(void **state)
{
	struct ratelimit rl = { 0, 0 };
	uint64_t t = 100 * SEC;

	(void)state;
	ratelimit_start(&rl, t);
	ratelimit_start(&rl, t + RATELIMIT_FAST_NS - 1);
	assert_int_equal(rl.fast, 1);
	ratelimit_start(&rl, t + 2 * RATELIMIT_FAST_NS - 1);
	assert_int_equal(rl.fast, 0);
}

static void
test_capture_keeps_last_bytes(void **state)
{
	struct capture cap;
	uint8_t *out = malloc(CAPTURE_SIZE);
	char chunk[1000];
	size_t i, n;

	(void)state;
	capture_init(&cap);
	assert_int_equal(capture_copy(&cap, out, CAPTURE_SIZE), 0);
	assert_null(cap.buf);
	for (i = 0; i < 200; i++) {
		memset(chunk, 'a' + i % 26, sizeof chunk);
		capture_append(&cap, chunk, sizeof chunk);
	}
	n = capture_copy(&cap, out, CAPTURE_SIZE);
	assert_int_equal(n, CAPTURE_SIZE);
	/* The last byte came from chunk 199, the first from 200000-65536. */
	assert_int_equal(out[n - 1], 'a' + 199 % 26);
	assert_int_equal(out[0], 'a' + ((200000 - CAPTURE_SIZE) / 1000) % 26);
	/* A shorter copy gives the newest bytes. */
	assert_int_equal(capture_copy(&cap, out, 10), 10);
	assert_int_equal(out[9], 'a' + 199 % 26);
	capture_free(&cap);
	free(out);
}

/* size_of DIR/NAME: a file's size, or -1 when it is not there. */
static long
test_file_size(const char *dir, const char *name)
{
	struct stat st;
	char path[128];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	return stat(path, &st) == -1 ? -1 : (long)st.st_size;
}

static void
test_capture_log_rotates(void **state)
{
	struct capture cap;
	char dir[] = "/tmp/vmtop-capture.XXXXXX", path[128], line[16];
	uint8_t out[16];
	FILE *f;
	int i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	capture_init(&cap);
	assert_int_equal(capture_open_log(&cap, dir, "r", geteuid(), 100, 2),
	    0);
	for (i = 0; i < 100; i++) {
		snprintf(line, sizeof line, "line %03d\n", i);
		capture_append(&cap, line, strlen(line));
	}
	/* 900 bytes through 100-byte files: 3 files full or filling. */
	assert_int_equal(test_file_size(dir, "r.log"), 100);
	assert_int_equal(test_file_size(dir, "r.log.1"), 100);
	assert_int_equal(test_file_size(dir, "r.log.2"), 100);
	assert_int_equal(test_file_size(dir, "r.log.3"), -1);
	capture_stopped(&cap);
	/* The newest line ends NAME.log. */
	snprintf(path, sizeof path, "%s/r.log", dir);
	assert_non_null(f = fopen(path, "r"));
	assert_int_equal(fseek(f, -9, SEEK_END), 0);
	assert_int_equal(fread(out, 1, 9, f), 9);
	assert_memory_equal(out, "line 099\n", 9);
	fclose(f);
	/* Rotated just now, so the ring still serves the last 64 KiB. */
	assert_int_equal(capture_copy(&cap, out, 9), 9);
	assert_memory_equal(out, "line 099\n", 9);
	/* Another owner of the name gets nothing of it. */
	capture_set_owner(&cap, geteuid() + 1);
	assert_int_equal(capture_copy(&cap, out, sizeof out), 0);
	capture_free(&cap);
	for (i = 0; i <= 2; i++) {
		snprintf(path, sizeof path, i == 0 ? "%s/r.log" : "%s/r.log.%d",
		    dir, i);
		unlink(path);
	}
	rmdir(dir);
}

static void
test_capture_kept_without_log(void **state)
{
	struct capture cap;
	uint8_t out[16];

	(void)state;
	capture_init(&cap);
	capture_append(&cap, "no log", 6);
	capture_stopped(&cap);
	assert_non_null(cap.buf);
	assert_int_equal(capture_copy(&cap, out, sizeof out), 6);
	assert_memory_equal(out, "no log", 6);
	capture_free(&cap);
}

static void
test_capture_huge_append_and_log(void **state)
{
	struct capture cap;
	char dir[] = "/tmp/vmtop-capture.XXXXXX", path[64], buf[8];
	uint8_t *big = malloc(CAPTURE_SIZE * 2), *out = malloc(CAPTURE_SIZE);
	size_t i;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	capture_init(&cap);
	assert_int_equal(capture_open_log(&cap, dir, "vm1", geteuid(),
	    1 << 20, 2), 0);
	for (i = 0; i < CAPTURE_SIZE * 2; i++)
		big[i] = i & 0xff;
	capture_append(&cap, "hello", 5);
	capture_append(&cap, big, CAPTURE_SIZE * 2);
	assert_int_equal(capture_copy(&cap, out, CAPTURE_SIZE), CAPTURE_SIZE);
	assert_memory_equal(out, big + CAPTURE_SIZE, CAPTURE_SIZE);
	/* Stopped: the ring is freed and the log's tail serves instead. */
	capture_stopped(&cap);
	assert_null(cap.buf);
	memset(out, 0, CAPTURE_SIZE);
	assert_int_equal(capture_copy(&cap, out, CAPTURE_SIZE), CAPTURE_SIZE);
	assert_memory_equal(out, big + CAPTURE_SIZE, CAPTURE_SIZE);
	assert_int_equal(capture_copy(&cap, out, 3), 3);
	assert_memory_equal(out, big + 2 * CAPTURE_SIZE - 3, 3);
	/* The next run fills a new ring. */
	capture_append(&cap, "again", 5);
	assert_int_equal(capture_copy(&cap, out, CAPTURE_SIZE), 5);
	capture_free(&cap);
	snprintf(path, sizeof path, "%s/vm1.log", dir);
	assert_non_null(f = fopen(path, "r"));
	assert_int_equal(fread(buf, 1, 5, f), 5);
	assert_memory_equal(buf, "hello", 5);
	fclose(f);
	unlink(path);
	rmdir(dir);
	free(big);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_start_is_slow),
		cmocka_unit_test(test_third_fast_start_fails),
		cmocka_unit_test(test_slow_start_resets),
		cmocka_unit_test(test_boundary_is_slow),
		cmocka_unit_test(test_capture_keeps_last_bytes),
		cmocka_unit_test(test_capture_huge_append_and_log),
		cmocka_unit_test(test_capture_kept_without_log),
		cmocka_unit_test(test_capture_log_rotates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
