/*
 * Fuzz the qcow2 opener, reader and writer: the input is the image file
 * (in a memfd). It is opened read-only and read in a few places, with its
 * block status and `info`; then opened read-write on a copy, written,
 * discarded, zeroed, flushed and read again. A bad image may fail to
 * open or to read; it must never crash, leak or read out of bounds.
 * Seeds: tests/fuzz/qcow2-seeds (small images made by qemu-img).
 */
#include <sys/mman.h>
#include <sys/uio.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "disk.h"
#include "disk_ops.h"

#define FUZZ_MAX_FILE	(1 << 20)

static int
fuzz_file(const uint8_t *data, size_t size)
{
	int	fd = memfd_create("fuzz.qcow2", MFD_CLOEXEC);

	if (fd == -1)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	return fd;
}

/* Read len bytes at off, if the disk has them. */
static void
fuzz_read(struct disk *d, uint8_t *buf, uint64_t off, size_t len)
{
	struct iovec	iov[2];

	if (off > d->size)
		return;
	if (len > d->size - off)
		len = d->size - off;
	iov[0].iov_base = buf;
	iov[0].iov_len = len / 2;
	iov[1].iov_base = buf + len / 2;
	iov[1].iov_len = len - len / 2;
	(void)d->ops->readv(d, iov, 2, off);
}

static void
fuzz_reads(struct disk *d, uint8_t *buf, size_t buflen)
{
	struct disk_info	info;
	uint64_t		off, n;
	int			i;

	fuzz_read(d, buf, 0, buflen);
	fuzz_read(d, buf, d->size / 2, 4096);
	if (d->size > 4096)
		fuzz_read(d, buf, d->size - 4096, 4096);
	for (off = 0, i = 0; off < d->size && i < 64; off += n, i++)
		if (disk_block_status(d, off, d->size - off, &n) == -1)
			break;
	(void)disk_info(d, &info);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t		 buf[256 * 1024];
	const char		*names[1] = { "fuzz.qcow2" };
	struct disk		*d;
	struct iovec		 iov;
	char			 err[1024];
	int			 fd;

	if (size > FUZZ_MAX_FILE)
		return 0;
	fd = fuzz_file(data, size);
	d = disk_open_names(fd, DISK_FORMAT_QCOW2, NULL, 0, names,
	    DISK_RDONLY | DISK_NOBASE, err, sizeof err);
	if (d == NULL) {
		close(fd);
		return 0;
	}
	fuzz_reads(d, buf, sizeof buf);
	d->ops->close(d);

	/* Now writes, on a fresh copy. */
	fd = fuzz_file(data, size);
	d = disk_open_names(fd, DISK_FORMAT_QCOW2, NULL, 0, names,
	    DISK_NOBASE | DISK_UNSAFE, err, sizeof err);
	if (d == NULL) {
		close(fd);
		return 0;
	}
	memset(buf, 0xa5, 8192);
	iov.iov_base = buf;
	iov.iov_len = d->size < 8192 ? d->size : 8192;
	(void)d->ops->writev(d, &iov, 1, 0);
	if (d->size > 1000) {
		iov.iov_len = 1000;
		(void)d->ops->writev(d, &iov, 1, d->size / 3);
		(void)d->ops->writev(d, &iov, 1, d->size - 1000);
	}
	(void)d->ops->discard(d, 0, d->size < (1 << 20) ? d->size : 1 << 20);
	(void)d->ops->write_zeroes(d, d->size / 2, d->size / 4, 1);
	(void)d->ops->flush(d);
	fuzz_reads(d, buf, sizeof buf);
	d->ops->close(d);
	return 0;
}
