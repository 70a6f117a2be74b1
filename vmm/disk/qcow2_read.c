/*
 * qcow2 reads: a request is cut into runs of guest clusters that read
 * alike (contiguous data, zeros, the base image) and each run is one
 * preadv, memset or read of the base. Compressed clusters are inflated
 * (raw deflate, zlib) one at a time, and the last one is kept.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "qcow2.h"

/* preadv all of iov at off; bytes past the end of the file read zeros. */
static int
qcow2_preadv(struct qcow2 *q, struct iovec *iov, int n, uint64_t off)
{
	ssize_t	r;

	while (n > 0) {
		r = preadv(q->disk.fd, iov, n, off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return qcow2_fail(q, EIO, "%s: reading data at 0x%llx: "
			    "%s", q->name, (unsigned long long)off,
			    strerror(errno));
		if (r == 0) {
			/* A cluster may end past the end of the file. */
			iov_zero(iov, n, 0, iov_total(iov, n));
			return 0;
		}
		off += r;
		iov_advance(&iov, &n, r);
	}
	return 0;
}

/* Read [guest, guest + len) of the base into iov (zeros past its end). */
static int
qcow2_base_read(struct qcow2 *q, struct iovec *iov, int n, uint64_t guest,
    size_t len)
{
	struct iovec	 part[IOV_MAX + 2];
	struct disk	*b = q->base;
	size_t		 in;
	int		 k;
	const char	*why;

	if (b == NULL || guest >= b->size) {
		iov_zero(iov, n, 0, len);
		return 0;
	}
	in = len;
	if (in > b->size - guest) {
		in = b->size - guest;
		iov_zero(iov, n, in, len - in);
		if ((k = iov_slice(iov, n, 0, in, part, IOV_MAX + 2)) < 0)
			return qcow2_fail(q, EINVAL, "%s: too many buffers",
			    q->name);
		iov = part;
		n = k;
	}
	if (b->ops->readv(b, iov, n, guest) == -1) {
		why = b->ops->error != NULL ? b->ops->error(b) : NULL;
		return qcow2_fail(q, errno, "%s: reading its base: %s", q->name,
		    why != NULL ? why : strerror(errno));
	}
	return 0;
}

/* Inflate compressed cluster m (at guest cluster vci) into q->zout. */
static int
qcow2_inflate(struct qcow2 *q, const struct qcow2_map *m, uint64_t vci)
{
	z_stream	*z;
	uint64_t	 cs = q->cluster_size, len = m->zlen;
	ssize_t		 r;
	size_t		 got = 0;
	int		 ret;

	if (q->zkey == m->host && q->zkey != 0)
		return 0;
	if (q->zstream == NULL) {
		if ((q->zbuf == NULL &&
		    (q->zbuf = malloc(2 * cs + 512)) == NULL) ||
		    (q->zout == NULL && (q->zout = malloc(cs)) == NULL) ||
		    (z = calloc(1, sizeof *z)) == NULL)
			return qcow2_fail(q, ENOMEM, "%s: %s", q->name,
			    strerror(ENOMEM));
		if (inflateInit2(z, -12) != Z_OK) {
			free(z);
			return qcow2_fail(q, ENOMEM, "%s: zlib cannot start",
			    q->name);
		}
		q->zstream = z;
	}
	z = q->zstream;
	if (len > 2 * cs + 512)
		len = 2 * cs + 512;
	/* The last compressed cluster may end inside its last sector. */
	while (got < len) {
		r = pread(q->disk.fd, q->zbuf + got, len - got, m->host + got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return qcow2_fail(q, EIO, "%s: reading compressed data "
			    "at 0x%llx: %s", q->name,
			    (unsigned long long)m->host, strerror(errno));
		if (r == 0)
			break;
		got += r;
	}
	q->zkey = 0;
	if (inflateReset(z) != Z_OK)
		return qcow2_fail(q, EIO, "%s: zlib cannot reset", q->name);
	z->next_in = q->zbuf;
	z->avail_in = got;
	z->next_out = q->zout;
	z->avail_out = cs;
	ret = inflate(z, Z_FINISH);
	if (z->avail_out != 0 || (ret != Z_STREAM_END && ret != Z_OK &&
	    ret != Z_BUF_ERROR))
		return qcow2_fail(q, EIO, "%s: compressed cluster at guest "
		    "offset 0x%llx (0x%llx in the file) does not inflate to "
		    "a cluster", q->name,
		    (unsigned long long)(vci * cs),
		    (unsigned long long)m->host);
	q->zkey = m->host;
	return 0;
}

/*
 * Read [coff, coff + len) of guest cluster vci, mapped by m, into buf:
 * the old content a partial write keeps. Returns 0, or -1 (q->error).
 */
int
qcow2_read_cluster(struct qcow2 *q, const struct qcow2_map *m, uint64_t vci,
    uint8_t *buf, size_t coff, size_t len)
{
	struct iovec	iov = { buf, len };

	switch (m->kind) {
	case QCOW2_UNALLOCATED:
		return qcow2_base_read(q, &iov, 1, vci * q->cluster_size +
		    coff, len);
	case QCOW2_ZEROED:
		memset(buf, 0, len);
		return 0;
	case QCOW2_DATA:
		return qcow2_preadv(q, &iov, 1, m->host + coff);
	case QCOW2_ZDATA:
		if (qcow2_inflate(q, m, vci) == -1)
			return -1;
		memcpy(buf, q->zout + coff, len);
		return 0;
	}
	return 0;
}

/* Whether guest cluster b continues a run that starts like a. */
static int
qcow2_same_run(const struct qcow2_map *a, const struct qcow2_map *b,
    uint64_t k, uint64_t cs)
{
	if (a->kind != b->kind || a->kind == QCOW2_ZDATA)
		return 0;
	return a->kind != QCOW2_DATA || b->host == a->host + k * cs;
}

/*
 * Read total bytes at guest offset off into iov, with q->lock held.
 * Returns 0, or -1 with q->error set.
 */
int
qcow2_read_locked(struct qcow2 *q, const struct iovec *iov, int n,
    uint64_t off, size_t total)
{
	struct qcow2_map	 m, next;
	uint64_t		 cs = q->cluster_size, vci, coff, k;
	size_t			 pos = 0, run;
	int			 cnt;

	while (pos < total) {
		vci = (off + pos) / cs;
		coff = (off + pos) % cs;
		if (qcow2_l2_lookup(q, vci, &m) == -1)
			return -1;
		run = cs - coff < total - pos ? cs - coff : total - pos;
		for (k = 1; pos + run < total; k++) {
			if (qcow2_l2_lookup(q, vci + k, &next) == -1)
				return -1;
			if (!qcow2_same_run(&m, &next, k, cs))
				break;
			run += cs < total - pos - run ? cs : total - pos - run;
		}
		if (m.kind == QCOW2_ZEROED) {
			iov_zero(iov, n, pos, run);
			pos += run;
			continue;
		}
		if (m.kind == QCOW2_ZDATA) {
			if (qcow2_inflate(q, &m, vci) == -1)
				return -1;
			iov_from(iov, n, pos, q->zout + coff, run);
			pos += run;
			continue;
		}
		cnt = iov_slice(iov, n, pos, run, q->iov, IOV_MAX + 2);
		if (cnt < 0)
			return qcow2_fail(q, EINVAL, "%s: too many buffers",
			    q->name);
		if (m.kind == QCOW2_DATA) {
			if (qcow2_preadv(q, q->iov, cnt, m.host + coff) == -1)
				return -1;
		} else if (qcow2_base_read(q, q->iov, cnt, off + pos, run) ==
		    -1)
			return -1;
		pos += run;
	}
	return 0;
}

ssize_t
qcow2_readv(struct disk *d, const struct iovec *iov, int n, uint64_t off)
{
	struct qcow2	*q = d->priv;
	size_t		 total;
	int		 rv;

	if (disk_io_range(d, iov, n, off, &total) == -1)
		return -1;
	pthread_mutex_lock(&q->lock);
	rv = qcow2_read_locked(q, iov, n, off, total);
	pthread_mutex_unlock(&q->lock);
	return rv == -1 ? -1 : (ssize_t)total;
}

/*
 * How [off, off + len) reads (disk_block_status()): the status of the
 * first run of clusters that read alike, asking the base where this
 * image has nothing.
 */
int
qcow2_block_status(struct disk *d, uint64_t off, uint64_t len,
    uint64_t *pnum)
{
	struct qcow2		*q = d->priv;
	struct qcow2_map	 m, next;
	uint64_t		 cs = q->cluster_size, vci, run, k, bp;
	int			 st = -1;

	if (len == 0) {
		errno = EINVAL;
		return -1;
	}
	if (disk_range(d, off, len) == -1)
		return -1;
	pthread_mutex_lock(&q->lock);
	vci = off / cs;
	if (qcow2_l2_lookup(q, vci, &m) == -1)
		goto out;
	run = cs - off % cs < len ? cs - off % cs : len;
	for (k = 1; run < len; k++) {
		if (qcow2_l2_lookup(q, vci + k, &next) == -1)
			goto out;
		if (next.kind != m.kind && !(m.kind != QCOW2_UNALLOCATED &&
		    m.kind != QCOW2_ZEROED && next.kind != QCOW2_UNALLOCATED &&
		    next.kind != QCOW2_ZEROED))
			break;
		run += cs < len - run ? cs : len - run;
	}
	switch (m.kind) {
	case QCOW2_DATA:
	case QCOW2_ZDATA:
		st = DISK_BS_DATA;
		break;
	case QCOW2_ZEROED:
		st = DISK_BS_ZERO;
		break;
	case QCOW2_UNALLOCATED:
		if (q->base == NULL || off >= q->base->size) {
			st = DISK_BS_ZERO;
			break;
		}
		if (run > q->base->size - off)
			run = q->base->size - off;
		st = disk_block_status(q->base, off, run, &bp);
		if (st != -1 && bp < run)
			run = bp;
		break;
	}
	*pnum = run;
out:
	pthread_mutex_unlock(&q->lock);
	return st;
}
