/*
 * Raw images: guest byte n is byte n of the file or block device. Flush
 * is fsync; discard punches a hole where it can and is a no-op elsewhere;
 * write-zeroes punches or zero-fills the range and falls back to writing
 * zeros. Only plain syscalls (fallocate works on block devices too), so
 * the sandbox need allow no ioctls for disks.
 */
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "disk_ops.h"
#include "iov.h"

#define RAW_ZERO_CHUNK	65536

/* The serial, worked out when the image was opened. */
struct raw {
	char	id[DISK_ID_BYTES];
};

static const struct disk_ops raw_ops;

/* preadv/pwritev until every byte has moved. */
static ssize_t
raw_rw(struct disk *d, const struct iovec *iov, int n, uint64_t off,
    int is_write)
{
	struct iovec	 v[IOV_MAX], *cur;
	size_t		 total, done = 0;
	ssize_t		 r;
	int		 cnt;

	if (disk_io_range(d, iov, n, off, &total) == -1)
		return -1;
	memcpy(v, iov, n * sizeof *iov);
	cur = v;
	cnt = n;
	while (done < total) {
		if (is_write)
			r = pwritev(d->fd, cur, cnt, off + done);
		else
			r = preadv(d->fd, cur, cnt, off + done);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0) {
			errno = EIO;	/* the image shrank under us */
			return -1;
		}
		done += r;
		iov_advance(&cur, &cnt, r);
	}
	return done;
}

static ssize_t
raw_readv(struct disk *d, const struct iovec *iov, int n, uint64_t off)
{
	return raw_rw(d, iov, n, off, 0);
}

static ssize_t
raw_writev(struct disk *d, const struct iovec *iov, int n, uint64_t off)
{
	if (d->readonly) {
		errno = EROFS;
		return -1;
	}
	return raw_rw(d, iov, n, off, 1);
}

static int
raw_flush(struct disk *d)
{
	return fsync(d->fd);
}

static int
raw_discard(struct disk *d, uint64_t off, uint64_t len)
{
	if (d->readonly) {
		errno = EROFS;
		return -1;
	}
	if (disk_range(d, off, len) == -1)
		return -1;
	/* Only a hint: where the image cannot deallocate, do nothing. */
	(void)fallocate(d->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off,
	    len);
	return 0;
}

static int
raw_write_zeroes(struct disk *d, uint64_t off, uint64_t len, int may_unmap)
{
	static const char	zero[RAW_ZERO_CHUNK];
	struct iovec		iov;
	uint64_t		n;

	if (d->readonly) {
		errno = EROFS;
		return -1;
	}
	if (disk_range(d, off, len) == -1)
		return -1;
	if (may_unmap && fallocate(d->fd, FALLOC_FL_PUNCH_HOLE |
	    FALLOC_FL_KEEP_SIZE, off, len) == 0)
		return 0;
	if (fallocate(d->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off,
	    len) == 0)
		return 0;
	while (len > 0) {
		n = len < sizeof zero ? len : sizeof zero;
		iov.iov_base = (void *)zero;
		iov.iov_len = n;
		if (raw_rw(d, &iov, 1, off, 1) == -1)
			return -1;
		off += n;
		len -= n;
	}
	return 0;
}

static int
raw_get_id(struct disk *d, char id[DISK_ID_BYTES])
{
	memcpy(id, ((struct raw *)d->priv)->id, DISK_ID_BYTES);
	return 0;
}

static void
raw_close(struct disk *d)
{
	if (!d->readonly)
		(void)fsync(d->fd);
	close(d->fd);
	free(d->priv);
	free(d);
}

static const struct disk_ops raw_ops = {
	.name = "raw",
	.readv = raw_readv,
	.writev = raw_writev,
	.flush = raw_flush,
	.discard = raw_discard,
	.write_zeroes = raw_write_zeroes,
	.get_id = raw_get_id,
	.close = raw_close,
};

/*
 * A raw image on fd; its serial is the file's inode and device, stable
 * for as long as the file lives. NULL with errno set.
 */
struct disk *
raw_open(int fd)
{
	struct disk	*d;
	struct raw	*raw;
	struct stat	 st;
	uint64_t	 size;
	off_t		 end;
	char		 buf[64];
	int		 fl;

	if (fstat(fd, &st) == -1 || (fl = fcntl(fd, F_GETFL)) == -1)
		return NULL;
	if (S_ISBLK(st.st_mode)) {
		if ((end = lseek(fd, 0, SEEK_END)) == -1)
			return NULL;
		size = end;
	} else if (S_ISREG(st.st_mode))
		size = st.st_size;
	else {
		errno = EINVAL;
		return NULL;
	}
	if ((d = calloc(1, sizeof *d)) == NULL)
		return NULL;
	if ((raw = calloc(1, sizeof *raw)) == NULL) {
		free(d);
		return NULL;
	}
	snprintf(buf, sizeof buf, "%llx-%llx", (unsigned long long)st.st_ino,
	    (unsigned long long)st.st_dev);
	memcpy(raw->id, buf, strnlen(buf, DISK_ID_BYTES));
	d->priv = raw;
	d->ops = &raw_ops;
	d->fd = fd;
	d->size = size;
	d->readonly = (fl & O_ACCMODE) == O_RDONLY;
	return d;
}
