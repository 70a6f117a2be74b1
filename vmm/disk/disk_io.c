/*
 * The bounds checks every image format makes before it touches a range of
 * the guest-visible disk.
 */
#include <sys/uio.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>

#include "disk_ops.h"
#include "iov.h"

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
	*total = iov_total(iov, n);
	if (off > d->size || *total > d->size - off) {
		errno = EIO;
		return -1;
	}
	return 0;
}
