/*
 * qcow2 writes, discard and write-zeroes. Clusters the image owns alone
 * are written in place. Anything else (unallocated, zero, compressed,
 * shared) gets new clusters: the old content the write does not cover is
 * copied up first (from the base, the compressed data or the old
 * cluster), head, data and tail go out in one pwritev, and only then do
 * the L2 entries change; what they pointed at is released at the next
 * flush. A run of new clusters is allocated at once, within one L2 slice.
 * A zero cluster that keeps its own host cluster (write-zeroes without
 * unmap) is written there again.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "qcow2.h"

/* pwritev all of iov (scratch: it is moved along) at off. */
static int
qcow2_pwritev(struct qcow2 *q, struct iovec *iov, int n, uint64_t off)
{
	uint64_t	end = off + iov_total(iov, n);
	ssize_t		r;

	q->unsynced = q->written = 1;
	while (n > 0) {
		r = pwritev(q->disk.fd, iov, n, off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return qcow2_fail(q, r == 0 ? EIO : errno, "%s: writing "
			    "data at 0x%llx: %s", q->name,
			    (unsigned long long)off,
			    strerror(r == 0 ? EIO : errno));
		off += r;
		iov_advance(&iov, &n, r);
	}
	if (end > q->file_size)
		q->file_size = end;
	return 0;
}

/* Whether guest cluster vci, mapped by m, reads as zeros. */
static int
qcow2_reads_zero(struct qcow2 *q, const struct qcow2_map *m, uint64_t vci)
{
	if (m->kind == QCOW2_ZEROED)
		return 1;
	return m->kind == QCOW2_UNALLOCATED && (q->base == NULL ||
	    vci * q->cluster_size >= q->base->size);
}

/*
 * Write from byte pos of the request into new clusters, starting with
 * guest cluster vci (mapped by *m): as many clusters as need new ones,
 * up to the end of the request or of the L2 slice. *done gets the bytes
 * written. Returns 0, or -1 with q->error set.
 */
static int
qcow2_write_new(struct qcow2 *q, const struct iovec *iov, int n,
    uint64_t off, size_t pos, size_t total, const struct qcow2_map *m,
    size_t *done)
{
	struct qcow2_slice	*s;
	struct qcow2_map	*old = q->oldmap;
	uint64_t		 cs = q->cluster_size, per = q->l2c.slice / 8;
	uint64_t		 vci = (off + pos) / cs, coff = (off + pos) % cs;
	uint64_t		 last, want, c, got, i, endoff, start;
	uint8_t			*tail = q->bounce + cs;
	size_t			 bytes;
	unsigned		 idx;
	int			 fresh, k = 0, cnt, head = 0, tl = 0, reuse;

	last = (off + total - 1) / cs;
	if (last > vci + (per - (vci % q->l2_entries) % per) - 1)
		last = vci + (per - (vci % q->l2_entries) % per) - 1;
	old[0] = *m;
	reuse = m->kind == QCOW2_ZEROED && m->host != 0 && m->copied;
	for (want = 1; !reuse && vci + want <= last; want++) {
		if (qcow2_l2_lookup(q, vci + want, &old[want]) == -1)
			return -1;
		if ((old[want].kind == QCOW2_DATA ||
		    old[want].kind == QCOW2_ZEROED) && old[want].copied)
			break;
	}
	if (reuse) {
		c = m->host / cs;
		got = 1;
		fresh = 0;
	} else if (qcow2_alloc(q, want, &c, &got, &fresh) == -1)
		return -1;
	bytes = got * cs - coff;
	if (bytes > total - pos)
		bytes = total - pos;
	endoff = (coff + bytes - 1) % cs + 1;

	/* Copy up what the write leaves of the first and last cluster. */
	if (coff > 0 && !(fresh && qcow2_reads_zero(q, &old[0], vci))) {
		if (qcow2_read_cluster(q, &old[0], vci, q->bounce, 0, coff) ==
		    -1)
			return -1;
		q->iov[k].iov_base = q->bounce;
		q->iov[k++].iov_len = coff;
		head = 1;
	}
	if (endoff < cs && !(fresh && qcow2_reads_zero(q, &old[got - 1],
	    vci + got - 1))) {
		if (qcow2_read_cluster(q, &old[got - 1], vci + got - 1,
		    tail + endoff, endoff, cs - endoff) == -1)
			return -1;
		tl = 1;
	}
	cnt = iov_slice(iov, n, pos, bytes, q->iov + k, IOV_MAX);
	if (cnt < 0)
		return qcow2_fail(q, EINVAL, "%s: too many buffers", q->name);
	k += cnt;
	if (tl) {
		q->iov[k].iov_base = tail + endoff;
		q->iov[k++].iov_len = cs - endoff;
	}
	start = c * cs + (head ? 0 : coff);
	if (qcow2_pwritev(q, q->iov, k, start) == -1)
		return -1;

	/* The data is written: point the L2 entries at it. */
	if (qcow2_l2_slice(q, vci, 1, &s, &idx) == -1)
		return -1;
	for (i = 0; i < got; i++)
		qcow2_l2_put(q, s, idx + i, ((c + i) * cs) | QCOW2_COPIED);
	for (i = 0; !reuse && i < got; i++) {
		if (old[i].kind == QCOW2_ZDATA)
			q->zkey = 0;
		if (qcow2_release_map(q, &old[i]) == -1)
			return -1;
	}
	*done = bytes;
	return 0;
}

/* Write total bytes of iov at guest offset off, with q->lock held. */
static int
qcow2_write_locked(struct qcow2 *q, const struct iovec *iov, int n,
    uint64_t off, size_t total)
{
	struct qcow2_map	 m, next;
	uint64_t		 cs = q->cluster_size, vci, coff, k;
	size_t			 pos = 0, run = 0;
	int			 cnt;

	while (pos < total) {
		vci = (off + pos) / cs;
		coff = (off + pos) % cs;
		if (qcow2_l2_lookup(q, vci, &m) == -1)
			return -1;
		if (m.kind != QCOW2_DATA || !m.copied) {
			if (qcow2_write_new(q, iov, n, off, pos, total, &m,
			    &run) == -1)
				return -1;
			pos += run;
			continue;
		}
		run = cs - coff < total - pos ? cs - coff : total - pos;
		for (k = 1; pos + run < total; k++) {
			if (qcow2_l2_lookup(q, vci + k, &next) == -1)
				return -1;
			if (next.kind != QCOW2_DATA || !next.copied ||
			    next.host != m.host + k * cs)
				break;
			run += cs < total - pos - run ? cs : total - pos - run;
		}
		cnt = iov_slice(iov, n, pos, run, q->iov, IOV_MAX + 2);
		if (cnt < 0)
			return qcow2_fail(q, EINVAL, "%s: too many buffers",
			    q->name);
		if (qcow2_pwritev(q, q->iov, cnt, m.host + coff) == -1)
			return -1;
		pos += run;
	}
	return 0;
}

/* Refuse writes to an image that is read-only or broken. */
static int
qcow2_writable(struct disk *d)
{
	struct qcow2	*q = d->priv;

	if (d->readonly) {
		errno = EROFS;
		return -1;
	}
	if (q->broken) {
		errno = EIO;
		return -1;
	}
	return 0;
}

ssize_t
qcow2_writev(struct disk *d, const struct iovec *iov, int n, uint64_t off)
{
	struct qcow2	*q = d->priv;
	size_t		 total;
	int		 rv;

	if (disk_io_range(d, iov, n, off, &total) == -1)
		return -1;
	pthread_mutex_lock(&q->lock);
	rv = qcow2_writable(d);
	if (rv == 0)
		rv = qcow2_write_locked(q, iov, n, off, total);
	pthread_mutex_unlock(&q->lock);
	return rv == -1 ? -1 : (ssize_t)total;
}

/*
 * Set the L2 entries of guest clusters [vci, vci + count) to e (0: read
 * the base, or zeros; QCOW2_ZERO: zeros) and release what they mapped;
 * with keep, clusters the image owns stay allocated as zero clusters.
 */
static int
qcow2_unmap(struct qcow2 *q, uint64_t vci, uint64_t count, uint64_t e,
    int keep)
{
	struct qcow2_slice	*s;
	struct qcow2_map	*old = q->oldmap;
	uint64_t		 per = q->l2c.slice / 8, i, k, left;
	unsigned		 idx;

	while (count > 0) {
		if (qcow2_l2_slice(q, vci, e != 0, &s, &idx) == -1)
			return -1;
		if (s == NULL) {
			/* No L2 table: all of it reads the base already. */
			left = q->l2_entries - vci % q->l2_entries;
			k = left < count ? left : count;
			vci += k;
			count -= k;
			continue;
		}
		k = per - idx < count ? per - idx : count;
		for (i = 0; i < k; i++) {
			if (qcow2_l2_decode(q, vci + i, qcow2_l2_get(s,
			    idx + i), &old[i]) == -1)
				return -1;
			if (keep && (old[i].kind == QCOW2_DATA ||
			    old[i].kind == QCOW2_ZEROED) && old[i].copied) {
				qcow2_l2_put(q, s, idx + i, old[i].host |
				    QCOW2_COPIED | QCOW2_ZERO);
				old[i].kind = QCOW2_UNALLOCATED;
			} else
				qcow2_l2_put(q, s, idx + i, e);
		}
		/* The slice may go now: release after the last use. */
		for (i = 0; i < k; i++) {
			if (old[i].kind == QCOW2_ZDATA)
				q->zkey = 0;
			if (qcow2_release_map(q, &old[i]) == -1)
				return -1;
		}
		vci += k;
		count -= k;
	}
	return 0;
}

/* The whole clusters of [off, off + len): the last may end at the size. */
static void
qcow2_whole(struct qcow2 *q, uint64_t off, uint64_t len, uint64_t *first,
    uint64_t *end)
{
	uint64_t	cs = q->cluster_size;

	*first = (off + cs - 1) / cs;
	*end = (off + len) / cs;
	if (off + len == q->disk.size && (off + len) % cs != 0)
		*end = (off + len + cs - 1) / cs;
	if (*end < *first)
		*end = *first;
}

int
qcow2_discard(struct disk *d, uint64_t off, uint64_t len)
{
	struct qcow2	*q = d->priv;
	uint64_t	 first, end;
	int		 rv;

	if (disk_range(d, off, len) == -1)
		return -1;
	pthread_mutex_lock(&q->lock);
	qcow2_whole(q, off, len, &first, &end);
	rv = qcow2_writable(d);
	/* With a base, keep its data hidden where the format allows. */
	if (rv == 0 && end > first)
		rv = qcow2_unmap(q, first, end - first,
		    q->base != NULL && q->h.version >= 3 ? QCOW2_ZERO : 0, 0);
	pthread_mutex_unlock(&q->lock);
	return rv;
}

/* Write zeros over [off, off + len) through the write path. */
static int
qcow2_write_zero_bytes(struct qcow2 *q, uint64_t off, uint64_t len)
{
	struct iovec	iov;

	while (len > 0) {
		iov.iov_base = q->zero;
		iov.iov_len = len < q->cluster_size ? len : q->cluster_size;
		if (qcow2_write_locked(q, &iov, 1, off, iov.iov_len) == -1)
			return -1;
		off += iov.iov_len;
		len -= iov.iov_len;
	}
	return 0;
}

/*
 * Zeros over [off, off + len): partial clusters are written, whole ones
 * become zero clusters (v3), or unallocated where nothing shows through.
 * Without may_unmap, the clusters the image owns stay allocated (v3 zero
 * clusters that keep their host cluster; zeros written in v2).
 */
int
qcow2_write_zeroes(struct disk *d, uint64_t off, uint64_t len,
    int may_unmap)
{
	struct qcow2	*q = d->priv;
	uint64_t	 cs = q->cluster_size, first, end, a, b;
	int		 rv;

	if (disk_range(d, off, len) == -1)
		return -1;
	pthread_mutex_lock(&q->lock);
	qcow2_whole(q, off, len, &first, &end);
	rv = qcow2_writable(d);
	if (rv == 0 && end == first) {
		rv = qcow2_write_zero_bytes(q, off, len);
		goto out;
	}
	a = first * cs;
	b = end * cs < off + len ? end * cs : off + len;
	if (rv == 0 && off < a)
		rv = qcow2_write_zero_bytes(q, off, a - off);
	if (rv == 0 && b < off + len)
		rv = qcow2_write_zero_bytes(q, b, off + len - b);
	if (rv != 0)
		goto out;
	if (q->h.version >= 3)
		rv = qcow2_unmap(q, first, end - first, q->base != NULL ||
		    !may_unmap ? QCOW2_ZERO : 0, !may_unmap);
	else if (q->base == NULL && may_unmap)
		rv = qcow2_unmap(q, first, end - first, 0, 0);
	else
		rv = qcow2_write_zero_bytes(q, a, b - a);
out:
	pthread_mutex_unlock(&q->lock);
	return rv;
}
