/*
 * vmtop-diskio: drive the disk layer (vmm/disk) from the shell, for the
 * interop tests (tests/disk/run.sh) and the benchmark (tests/bench/disk.sh).
 *
 *   dump IMAGE OUT		read the whole image (with its chain) into OUT
 *   mirror IMAGE RAW SEED N	N random writes, discards and write-zeroes,
 *				done to IMAGE and done alike to the raw RAW
 *   hammer IMAGE SEED		random writes, discards and flushes until
 *				killed; prints "ready" after the first flush
 *   bench IMAGE MODE COUNT	MODE seq-write, rand-write, seq-read or
 *				rand-read: COUNT 4 KiB requests, then the
 *				throughput in MiB/s and requests per second
 *   script MODE COUNT SIZE	the same requests on a SIZE-byte disk as
 *				qemu-io commands, for the same run in qemu
 */
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "disk.h"
#include "disk_ops.h"

#define CHUNK	(1 << 20)
#define BLOCK	4096

static uint64_t	rnd_state;

static uint64_t
rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void
die(const char *what, struct disk *d)
{
	const char	*why = d != NULL ? disk_error(d) : NULL;

	fprintf(stderr, "vmtop-diskio: %s: %s\n", what,
	    why != NULL ? why : strerror(errno));
	exit(1);
}

static struct disk *
open_image(const char *path, int flags)
{
	struct disk	*d;
	char		 err[1024];

	if ((d = disk_open_path(path, DISK_FORMAT_AUTO, flags, err,
	    sizeof err)) == NULL) {
		fprintf(stderr, "vmtop-diskio: %s\n", err);
		exit(1);
	}
	return d;
}

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmd_dump(const char *image, const char *out)
{
	struct disk	*d = open_image(image, DISK_RDONLY | DISK_NOLOCK);
	struct iovec	 iov;
	uint64_t	 off, n;
	char		*buf = malloc(CHUNK);
	int		 fd;

	if ((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		die(out, NULL);
	for (off = 0; off < d->size; off += n) {
		n = d->size - off < CHUNK ? d->size - off : CHUNK;
		iov.iov_base = buf;
		iov.iov_len = n;
		if (d->ops->readv(d, &iov, 1, off) != (ssize_t)n)
			die("read", d);
		if (pwrite(fd, buf, n, off) != (ssize_t)n)
			die(out, NULL);
	}
	if (ftruncate(fd, d->size) == -1)
		die(out, NULL);
	close(fd);
	d->ops->close(d);
	free(buf);
	return 0;
}

/* A request: offset and length, either sector-aligned or not at all. */
static void
pick(uint64_t size, uint64_t maxlen, uint64_t *off, uint64_t *len)
{
	*len = 1 + rnd() % maxlen;
	if (*len > size)
		*len = size;
	*off = rnd() % (size - *len + 1);
	if (rnd() % 4 != 0) {
		*off &= ~511ULL;
		*len = (*len + 511) & ~511ULL;
		if (*off + *len > size)
			*len = size - *off;
	}
}

static void
fill(uint8_t *buf, uint64_t len, uint64_t seed)
{
	uint64_t	i;

	for (i = 0; i < len; i++)
		buf[i] = (seed + i * 131) >> (i % 7);
}

static int
cmd_mirror(const char *image, const char *raw, uint64_t seed, long count)
{
	struct disk	*d = open_image(image, 0);
	struct disk_info info;
	uint64_t	 off, len, maxlen, cs, a, b;
	struct iovec	 iov[3];
	uint8_t		*buf, *zero;
	long		 i;
	int		 fd, op;

	if ((fd = open(raw, O_RDWR)) == -1)
		die(raw, NULL);
	if (disk_info(d, &info) == -1)
		die("info", d);
	cs = info.cluster_size ? info.cluster_size : 1;
	maxlen = d->size < 3 * CHUNK ? d->size : 3 * CHUNK;
	buf = malloc(maxlen);
	zero = calloc(1, maxlen);
	rnd_state = seed * 2654435761ULL + 1;
	for (i = 0; i < count; i++) {
		pick(d->size, maxlen, &off, &len);
		op = rnd() % 10;
		if (getenv("DISKIO_TRACE") != NULL)
			fprintf(stderr, "%ld: op %d off %llu len %llu\n", i,
			    op, (unsigned long long)off,
			    (unsigned long long)len);
		if (op < 7) {
			fill(buf, len, rnd());
			/* Three buffers, to exercise the iovec slicing. */
			iov[0].iov_base = buf;
			iov[0].iov_len = len / 3;
			iov[1].iov_base = buf + len / 3;
			iov[1].iov_len = len / 3;
			iov[2].iov_base = buf + 2 * (len / 3);
			iov[2].iov_len = len - 2 * (len / 3);
			if (d->ops->writev(d, iov, 3, off) != (ssize_t)len)
				die("write", d);
			if (pwrite(fd, buf, len, off) != (ssize_t)len)
				die(raw, NULL);
		} else if (op < 9) {
			if (d->ops->write_zeroes(d, off, len, op == 8) == -1)
				die("write-zeroes", d);
			if (pwrite(fd, zero, len, off) != (ssize_t)len)
				die(raw, NULL);
		} else {
			/*
			 * Discard: whole clusters read as zeros here (no
			 * base, or v3); the rest keeps its data.
			 */
			if (d->ops->discard(d, off, len) == -1)
				die("discard", d);
			a = (off + cs - 1) / cs * cs;
			b = (off + len) / cs * cs;
			if (off + len == d->size)
				b = off + len;
			if (b > a && pwrite(fd, zero, b - a, a) !=
			    (ssize_t)(b - a))
				die(raw, NULL);
		}
		if (rnd() % 16 == 0 && d->ops->flush(d) == -1)
			die("flush", d);
	}
	d->ops->close(d);
	close(fd);
	free(buf);
	free(zero);
	return 0;
}

static int
cmd_hammer(const char *image, uint64_t seed)
{
	struct disk	*d = open_image(image, 0);
	uint64_t	 off, len, maxlen = 256 * 1024;
	struct iovec	 iov;
	uint8_t		*buf = malloc(maxlen);
	long		 i;

	rnd_state = seed * 2654435761ULL + 1;
	for (i = 0;; i++) {
		pick(d->size, maxlen, &off, &len);
		fill(buf, len, rnd());
		iov.iov_base = buf;
		iov.iov_len = len;
		if (rnd() % 8 == 0) {
			if (d->ops->discard(d, off, len) == -1)
				die("discard", d);
		} else if (d->ops->writev(d, &iov, 1, off) != (ssize_t)len)
			die("write", d);
		if (i % 64 == 63) {
			if (d->ops->flush(d) == -1)
				die("flush", d);
			if (i == 63) {
				printf("ready\n");
				fflush(stdout);
			}
		}
	}
	return 0;
}

static int
cmd_bench(const char *image, const char *mode, long count)
{
	int		 write = strstr(mode, "write") != NULL;
	int		 random = strncmp(mode, "rand", 4) == 0;
	struct disk	*d = open_image(image, write ? 0 : DISK_RDONLY);
	uint64_t	 blocks = d->size / BLOCK, off;
	struct iovec	 iov;
	uint8_t		*buf = malloc(BLOCK);
	double		 t0, t;
	long		 i;

	if (blocks == 0)
		die("the image is too small", NULL);
	rnd_state = 42;
	memset(buf, 0xa5, BLOCK);
	iov.iov_base = buf;
	iov.iov_len = BLOCK;
	t0 = now();
	for (i = 0; i < count; i++) {
		off = (random ? rnd() % blocks : (uint64_t)i % blocks) * BLOCK;
		if (write) {
			buf[0] = i;
			if (d->ops->writev(d, &iov, 1, off) != BLOCK)
				die("write", d);
		} else if (d->ops->readv(d, &iov, 1, off) != BLOCK)
			die("read", d);
	}
	if (write && d->ops->flush(d) == -1)
		die("flush", d);
	t = now() - t0;
	d->ops->close(d);
	printf("%s: %ld requests in %.3f s: %.1f MiB/s, %.0f requests/s\n",
	    mode, count, t, count * (double)BLOCK / (1 << 20) / t, count / t);
	free(buf);
	return 0;
}

/* The request sequence of cmd_bench(), as qemu-io commands. */
static int
cmd_script(const char *mode, long count, uint64_t size)
{
	int		 write = strstr(mode, "write") != NULL;
	int		 random = strncmp(mode, "rand", 4) == 0;
	uint64_t	 blocks = size / BLOCK, off;
	long		 i;

	rnd_state = 42;
	for (i = 0; i < count; i++) {
		off = (random ? rnd() % blocks : (uint64_t)i % blocks) * BLOCK;
		printf("%s -q %llu 4k\n", write ? "write" : "read",
		    (unsigned long long)off);
	}
	if (write)
		printf("flush\n");
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "dump") == 0)
		return cmd_dump(argv[2], argv[3]);
	if (argc == 6 && strcmp(argv[1], "mirror") == 0)
		return cmd_mirror(argv[2], argv[3], strtoull(argv[4], NULL,
		    0), atol(argv[5]));
	if (argc == 4 && strcmp(argv[1], "hammer") == 0)
		return cmd_hammer(argv[2], strtoull(argv[3], NULL, 0));
	if (argc == 5 && strcmp(argv[1], "bench") == 0)
		return cmd_bench(argv[2], argv[3], atol(argv[4]));
	if (argc == 5 && strcmp(argv[1], "script") == 0)
		return cmd_script(argv[2], atol(argv[3]), strtoull(argv[4],
		    NULL, 0));
	fprintf(stderr, "usage: vmtop-diskio dump IMAGE OUT | mirror IMAGE "
	    "RAW SEED N | hammer IMAGE SEED | bench IMAGE MODE COUNT | "
	    "script MODE COUNT SIZE\n");
	return 2;
}
