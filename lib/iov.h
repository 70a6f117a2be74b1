/* Walking the buffers of an iovec array. */
#ifndef IOV_H
#define IOV_H

#include <sys/uio.h>

#include <stddef.h>

size_t	iov_total(const struct iovec *, int);
/* Move past len bytes of the *n buffers at *iov, as after a short preadv. */
void	iov_advance(struct iovec **, int *, size_t len);
/*
 * The bytes [off, off + len) of iov as a new iovec array out of at most
 * max entries. Returns how many, or -1 if it does not fit.
 */
int	iov_slice(const struct iovec *, int, size_t off, size_t len,
	    struct iovec *out, int max);
/* Copy up to len bytes of iov from byte off on into buf; the bytes copied. */
size_t	iov_to(const struct iovec *, int, size_t off, void *buf, size_t len);
/*
 * Copy up to len bytes of buf (zeros if it is NULL) into iov from byte off
 * on; the bytes copied.
 */
size_t	iov_from(const struct iovec *, int, size_t off, const void *buf,
	    size_t len);
/* Zero the bytes [off, off + len) of iov. */
void	iov_zero(const struct iovec *, int, size_t off, size_t len);

#endif
