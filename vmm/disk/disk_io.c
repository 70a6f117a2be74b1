/*
 * What every image format does around its I/O: the bounds checks before
 * it touches a range of the guest-visible disk, and walking an iovec.
 */
#include <sys/uio.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>

#include "disk_ops.h"

/* 0 if [off, off + len) lies within the disk, else -1 with EINVAL. */
int
disk_range(struct disk *d, uint64_t off, uint64_t len)
{
	if (off > d->size || len > d->size - off) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

size_t
disk_iov_total(const struct iovec *iov, int n)
{
	size_t	total = 0;
	int	i;

	for (i = 0; i < n; i++)
		total += iov[i].iov_len;
	return total;
}

/*
 * Check a transfer of iov at off: EINVAL for a bad iovec count, EIO past
 * the end of the disk. Sets *total to the bytes of iov.
 */
int
disk_io_range(struct disk *d, const struct iovec *iov, int n, uint64_t off,
    size_t *total)
{
	if (n < 0 || n > IOV_MAX) {
		errno = EINVAL;
		return -1;
	}
	*total = disk_iov_total(iov, n);
	if (off > d->size || *total > d->size - off) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/* Move past len bytes of the *n buffers at *iov, as after a short preadv. */
void
disk_iov_advance(struct iovec **iov, int *n, size_t len)
{
	while (*n > 0 && len >= (*iov)->iov_len) {
		len -= (*iov)->iov_len;
		(*iov)++;
		(*n)--;
	}
	if (*n > 0) {
		(*iov)->iov_base = (uint8_t *)(*iov)->iov_base + len;
		(*iov)->iov_len -= len;
	}
}
