/*
 * qcow2 refcounts and cluster allocation. Refcount blocks of any width
 * the format allows (1 to 64 bits) are read and written through the
 * refcount cache. A cluster is allocated by raising its refcount from
 * zero (the block and the table made or grown first if need be); it is
 * released by listing it, and the refcounts of listed clusters drop only
 * at a flush, once nothing on disk points at them any more.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qcow2.h"

/* Refcount i of a block (or slice) buffer. */
static uint64_t
qcow2_rc_read(struct qcow2 *q, const uint8_t *p, uint64_t i)
{
	unsigned	order = q->h.refcount_order, bits = 1U << order;
	uint16_t	v16;
	uint32_t	v32;
	uint64_t	v64;

	switch (order) {
	case 0:
	case 1:
	case 2:
		return (p[i * bits / 8] >> (i * bits % 8)) &
		    ((1U << bits) - 1);
	case 3:
		return p[i];
	case 4:
		memcpy(&v16, p + i * 2, 2);
		return be16toh(v16);
	case 5:
		memcpy(&v32, p + i * 4, 4);
		return be32toh(v32);
	default:
		memcpy(&v64, p + i * 8, 8);
		return be64toh(v64);
	}
}

static void
qcow2_rc_write(struct qcow2 *q, uint8_t *p, uint64_t i, uint64_t v)
{
	unsigned	order = q->h.refcount_order, bits = 1U << order;
	unsigned	shift, mask;
	uint16_t	v16;
	uint32_t	v32;
	uint64_t	v64;

	switch (order) {
	case 0:
	case 1:
	case 2:
		shift = i * bits % 8;
		mask = ((1U << bits) - 1) << shift;
		p[i * bits / 8] = (p[i * bits / 8] & ~mask) |
		    ((v << shift) & mask);
		break;
	case 3:
		p[i] = v;
		break;
	case 4:
		v16 = htobe16(v);
		memcpy(p + i * 2, &v16, 2);
		break;
	case 5:
		v32 = htobe32(v);
		memcpy(p + i * 4, &v32, 4);
		break;
	default:
		v64 = htobe64(v);
		memcpy(p + i * 8, &v64, 8);
		break;
	}
}

static uint64_t
qcow2_rc_max(struct qcow2 *q)
{
	return q->rc_bits == 64 ? UINT64_MAX : (1ULL << q->rc_bits) - 1;
}

/*
 * Read the refcount table and check every entry. Returns 0, or -1 with
 * err set (the caller names the file).
 */
int
qcow2_rt_load(struct qcow2 *q, char *err, size_t errlen)
{
	uint64_t	 i, e, off, bytes;
	const char	*why;

	bytes = (uint64_t)q->h.rt_clusters * q->cluster_size;
	q->rt_entries = bytes / 8;
	if ((q->rt = malloc(bytes)) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (qcow2_pread(q, q->rt, bytes, q->h.rt_offset,
	    "the refcount table") == -1) {
		snprintf(err, errlen, "%s", q->error);
		return -1;
	}
	for (i = 0; i < q->rt_entries; i++) {
		e = q->rt[i] = be64toh(q->rt[i]);
		off = e & ~QCOW2_RT_RESERVED;
		why = NULL;
		if (e & QCOW2_RT_RESERVED)
			why = "has reserved bits set";
		else if (off == 0)
			continue;
		else if (off % q->cluster_size != 0)
			why = "is not aligned to the cluster size";
		else if (off >= q->file_size ||
		    q->cluster_size > q->file_size - off)
			why = "lies past the end of the file";
		else if (qcow2_is_fixed(q, off / q->cluster_size))
			why = "overlaps the header, L1 table or refcount table";
		if (why != NULL) {
			snprintf(err, errlen, "refcount block %llu at offset "
			    "0x%llx %s", (unsigned long long)i,
			    (unsigned long long)off, why);
			return -1;
		}
	}
	return 0;
}

/*
 * The cached slice holding cluster ci's refcount, at *idx; NULL with
 * *idx 0 when its block does not exist. Returns 0, or -1 with q->error.
 */
static int
qcow2_rc_slice(struct qcow2 *q, uint64_t ci, struct qcow2_slice **sp,
    uint64_t *idx)
{
	uint64_t	t = ci / q->rb_entries, j = ci % q->rb_entries;
	uint64_t	per = q->rbc.slice * 8 / q->rc_bits;

	*sp = NULL;
	*idx = 0;
	if (t >= q->rt_entries || q->rt[t] == 0)
		return 0;
	*sp = qcow2_cache_get(q, &q->rbc, q->rt[t] + j / per * q->rbc.slice,
	    1);
	if (*sp == NULL)
		return -1;
	*idx = j % per;
	return 0;
}

/* Cluster ci's refcount. Returns 0, or -1 with q->error set. */
int
qcow2_refcount_get(struct qcow2 *q, uint64_t ci, uint64_t *rc)
{
	struct qcow2_slice	*s;
	uint64_t		 idx;

	*rc = 0;
	if (qcow2_rc_slice(q, ci, &s, &idx) == -1)
		return -1;
	if (s != NULL)
		*rc = qcow2_rc_read(q, s->data, idx);
	return 0;
}

/* Add delta (+1 or -1) to the refcounts of [ci, ci + n). */
static int
qcow2_rc_update(struct qcow2 *q, uint64_t ci, uint64_t n, int delta)
{
	struct qcow2_slice	*s;
	uint64_t		 idx, rc, i;

	for (i = 0; i < n; i++) {
		if (qcow2_rc_slice(q, ci + i, &s, &idx) == -1)
			return -1;
		rc = s != NULL ? qcow2_rc_read(q, s->data, idx) : 0;
		if (s == NULL || (delta < 0 && rc == 0) ||
		    (delta > 0 && rc == qcow2_rc_max(q)))
			return qcow2_fail(q, EIO, "%s: the refcount of "
			    "cluster %llu would %s", q->name,
			    (unsigned long long)(ci + i),
			    delta < 0 ? "drop below zero" : "overflow");
		qcow2_rc_write(q, s->data, idx, rc + delta);
		qcow2_cache_dirty(&q->rbc, s);
	}
	return 0;
}

static void
qcow2_rc_used(struct qcow2 *q, uint64_t ci, uint64_t n)
{
	if (ci + n > q->fresh)
		q->fresh = ci + n;
	if ((ci + n) * q->cluster_size > q->alloc_end)
		q->alloc_end = (ci + n) * q->cluster_size;
}

/*
 * Grow the refcount table to cover block t: a new table and the blocks
 * that count it go past every cluster in use, are written and synced,
 * and then the header points at them; the old table is released.
 */
static int
qcow2_rt_grow(struct qcow2 *q, uint64_t t)
{
	uint64_t	 cs = q->cluster_size, rbe = q->rb_entries;
	uint64_t	 oldn = q->rt_entries, a, nt = 0, nb = 0, ent = 0;
	uint64_t	 ntn, nbn, first, ci, k, *rt = NULL, end;
	uint64_t	 oldoff, oldclusters;
	uint8_t		 hdr[12], *tab = NULL, *blocks = NULL;
	uint32_t	 n32;
	int		 rv = -1;

	end = q->file_size > q->alloc_end ? q->file_size : q->alloc_end;
	a = (end + cs - 1) / cs;
	if (a < oldn * rbe)
		a = oldn * rbe;
	if (a < q->fresh)
		a = q->fresh;
	for (;;) {
		ent = t + 1;
		if (ent < oldn + oldn / 2)
			ent = oldn + oldn / 2;
		if (ent < (a + nt + nb) / rbe + 1)
			ent = (a + nt + nb) / rbe + 1;
		ntn = (ent * 8 + cs - 1) / cs;
		nbn = (a + ntn + (nb ? nb : 1) - 1) / rbe - a / rbe + 1;
		if (ntn == nt && nbn == nb)
			break;
		nt = ntn;
		nb = nbn;
	}
	ent = nt * cs / 8;
	if (nt * cs > QCOW2_MAX_RT_BYTES)
		return qcow2_fail(q, EFBIG, "%s: the refcount table would "
		    "grow past %u MiB", q->name, QCOW2_MAX_RT_BYTES >> 20);
	first = a / rbe;
	if ((tab = calloc(nt, cs)) == NULL ||
	    (blocks = calloc(nb, cs)) == NULL ||
	    (rt = calloc(ent, sizeof *rt)) == NULL) {
		qcow2_fail(q, ENOMEM, "%s: %s", q->name, strerror(ENOMEM));
		goto out;
	}
	memcpy(rt, q->rt, oldn * sizeof *rt);
	for (k = 0; k < nb; k++)
		rt[first + k] = (a + nt + k) * cs;
	for (k = 0; k < ent; k++) {
		uint64_t be = htobe64(rt[k]);

		memcpy(tab + k * 8, &be, 8);
	}
	for (ci = a; ci < a + nt + nb; ci++)
		qcow2_rc_write(q, blocks + (ci / rbe - first) * cs, ci % rbe,
		    1);
	if (qcow2_pwrite(q, blocks, nb * cs, (a + nt) * cs,
	    "new refcount blocks") == -1 ||
	    qcow2_pwrite(q, tab, nt * cs, a * cs, "the new refcount table") ==
	    -1 || qcow2_barrier(q) == -1)
		goto out;
	k = htobe64(a * cs);
	memcpy(hdr, &k, 8);
	n32 = htobe32(nt);
	memcpy(hdr + 8, &n32, 4);
	if (qcow2_pwrite(q, hdr, sizeof hdr, QCOW2_OFF_RT, "the header") == -1)
		goto out;
	qcow2_rc_used(q, a, nt + nb);
	oldoff = q->h.rt_offset;
	oldclusters = q->h.rt_clusters;
	free(q->rt);
	q->rt = rt;
	rt = NULL;
	q->rt_lo = q->rt_hi = 0;	/* the new table has them all */
	q->rt_entries = ent;
	q->h.rt_offset = a * cs;
	q->h.rt_clusters = nt;
	rv = qcow2_release(q, oldoff, oldclusters * cs);
out:
	free(rt);
	free(tab);
	free(blocks);
	return rv;
}

/*
 * Make sure refcount block t exists; *made says this call allocated
 * clusters (a new block goes in the first cluster it counts, which is
 * free since nothing counted it).
 */
static int
qcow2_rc_block(struct qcow2 *q, uint64_t t, int *made)
{
	struct qcow2_slice	*s;
	uint64_t		 b, per, off;

	*made = 0;
	if (t < q->rt_entries && q->rt[t] != 0)
		return 0;
	if (t >= q->rt_entries) {
		if (qcow2_rt_grow(q, t) == -1)
			return -1;
		*made = 1;
		if (q->rt[t] != 0)
			return 0;
	}
	for (b = t * q->rb_entries; b < (t + 1) * q->rb_entries &&
	    qcow2_is_fixed(q, b); b++)
		;
	if (b == (t + 1) * q->rb_entries)
		return qcow2_fail(q, EIO, "%s: no room for refcount block %llu",
		    q->name, (unsigned long long)t);
	off = b * q->cluster_size;
	per = q->rbc.slice * 8 / q->rc_bits;
	if (b < q->fresh && qcow2_pwrite(q, q->zero, q->cluster_size, off,
	    "a new refcount block") == -1)
		return -1;
	qcow2_rc_used(q, b, 1);
	if ((s = qcow2_cache_get(q, &q->rbc, off + (b % q->rb_entries) / per *
	    q->rbc.slice, 0)) == NULL)
		return -1;
	qcow2_rc_write(q, s->data, (b % q->rb_entries) % per, 1);
	qcow2_cache_dirty(&q->rbc, s);
	/* Its table entry goes out at the barrier, after the block. */
	q->rt[t] = off;
	qcow2_table_dirty(&q->rt_lo, &q->rt_hi, t);
	*made = 1;
	return 0;
}

/* The first free cluster from ci on. Returns 0, or -1 with q->error. */
static int
qcow2_find_free(struct qcow2 *q, uint64_t ci, uint64_t *found)
{
	struct qcow2_slice	*s;
	uint64_t		 idx, per = q->rbc.slice * 8 / q->rc_bits;
	uint64_t		 limit = QCOW2_MAX_OFFSET / q->cluster_size;

	for (; ci < limit; ci++) {
		if (qcow2_is_fixed(q, ci))
			continue;
		if (qcow2_rc_slice(q, ci, &s, &idx) == -1)
			return -1;
		if (s == NULL) {
			*found = ci;
			return 0;
		}
		for (; idx < per; idx++, ci++) {
			if (qcow2_rc_read(q, s->data, idx) == 0 &&
			    !qcow2_is_fixed(q, ci)) {
				*found = ci;
				return 0;
			}
		}
		ci--;
	}
	return qcow2_fail(q, ENOSPC, "%s: the image is full", q->name);
}

/*
 * Allocate up to want contiguous clusters (at least one): their refcounts
 * go to 1 in the cache. *fresh says they lie where nothing was ever
 * written (they read as zeros). Returns 0, or -1 with q->error set.
 */
int
qcow2_alloc(struct qcow2 *q, uint64_t want, uint64_t *ci, uint64_t *got,
    int *fresh)
{
	uint64_t	c = 0, n, rc, t;
	int		made;

	for (;;) {
		if (qcow2_find_free(q, q->free_hint, &c) == -1)
			return -1;
		q->free_hint = c;
		t = c / q->rb_entries;
		if (qcow2_rc_block(q, t, &made) == -1)
			return -1;
		if (!made)
			break;
	}
	for (n = 1; n < want && (c + n) / q->rb_entries == t; n++) {
		if (qcow2_is_fixed(q, c + n))
			break;
		if (qcow2_refcount_get(q, c + n, &rc) == -1)
			return -1;
		if (rc != 0)
			break;
	}
	if (qcow2_rc_update(q, c, n, 1) == -1)
		return -1;
	*fresh = c >= q->fresh;
	qcow2_rc_used(q, c, n);
	q->free_hint = c + n;
	*ci = c;
	*got = n;
	return 0;
}

/*
 * List the clusters [off, off + len) touches for release at the next
 * flush (flushing now if the list is full). Returns 0 or -1.
 */
int
qcow2_release(struct qcow2 *q, uint64_t off, uint64_t len)
{
	struct qcow2_range	*r;
	uint64_t		 first, last;
	size_t			 cap;

	if (len == 0)
		return 0;
	first = off / q->cluster_size;
	last = (off + len - 1) / q->cluster_size;
	if (q->npending > 0) {
		r = &q->pending[q->npending - 1];
		if (r->cluster + r->count == first) {
			r->count += last - first + 1;
			return 0;
		}
	}
	if (q->npending == q->pending_cap) {
		cap = q->pending_cap ? q->pending_cap * 2 : 64;
		r = reallocarray(q->pending, cap, sizeof *r);
		if (r == NULL)
			return qcow2_fail(q, ENOMEM, "%s: %s", q->name,
			    strerror(ENOMEM));
		q->pending = r;
		q->pending_cap = cap;
	}
	q->pending[q->npending].cluster = first;
	q->pending[q->npending].count = last - first + 1;
	q->npending++;
	if (q->npending >= QCOW2_PENDING_MAX)
		return qcow2_flush_locked(q);
	return 0;
}

/* Release what a guest cluster used to point at. */
int
qcow2_release_map(struct qcow2 *q, const struct qcow2_map *m)
{
	switch (m->kind) {
	case QCOW2_DATA:
	case QCOW2_ZEROED:
		if (m->host == 0)
			return 0;
		return qcow2_release(q, m->host, q->cluster_size);
	case QCOW2_ZDATA:
		return qcow2_release(q, m->host & ~511ULL,
		    m->zlen + (m->host & 511));
	default:
		return 0;
	}
}

/* Give n free clusters from ci on back to the file system, if it can. */
static void
qcow2_punch(struct qcow2 *q, uint64_t ci, uint64_t n)
{
	if (n > 0)
		(void)fallocate(q->disk.fd, FALLOC_FL_PUNCH_HOLE |
		    FALLOC_FL_KEEP_SIZE, ci * q->cluster_size,
		    n * q->cluster_size);
}

/*
 * Drop the refcounts of the listed clusters; those that reach zero are
 * free again, and their space goes back to the file system. Call only
 * once the L2 entries that dropped them are durable.
 */
int
qcow2_release_pending(struct qcow2 *q)
{
	struct qcow2_range	*r;
	uint64_t		 i, ci, rc, cs = q->cluster_size;
	uint64_t		 hole = 0, nhole = 0;

	while (q->npending > 0) {
		r = &q->pending[q->npending - 1];
		for (i = 0; i < r->count; i++) {
			ci = r->cluster + i;
			if (qcow2_rc_update(q, ci, 1, -1) == -1 ||
			    qcow2_refcount_get(q, ci, &rc) == -1)
				return -1;
			if (rc != 0)
				continue;
			if (ci < q->free_hint)
				q->free_hint = ci;
			qcow2_cache_drop(&q->l2c, ci * cs, cs);
			qcow2_cache_drop(&q->rbc, ci * cs, cs);
			/* Free clusters in a row become one hole. */
			if (nhole > 0 && hole + nhole == ci) {
				nhole++;
				continue;
			}
			qcow2_punch(q, hole, nhole);
			hole = ci;
			nhole = 1;
		}
		q->npending--;
	}
	qcow2_punch(q, hole, nhole);
	q->zkey = 0;
	return 0;
}
