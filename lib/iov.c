/* The iovec walks of the disk formats and the virtqueues. */
#include <stdint.h>
#include <string.h>

#include "iov.h"

/*
 * The index of the buffer of iov that byte *off falls in (n if none); *off
 * becomes the offset into that buffer.
 */
static int
iov_seek(const struct iovec *iov, int n, size_t *off)
{
	int	i;

	for (i = 0; i < n && *off >= iov[i].iov_len; i++)
		*off -= iov[i].iov_len;
	return i;
}

size_t
iov_total(const struct iovec *iov, int n)
{
	size_t	total = 0;
	int	i;

	for (i = 0; i < n; i++)
		total += iov[i].iov_len;
	return total;
}

void
iov_advance(struct iovec **iov, int *n, size_t len)
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

int
iov_slice(const struct iovec *iov, int n, size_t off, size_t len,
    struct iovec *out, int max)
{
	int	i, k = 0;
	size_t	take;

	for (i = iov_seek(iov, n, &off); i < n && len > 0; i++, off = 0) {
		if (k == max)
			return -1;
		take = iov[i].iov_len - off;
		if (take > len)
			take = len;
		out[k].iov_base = (uint8_t *)iov[i].iov_base + off;
		out[k].iov_len = take;
		k++;
		len -= take;
	}
	return len == 0 ? k : -1;
}

/*
 * Copy up to len bytes between buf and iov from byte off of iov on: into
 * iov with to_iov (zeros if buf is NULL), else out of it. The bytes copied.
 */
static size_t
iov_copy(const struct iovec *iov, int n, size_t off, uint8_t *buf,
    size_t len, int to_iov)
{
	uint8_t	*p;
	size_t	 take, left = len;
	int	 i;

	for (i = iov_seek(iov, n, &off); i < n && left > 0; i++, off = 0) {
		take = iov[i].iov_len - off;
		if (take > left)
			take = left;
		p = (uint8_t *)iov[i].iov_base + off;
		if (!to_iov)
			memcpy(buf, p, take);
		else if (buf == NULL)
			memset(p, 0, take);
		else
			memcpy(p, buf, take);
		if (buf != NULL)
			buf += take;
		left -= take;
	}
	return len - left;
}

size_t
iov_to(const struct iovec *iov, int n, size_t off, void *buf, size_t len)
{
	return iov_copy(iov, n, off, buf, len, 0);
}

size_t
iov_from(const struct iovec *iov, int n, size_t off, const void *buf,
    size_t len)
{
	return iov_copy(iov, n, off, (uint8_t *)buf, len, 1);
}

void
iov_zero(const struct iovec *iov, int n, size_t off, size_t len)
{
	(void)iov_from(iov, n, off, NULL, len);
}
