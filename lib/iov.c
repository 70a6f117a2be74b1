/* The iovec walks of the disk formats and the virtqueues. */
#include <stdint.h>

#include "iov.h"

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

	for (i = 0; i < n && off >= iov[i].iov_len; i++)
		off -= iov[i].iov_len;
	for (; i < n && len > 0; i++, off = 0) {
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
