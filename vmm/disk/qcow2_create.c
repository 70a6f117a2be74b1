/*
 * New qcow2 images: the header cluster (with the base image's name and
 * format), a refcount table, the refcount blocks that count the image's
 * own clusters (16-bit refcounts by default), and an empty L1 table.
 */
#include <sys/stat.h>

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qcow2.h"

static void
put32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

static void
put64(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

/* Set refcount i of a block buffer to one, for any width. */
static void
qcow2_create_one(uint8_t *p, uint64_t i, unsigned order)
{
	unsigned	bits = 1U << order;

	if (order < 3)
		p[i * bits / 8] |= 1U << (i * bits % 8);
	else
		p[(i + 1) * (bits / 8) - 1] = 1;
}

/* Write all of buf at off; returns 0 or -1 with err set. */
static int
qcow2_create_write(int fd, const void *buf, size_t len, uint64_t off,
    char *err, size_t errlen)
{
	size_t	done = 0;
	ssize_t	n;

	while (done < len) {
		n = pwrite(fd, (const uint8_t *)buf + done, len - done,
		    off + done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%s", strerror(n == 0 ? EIO :
			    errno));
			return -1;
		}
		done += n;
	}
	return 0;
}

/*
 * Fill the header cluster. Returns 0, or -1 with err set if the base's
 * name does not fit.
 */
static int
qcow2_create_header(uint8_t *hdr, uint64_t cs, unsigned cluster_bits,
    unsigned version, uint64_t size, uint32_t l1_size, uint64_t l1_off,
    uint64_t rt_off, uint32_t rt_clusters, unsigned order,
    const char *backing, const char *backing_fmt, char *err, size_t errlen)
{
	size_t	off, len, blen = backing != NULL ? strlen(backing) : 0;

	put32(hdr, QCOW2_MAGIC);
	put32(hdr + 4, version);
	put32(hdr + 20, cluster_bits);
	put64(hdr + 24, size);
	put32(hdr + 36, l1_size);
	put64(hdr + 40, l1_off);
	put64(hdr + 48, rt_off);
	put32(hdr + 56, rt_clusters);
	off = QCOW2_V2_HDR_SIZE;
	if (version == 3) {
		put32(hdr + 96, order);
		put32(hdr + 100, QCOW2_V3_HDR_SIZE);
		off = QCOW2_V3_HDR_SIZE;
	}
	if (blen > 0 && backing_fmt != NULL) {
		len = strlen(backing_fmt);
		put32(hdr + off, QCOW2_EXT_BACKING_FMT);
		put32(hdr + off + 4, len);
		memcpy(hdr + off + 8, backing_fmt, len);
		off += 8 + ((len + 7) & ~(size_t)7);
	}
	off += 8;					/* end of extensions */
	if (blen == 0)
		return 0;
	if (blen > QCOW2_BACKING_MAX || off + blen > cs) {
		snprintf(err, errlen, "the base image name of %zu bytes is "
		    "too long", blen);
		return -1;
	}
	memcpy(hdr + off, backing, blen);
	put64(hdr + 8, off);
	put32(hdr + 16, blen);
	return 0;
}

/*
 * Write an empty qcow2 image of size bytes (rounded up to 512) on fd,
 * truncated first: version 2 or 3, clusters of 2^cluster_bits bytes,
 * refcounts of 2^order bits (4 for version 2), reading through to
 * backing (NULL or "" for none) of format backing_fmt (NULL: not
 * recorded). Returns 0, or -1 with err set.
 */
int
qcow2_create(int fd, uint64_t size, unsigned cluster_bits, unsigned version,
    unsigned order, const char *backing, const char *backing_fmt, char *err,
    size_t errlen)
{
	uint64_t	 cs, l2e, l1_size, l1c, nt = 0, nb = 0, ntn, nbn;
	uint64_t	 total, i, rbe;
	uint8_t		*hdr = NULL, *rt = NULL, *rb = NULL;
	struct stat	 st;
	int		 rv = -1;

	if (cluster_bits < QCOW2_MIN_CLUSTER_BITS ||
	    cluster_bits > QCOW2_MAX_CLUSTER_BITS ||
	    (version != 2 && version != 3) || order > 6 ||
	    (version == 2 && order != 4)) {
		snprintf(err, errlen, "invalid cluster size, version or "
		    "refcount width");
		return -1;
	}
	cs = 1ULL << cluster_bits;
	l2e = cs / 8;
	rbe = cs * 8 >> order;
	if (size > (1ULL << 62)) {
		snprintf(err, errlen, "the size is too big");
		return -1;
	}
	size = (size + 511) & ~511ULL;
	l1_size = size / cs / l2e + (size % (cs * l2e) != 0);
	if (l1_size * 8 > QCOW2_MAX_L1_BYTES) {
		snprintf(err, errlen, "the size is too big for %llu-byte "
		    "clusters", (unsigned long long)cs);
		return -1;
	}
	l1c = l1_size * 8 / cs + (l1_size * 8 % cs != 0);
	if (l1c == 0)
		l1c = 1;
	for (;;) {
		total = 1 + nt + nb + l1c;
		nbn = (total + rbe - 1) / rbe;
		ntn = (nbn * 8 + cs - 1) / cs;
		if (ntn == nt && nbn == nb)
			break;
		nt = ntn;
		nb = nbn;
	}
	if ((hdr = calloc(1, cs)) == NULL || (rt = calloc(nt, cs)) == NULL ||
	    (rb = calloc(nb, cs)) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto out;
	}
	if (qcow2_create_header(hdr, cs, cluster_bits, version, size, l1_size,
	    (1 + nt + nb) * cs, cs, nt, order, backing, backing_fmt, err,
	    errlen) == -1)
		goto out;
	for (i = 0; i < nb; i++)
		put64(rt + i * 8, (1 + nt + i) * cs);
	for (i = 0; i < total; i++)
		qcow2_create_one(rb + i / rbe * cs, i % rbe, order);
	/*
	 * Only a file with something in it is cut first: ext4 flushes a file
	 * truncated to zero when it is closed (auto_da_alloc).
	 */
	if ((fstat(fd, &st) == -1 || st.st_size > 0) && ftruncate(fd, 0) ==
	    -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto out;
	}
	if (ftruncate(fd, total * cs) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto out;
	}
	if (qcow2_create_write(fd, rb, nb * cs, (1 + nt) * cs, err,
	    errlen) == -1 ||
	    qcow2_create_write(fd, rt, nt * cs, cs, err, errlen) == -1 ||
	    qcow2_create_write(fd, hdr, cs, 0, err, errlen) == -1)
		goto out;
	if (fdatasync(fd) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto out;
	}
	rv = 0;
out:
	free(hdr);
	free(rt);
	free(rb);
	return rv;
}
