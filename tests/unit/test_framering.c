/*
 * Unit tests for lib/framering.c, the shared-memory frame rings between
 * vmtop-slirp and the runner: the sealed memfd and the checks on it,
 * frames in and out (gathered, wrapped, the ring full), the sleep and
 * doorbell flags, and a hostile peer scribbling over the shared memory,
 * which must break the ring, never make the other side leave it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "framering.h"

/* The shared layout, spelled out here to poke it as a peer would. */
#define PAGE		4096
#define SIZE		(2 * PAGE + 2 * FRAMERING_DATA)
#define OFF_HEAD	0
#define OFF_TAIL	64
#define OFF_SLEEPS	128
#define OFF_WAITS	192
#define PAD		0xffffffffU
#define REC(len)	(8 + (((size_t)(len) + 7) & ~(size_t)7))

/* Ring 0 carries frames from the helper to the runner, ring 1 back. */
static struct {
	int			 fd;
	struct framering_pair	 helper;
	struct framering_pair	 runner;
	uint8_t			*raw;	/* our own view, to poke */
	size_t			 rawlen;
} fx;

static uint8_t	pat[2 * FRAMERING_MAX_FRAME];
static uint32_t	seed;

static uint32_t
rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 17;
	seed ^= seed << 5;
	return seed;
}

static int
group_setup(void **state)
{
	size_t	i;

	(void)state;
	seed = 0x12345678;
	for (i = 0; i < sizeof pat; i++)
		pat[i] = rnd();
	return 0;
}

static int
setup(void **state)
{
	struct stat	st;

	(void)state;
	seed = 0x9e3779b9;
	if ((fx.fd = framering_create()) == -1 ||
	    framering_map(fx.fd, FRAMERING_HELPER, &fx.helper) == -1 ||
	    framering_map(fx.fd, FRAMERING_RUNNER, &fx.runner) == -1 ||
	    fstat(fx.fd, &st) == -1)
		return -1;
	fx.rawlen = st.st_size;
	fx.raw = mmap(NULL, fx.rawlen, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fx.fd, 0);
	return fx.raw == MAP_FAILED ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	framering_unmap(&fx.helper);
	framering_unmap(&fx.runner);
	munmap(fx.raw, fx.rawlen);
	close(fx.fd);
	return 0;
}

static uint64_t *
head(int ring)
{
	return (uint64_t *)(fx.raw + ring * PAGE + OFF_HEAD);
}

static uint64_t *
tail(int ring)
{
	return (uint64_t *)(fx.raw + ring * PAGE + OFF_TAIL);
}

static uint8_t *
data(int ring)
{
	return fx.raw + 2 * PAGE + ring * FRAMERING_DATA;
}

/* The length word of the record at off in ring's data area. */
static uint32_t *
hdr(int ring, size_t off)
{
	return (uint32_t *)(data(ring) + off);
}

/* Frame n of len bytes: the pattern from an offset n picks, n in front. */
static void
frame(uint8_t *buf, uint32_t n, size_t len)
{
	memcpy(buf, pat + (n * 4099U) % FRAMERING_MAX_FRAME, len);
	if (len >= sizeof n)
		memcpy(buf, &n, sizeof n);
}

/* Push frame n gathered from four iovecs, one of them empty. */
static int
push(struct framering *r, uint32_t n, size_t len)
{
	static uint8_t	buf[FRAMERING_MAX_FRAME + 1];
	struct iovec	iov[4];
	size_t		a = len / 3, b = len / 2;

	frame(buf, n, len);
	iov[0].iov_base = buf;
	iov[0].iov_len = a;
	iov[1].iov_base = buf + a;
	iov[1].iov_len = 0;
	iov[2].iov_base = buf + a;
	iov[2].iov_len = b - a;
	iov[3].iov_base = buf + b;
	iov[3].iov_len = len - b;
	return framering_push(r, iov, 4, len);
}

/* A frame the consumer got lies wholly in its ring's data area. */
static void
inside(const struct framering *r, const uint8_t *f, size_t len)
{
	assert_true((uintptr_t)f >= (uintptr_t)r->data + 8);
	assert_true((uintptr_t)f + len <=
	    (uintptr_t)r->data + FRAMERING_DATA);
}

/* The next frame is frame n of len bytes: check it, then pop it. */
static const uint8_t *
expect(struct framering *r, uint32_t n, size_t len)
{
	static uint8_t	 want[FRAMERING_MAX_FRAME];
	const uint8_t	*f;
	size_t		 got = 12345;

	f = framering_peek(r, &got);
	assert_non_null(f);
	assert_int_equal(got, len);
	inside(r, f, got);
	frame(want, n, len);
	assert_memory_equal(f, want, len);
	framering_pop(r);
	return f;
}

static void
expect_empty(struct framering *r)
{
	size_t	len = 12345;

	assert_null(framering_peek(r, &len));
	assert_int_equal(len, 0);
	assert_int_equal(framering_broken(r), 0);
}

/* Ring 0's consumer (the runner) saw it broken: nothing more comes. */
static void
consumer_broken(void)
{
	struct framering	*r = &fx.runner.rx;
	uint64_t		 t = *tail(0);
	size_t			 len = 12345;

	assert_null(framering_peek(r, &len));
	assert_int_equal(len, 0);
	assert_int_equal(framering_broken(r), 1);
	framering_pop(r);
	assert_int_equal(*tail(0), t);
	assert_null(framering_peek(r, &len));
}

/* Ring 0's producer (the helper) saw it broken. */
static void
producer_broken(void)
{
	struct framering	*r = &fx.helper.tx;
	uint64_t		 h = *head(0);

	assert_int_equal(push(r, 1, 60), -1);
	assert_int_equal(framering_broken(r), 1);
	assert_int_equal(push(r, 2, 60), -1);
	assert_int_equal(*head(0), h);
}

/* Push and pop frames of len until ring 0 stands at pos. */
static void
advance(uint64_t pos, size_t len)
{
	uint32_t	n = 1000;

	while (fx.helper.tx.pos + REC(len) <= pos) {
		assert_int_equal(push(&fx.helper.tx, n, len), 1);
		expect(&fx.runner.rx, n++, len);
	}
	assert_int_equal(fx.helper.tx.pos, pos);
	assert_int_equal(fx.runner.rx.pos, pos);
}

static void
test_create_map(void **state)
{
	struct stat	 st;
	const uint8_t	*f;
	size_t		 len;
	int		 seals;

	(void)state;
	assert_int_equal(fstat(fx.fd, &st), 0);
	assert_int_equal(st.st_size, SIZE);
	seals = fcntl(fx.fd, F_GET_SEALS);
	assert_int_equal(seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL),
	    F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	assert_int_equal(ftruncate(fx.fd, PAGE), -1);
	assert_int_equal(fcntl(fx.fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	assert_int_equal(fx.helper.maplen, SIZE);

	/* The helper's tx is the runner's rx: ring 0. */
	assert_int_equal(push(&fx.helper.tx, 1, 60), 1);
	expect_empty(&fx.helper.rx);
	assert_int_equal(*head(0), REC(60));
	assert_int_equal(*hdr(0, 0), 60);
	assert_int_equal(*hdr(0, 4), 0);
	f = framering_peek(&fx.runner.rx, &len);
	assert_ptr_equal(f, fx.runner.rx.data + 8);
	assert_memory_equal(f, data(0) + 8, 60);
	expect(&fx.runner.rx, 1, 60);
	assert_int_equal(*tail(0), REC(60));
	expect_empty(&fx.runner.rx);

	/* The runner's tx is the helper's rx: ring 1. */
	assert_int_equal(push(&fx.runner.tx, 2, 1514), 1);
	expect_empty(&fx.runner.rx);
	assert_int_equal(*head(1), REC(1514));
	assert_int_equal(*hdr(1, 0), 1514);
	expect(&fx.helper.rx, 2, 1514);
	assert_int_equal(*tail(1), REC(1514));
	expect_empty(&fx.helper.rx);
}

/* map must refuse fd with EINVAL and leave p empty. */
static void
refused(int fd)
{
	struct framering_pair	p;

	memset(&p, 0xa5, sizeof p);
	errno = 0;
	assert_int_equal(framering_map(fd, FRAMERING_RUNNER, &p), -1);
	assert_int_equal(errno, EINVAL);
	assert_null(p.map);
	framering_unmap(&p);
}

static void
test_map_unsealed(void **state)
{
	int	fd;

	(void)state;
	fd = memfd_create("test", MFD_CLOEXEC);
	assert_int_not_equal(fd, -1);
	assert_int_equal(ftruncate(fd, SIZE), 0);
	refused(fd);
	close(fd);

	/* Sealing allowed, yet nothing sealed; then half sealed. */
	fd = memfd_create("test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	assert_int_not_equal(fd, -1);
	assert_int_equal(ftruncate(fd, SIZE), 0);
	refused(fd);
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW), 0);
	refused(fd);
	close(fd);

	fd = memfd_create("test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	assert_int_not_equal(fd, -1);
	assert_int_equal(ftruncate(fd, SIZE), 0);
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	refused(fd);
	close(fd);
}

static void
test_map_wrong_size(void **state)
{
	off_t	sizes[] = { 0, SIZE - PAGE, SIZE - 1, SIZE + 1, SIZE + PAGE };
	size_t	i;
	int	fd;

	(void)state;
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		fd = memfd_create("test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		assert_int_not_equal(fd, -1);
		assert_int_equal(ftruncate(fd, sizes[i]), 0);
		assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK |
		    F_SEAL_GROW | F_SEAL_SEAL), 0);
		refused(fd);
		close(fd);
	}
}

static void
test_map_regular_file(void **state)
{
	char	path[] = "/tmp/test_framering.XXXXXX";
	int	fd, pfd[2];

	(void)state;
	fd = mkstemp(path);
	assert_int_not_equal(fd, -1);
	unlink(path);
	assert_int_equal(ftruncate(fd, SIZE), 0);
	refused(fd);
	close(fd);

	/* Nor a directory, nor a pipe. */
	fd = open("/tmp", O_RDONLY | O_DIRECTORY);
	assert_int_not_equal(fd, -1);
	refused(fd);
	close(fd);
	assert_int_equal(pipe(pfd), 0);
	refused(pfd[0]);
	close(pfd[0]);
	close(pfd[1]);
}

static void
test_push_peek_pop(void **state)
{
	size_t		 lens[] = { 1, 7, 8, 9, 1514, 65536 };
	size_t		 i, len;
	const uint8_t	*f;

	(void)state;
	expect_empty(&fx.runner.rx);

	/* One at a time. */
	for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		assert_int_equal(push(&fx.helper.tx, i, lens[i]), 1);
		/* A peek leaves the frame in the ring. */
		f = framering_peek(&fx.runner.rx, &len);
		assert_non_null(f);
		assert_int_equal(len, lens[i]);
		assert_ptr_equal(expect(&fx.runner.rx, i, lens[i]), f);
		expect_empty(&fx.runner.rx);
	}
	assert_int_equal(fx.runner.rx.pos, fx.helper.tx.pos);

	/* All queued, then out in order. */
	for (i = 0; i < sizeof lens / sizeof lens[0]; i++)
		assert_int_equal(push(&fx.helper.tx, 100 + i, lens[i]), 1);
	for (i = 0; i < sizeof lens / sizeof lens[0]; i++)
		expect(&fx.runner.rx, 100 + i, lens[i]);
	expect_empty(&fx.runner.rx);
	assert_int_equal(*tail(0), *head(0));
	/* A pop on an empty ring does nothing. */
	framering_pop(&fx.runner.rx);
	assert_int_equal(*tail(0), *head(0));
	expect_empty(&fx.runner.rx);
}

static void
test_bad_len(void **state)
{
	uint64_t	h;

	(void)state;
	h = *head(0);
	assert_int_equal(push(&fx.helper.tx, 1, 0), -1);
	assert_int_equal(push(&fx.helper.tx, 1, FRAMERING_MAX_FRAME + 1),
	    -1);
	assert_int_equal(framering_push(&fx.helper.tx, NULL, 0, SIZE_MAX),
	    -1);
	assert_int_equal(*head(0), h);
	expect_empty(&fx.runner.rx);
	/* Refusing a length does not break the ring. */
	assert_int_equal(framering_broken(&fx.helper.tx), 0);
	assert_int_equal(push(&fx.helper.tx, 2, 64), 1);
	expect(&fx.runner.rx, 2, 64);
}

/* len, not the iovecs, sets the frame: cut or padded with zeroes. */
static void
test_gather(void **state)
{
	uint8_t		 buf[100], zero[100];
	struct iovec	 iov[2];
	const uint8_t	*f;
	size_t		 len;

	(void)state;
	memset(buf, 0x77, sizeof buf);
	memset(zero, 0, sizeof zero);
	iov[0].iov_base = buf;
	iov[0].iov_len = 30;
	iov[1].iov_base = buf + 30;
	iov[1].iov_len = 70;
	assert_int_equal(framering_push(&fx.helper.tx, iov, 2, 50), 1);
	f = framering_peek(&fx.runner.rx, &len);
	assert_non_null(f);
	assert_int_equal(len, 50);
	assert_memory_equal(f, buf, 50);
	/* Nothing written past the frame. */
	assert_memory_equal(data(0) + 8 + 50, zero, 50);
	framering_pop(&fx.runner.rx);

	/* Fill the ring with 0x77, so stale bytes would show. */
	while (framering_push(&fx.helper.tx, iov, 2, 100) == 1)
		;
	while (framering_peek(&fx.runner.rx, &len) != NULL)
		framering_pop(&fx.runner.rx);
	assert_int_equal(framering_push(&fx.helper.tx, iov, 1, 100), 1);
	f = framering_peek(&fx.runner.rx, &len);
	assert_non_null(f);
	assert_int_equal(len, 100);
	assert_memory_equal(f, buf, 30);
	assert_memory_equal(f + 30, zero, 70);
	framering_pop(&fx.runner.rx);

	assert_int_equal(framering_push(&fx.helper.tx, NULL, 0, 100), 1);
	f = framering_peek(&fx.runner.rx, &len);
	assert_non_null(f);
	assert_int_equal(len, 100);
	assert_memory_equal(f, zero, 100);
	framering_pop(&fx.runner.rx);
	expect_empty(&fx.runner.rx);
}

/*
 * Many frames of random lengths, pushed in bursts until the ring is full
 * and popped in bursts, so that the ring wraps over and over, with pad
 * records. Each frame must sit where a model of the layout puts it.
 */
static void
test_wrap(void **state)
{
	enum { FRAMES = 40000 };
	static uint32_t	 lens[FRAMES];
	const uint8_t	*f;
	size_t		 off = 0;
	uint32_t	 pushed = 0, popped = 0, burst, i;
	int		 r, full = 0, pads = 0;

	(void)state;
	for (i = 0; i < FRAMES; i++)
		lens[i] = 14 + rnd() % (FRAMERING_MAX_FRAME - 14 + 1);
	lens[0] = 14;
	lens[1] = FRAMERING_MAX_FRAME;
	while (popped < FRAMES) {
		burst = 1 + rnd() % 60;
		for (i = 0; i < burst && pushed < FRAMES; i++) {
			r = push(&fx.helper.tx, pushed, lens[pushed]);
			assert_int_not_equal(r, -1);
			if (r == 0) {
				full++;
				assert_int_not_equal(pushed, popped);
				break;
			}
			pushed++;
		}
		burst = 1 + rnd() % 40;
		for (i = 0; i < burst && popped < pushed; i++) {
			if (off + REC(lens[popped]) > FRAMERING_DATA) {
				off = 0;
				pads++;
			}
			f = expect(&fx.runner.rx, popped, lens[popped]);
			assert_ptr_equal(f, fx.runner.rx.data + off + 8);
			off += REC(lens[popped]);
			if (off == FRAMERING_DATA)
				off = 0;
			popped++;
		}
		if (popped == pushed)
			expect_empty(&fx.runner.rx);
	}
	expect_empty(&fx.runner.rx);
	assert_int_equal(framering_broken(&fx.helper.tx), 0);
	assert_int_equal(fx.runner.rx.pos, fx.helper.tx.pos);
	assert_int_equal(*head(0), fx.helper.tx.pos);
	assert_int_equal(*tail(0), fx.helper.tx.pos);
	assert_true(fx.helper.tx.pos / FRAMERING_DATA > 1000);
	assert_true(pads > 1000);
	assert_true(full > 100);
}

static void
test_full(void **state)
{
	const size_t	 len = 1500;
	const uint8_t	*f;
	uint32_t	 n = 0, i;
	int		 r;

	(void)state;
	assert_int_equal(framering_producer_waits(&fx.runner.rx), 0);
	assert_int_equal(framering_want_space(&fx.helper.tx, len), 1);
	assert_int_equal(framering_producer_waits(&fx.runner.rx), 1);
	assert_int_equal(framering_producer_waits(&fx.runner.rx), 0);

	while ((r = push(&fx.helper.tx, n, len)) == 1)
		n++;
	assert_int_equal(r, 0);
	assert_int_equal(n, FRAMERING_DATA / REC(len));
	assert_int_equal(push(&fx.helper.tx, n, len), 0);
	assert_int_equal(push(&fx.helper.tx, n, FRAMERING_MAX_FRAME), 0);
	assert_int_equal(*head(0), n * REC(len));
	assert_int_equal(framering_want_space(&fx.helper.tx, len), 0);
	assert_int_equal(framering_want_space(&fx.helper.tx, len), 0);
	assert_int_equal(framering_broken(&fx.helper.tx), 0);

	/* One frame out makes room for one more, after a pad. */
	expect(&fx.runner.rx, 0, len);
	assert_int_equal(framering_producer_waits(&fx.runner.rx), 1);
	assert_int_equal(framering_producer_waits(&fx.runner.rx), 0);
	assert_int_equal(framering_want_space(&fx.helper.tx, len), 1);
	assert_int_equal(framering_want_space(&fx.helper.tx, len + 8), 0);
	assert_int_equal(push(&fx.helper.tx, n, len), 1);
	assert_int_equal(*hdr(0, n * REC(len)), PAD);
	assert_int_equal(push(&fx.helper.tx, n + 1, 1), 0);
	for (i = 1; i < n; i++)
		expect(&fx.runner.rx, i, len);
	f = expect(&fx.runner.rx, n, len);
	assert_ptr_equal(f, fx.runner.rx.data + 8);
	expect_empty(&fx.runner.rx);
	assert_int_equal(framering_want_space(&fx.helper.tx,
	    FRAMERING_MAX_FRAME), 1);
}

static void
test_sleep(void **state)
{
	(void)state;
	/* Nobody asked for a doorbell yet. */
	assert_int_equal(framering_consumer_asleep(&fx.helper.tx), 0);
	assert_int_equal(push(&fx.helper.tx, 1, 60), 1);
	assert_int_equal(framering_consumer_asleep(&fx.helper.tx), 0);
	expect(&fx.runner.rx, 1, 60);

	assert_int_equal(framering_want_frames(&fx.runner.rx), 0);
	assert_int_equal(*(uint32_t *)(fx.raw + OFF_SLEEPS), 1);
	assert_int_equal(push(&fx.helper.tx, 2, 60), 1);
	assert_int_equal(framering_consumer_asleep(&fx.helper.tx), 1);
	assert_int_equal(framering_consumer_asleep(&fx.helper.tx), 0);
	assert_int_equal(framering_want_frames(&fx.runner.rx), 1);
	expect(&fx.runner.rx, 2, 60);
	assert_int_equal(framering_want_frames(&fx.runner.rx), 0);
	expect_empty(&fx.runner.rx);

	/* The other ring's flags are its own. */
	assert_int_equal(framering_consumer_asleep(&fx.runner.tx), 0);
	assert_int_equal(framering_want_frames(&fx.helper.rx), 0);
	assert_int_equal(*(uint32_t *)(fx.raw + PAGE + OFF_SLEEPS), 1);
	assert_int_equal(push(&fx.runner.tx, 3, 60), 1);
	assert_int_equal(framering_consumer_asleep(&fx.runner.tx), 1);
	assert_int_equal(framering_want_space(&fx.runner.tx, 60), 1);
	assert_int_equal(*(uint32_t *)(fx.raw + PAGE + OFF_WAITS), 1);
	assert_int_equal(framering_producer_waits(&fx.runner.rx), 0);
	assert_int_equal(framering_producer_waits(&fx.helper.rx), 1);
}

static void
test_hostile_head_too_far(void **state)
{
	uint64_t	h;

	(void)state;
	assert_int_equal(push(&fx.helper.tx, 1, 60), 1);
	h = *head(0);
	*head(0) = *tail(0) + FRAMERING_DATA + 8;
	consumer_broken();
	assert_int_equal(framering_want_frames(&fx.runner.rx), 0);
	/* Broken for good, even once the head is right again. */
	*head(0) = h;
	consumer_broken();

	/* Far ahead, or behind the consumer. */
	teardown(state);
	assert_int_equal(setup(state), 0);
	*head(0) = UINT64_MAX - 7;
	consumer_broken();
}

static void
test_hostile_head_unaligned(void **state)
{
	(void)state;
	assert_int_equal(push(&fx.helper.tx, 1, 60), 1);
	*head(0) += 4;
	consumer_broken();
	assert_int_equal(framering_want_frames(&fx.runner.rx), 0);
	teardown(state);
	assert_int_equal(setup(state), 0);
	*head(0) = 3;
	consumer_broken();
}

static void
test_hostile_len_zero(void **state)
{
	(void)state;
	assert_int_equal(push(&fx.helper.tx, 1, 60), 1);
	*hdr(0, 0) = 0;
	consumer_broken();
}

static void
test_hostile_len_too_big(void **state)
{
	(void)state;
	assert_int_equal(push(&fx.helper.tx, 1, 60), 1);
	/* All published, only the length is wrong. */
	*head(0) = REC(FRAMERING_MAX_FRAME + 1);
	*hdr(0, 0) = FRAMERING_MAX_FRAME + 1;
	consumer_broken();

	teardown(state);
	assert_int_equal(setup(state), 0);
	assert_int_equal(push(&fx.helper.tx, 1, 60), 1);
	*head(0) = FRAMERING_DATA;
	*hdr(0, 0) = 0x7fffffff;
	consumer_broken();
}

static void
test_hostile_len_past_head(void **state)
{
	size_t	len;

	(void)state;
	assert_int_equal(push(&fx.helper.tx, 1, 100), 1);
	*hdr(0, 0) = 105;	/* a record of 120 bytes, 112 published */
	consumer_broken();

	/* Between peek and pop. */
	teardown(state);
	assert_int_equal(setup(state), 0);
	assert_int_equal(push(&fx.helper.tx, 1, 100), 1);
	assert_non_null(framering_peek(&fx.runner.rx, &len));
	*hdr(0, 0) = 200;
	consumer_broken();
	assert_int_equal(*tail(0), 0);
}

/* Enough published, but the record would run past the data area. */
static void
test_hostile_len_past_end(void **state)
{
	const uint64_t	at = FRAMERING_DATA - 64;

	(void)state;
	advance(15 * REC(FRAMERING_MAX_FRAME), FRAMERING_MAX_FRAME);
	advance(at, at - fx.helper.tx.pos - 8);
	assert_int_equal(push(&fx.helper.tx, 1, 8), 1);
	*hdr(0, at) = 1000;
	*head(0) = at + REC(1000);
	consumer_broken();

	/* The record after a pad, longer than what the head publishes. */
	teardown(state);
	assert_int_equal(setup(state), 0);
	advance(15 * REC(FRAMERING_MAX_FRAME), FRAMERING_MAX_FRAME);
	advance(at, at - fx.helper.tx.pos - 8);
	assert_int_equal(push(&fx.helper.tx, 1, 1000), 1);
	assert_int_equal(*hdr(0, at), PAD);
	assert_int_equal(*hdr(0, 0), 1000);
	assert_int_equal(*head(0), FRAMERING_DATA + REC(1000));
	*hdr(0, 0) = 1001;
	consumer_broken();
}

static void
test_hostile_pad_short(void **state)
{
	(void)state;
	/* A pad where only its own header is published. */
	advance(REC(100), 100);
	assert_int_equal(push(&fx.helper.tx, 1, 100), 1);
	*hdr(0, REC(100)) = PAD;
	consumer_broken();

	/* A pad published, but not the header after it. */
	teardown(state);
	assert_int_equal(setup(state), 0);
	advance(REC(100), 100);
	*hdr(0, REC(100)) = PAD;
	*head(0) = FRAMERING_DATA;
	consumer_broken();

	/* A pad at the start of the data area would loop. */
	teardown(state);
	assert_int_equal(setup(state), 0);
	*hdr(0, 0) = PAD;
	*head(0) = FRAMERING_DATA;
	consumer_broken();
}

static void
test_hostile_tail_back(void **state)
{
	(void)state;
	assert_int_equal(push(&fx.helper.tx, 1, 60), 1);
	assert_int_equal(push(&fx.helper.tx, 2, 60), 1);
	*tail(0) = *head(0) - FRAMERING_DATA - 8;
	producer_broken();
	assert_int_equal(framering_want_space(&fx.helper.tx, 60), 0);

	teardown(state);
	assert_int_equal(setup(state), 0);
	assert_int_equal(push(&fx.helper.tx, 1, 60), 1);
	*tail(0) = 4;
	producer_broken();
	assert_int_equal(framering_want_space(&fx.helper.tx, 60), 0);
	/* Broken for good. */
	*tail(0) = 0;
	producer_broken();
}

static void
test_hostile_tail_ahead(void **state)
{
	(void)state;
	assert_int_equal(push(&fx.helper.tx, 1, 60), 1);
	*tail(0) = *head(0) + 8;
	producer_broken();
	assert_int_equal(framering_want_space(&fx.helper.tx, 60), 0);

	teardown(state);
	assert_int_equal(setup(state), 0);
	*tail(0) = UINT64_MAX / 2;
	producer_broken();
}

static uint32_t
any_len(void)
{
	static const uint32_t	lens[] = { 0, 1, 7, 8, 1514, 65535,
				    FRAMERING_MAX_FRAME,
				    FRAMERING_MAX_FRAME + 1, FRAMERING_DATA,
				    FRAMERING_DATA - 8, PAD, PAD - 1 };

	if (rnd() % 2)
		return rnd();
	return lens[rnd() % (sizeof lens / sizeof lens[0])];
}

static uint64_t
any_index(uint64_t at)
{
	switch (rnd() % 4) {
	case 0:
		return at + (rnd() % (FRAMERING_DATA / 8 + 2)) * 8;
	case 1:
		return at - (rnd() % (FRAMERING_DATA / 8 + 2)) * 8;
	case 2:
		return at + (int32_t)rnd() % 64;
	default:
		return (uint64_t)rnd() << 32 | rnd();
	}
}

/*
 * Random scribbles over ring 0's indexes and records: whatever comes out
 * lies in the ring, and nothing outside ring 0 changes (ring 1 unused,
 * all zeroes).
 */
static void
test_hostile_random(void **state)
{
	static uint8_t	 zero[PAGE];
	const uint8_t	*f;
	size_t		 len, off;
	uint32_t	 n, frames;
	int		 round, i, k;

	(void)state;
	for (round = 0; round < 300; round++) {
		if (round > 0) {
			teardown(state);
			assert_int_equal(setup(state), 0);
		}
		seed = 0x2545f491 + round;
		/* Start anywhere in the ring, wrapped or not. */
		frames = rnd() % 1100;
		for (n = 0; n < frames; n++) {
			assert_int_equal(push(&fx.helper.tx, n, 1000), 1);
			expect(&fx.runner.rx, n, 1000);
		}
		frames = 1 + rnd() % 20;
		for (n = 0; n < frames; n++)
			if (push(&fx.helper.tx, n, 14 + rnd() % 2000) != 1)
				break;
		for (i = 0; i < 50; i++) {
			off = fx.runner.rx.pos % FRAMERING_DATA;
			switch (rnd() % 5) {
			case 0:
				*head(0) = any_index(*head(0));
				break;
			case 1:
				*tail(0) = any_index(*tail(0));
				break;
			case 2:
				*hdr(0, off) = any_len();
				break;
			case 3:
				*hdr(0, (off + (rnd() % 64) * 8) %
				    FRAMERING_DATA) = any_len();
				break;
			default:
				*hdr(0, (rnd() % (FRAMERING_DATA / 8)) * 8) =
				    any_len();
				break;
			}
			for (k = 0; k < 4; k++) {
				if ((f = framering_peek(&fx.runner.rx,
				    &len)) == NULL) {
					assert_int_equal(len, 0);
					break;
				}
				inside(&fx.runner.rx, f, len);
				framering_pop(&fx.runner.rx);
			}
			push(&fx.helper.tx, n++, 14 + rnd() % 2000);
			framering_want_space(&fx.helper.tx, rnd() % 70000);
			framering_want_frames(&fx.runner.rx);
		}
		assert_memory_equal(fx.raw + PAGE, zero, PAGE);
		assert_memory_equal(data(1), zero, PAGE);
	}
}

/*
 * The side that creates the file (vmtop-slirp) may set the indexes
 * before the other side maps it: a start that is not a multiple of 8
 * would put a record header (or a pad) across the end of the ring, so
 * framering_map refuses it, for the tx head and the rx tail alike, and
 * nothing is written.
 */
static void
test_hostile_initial_index(void **state)
{
	struct framering_pair	 p;
	const uint8_t		 canary[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	(void)state;
	memcpy(data(1), canary, sizeof canary);
	*head(0) = *tail(0) = FRAMERING_DATA - 1;
	errno = 0;
	assert_int_equal(framering_map(fx.fd, FRAMERING_HELPER, &p), -1);
	assert_int_equal(errno, EINVAL);
	assert_null(p.map);
	errno = 0;
	assert_int_equal(framering_map(fx.fd, FRAMERING_RUNNER, &p), -1);
	assert_int_equal(errno, EINVAL);
	assert_memory_equal(data(1), canary, sizeof canary);

	/* Aligned but anywhere: accepted, and the ring works from there. */
	*head(0) = *tail(0) = FRAMERING_DATA - 8;
	assert_int_equal(framering_map(fx.fd, FRAMERING_HELPER, &p), 0);
	assert_int_equal(push(&p.tx, 1, 60), 1);
	framering_unmap(&p);
	assert_memory_equal(data(1), canary, sizeof canary);
}

#define T(name)	cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_create_map),
		T(test_map_unsealed),
		T(test_map_wrong_size),
		T(test_map_regular_file),
		T(test_push_peek_pop),
		T(test_bad_len),
		T(test_gather),
		T(test_wrap),
		T(test_full),
		T(test_sleep),
		T(test_hostile_head_too_far),
		T(test_hostile_head_unaligned),
		T(test_hostile_len_zero),
		T(test_hostile_len_too_big),
		T(test_hostile_len_past_head),
		T(test_hostile_len_past_end),
		T(test_hostile_pad_short),
		T(test_hostile_tail_back),
		T(test_hostile_tail_ahead),
		T(test_hostile_random),
		T(test_hostile_initial_index),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
