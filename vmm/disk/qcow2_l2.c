/*
 * qcow2 cluster mapping: the L1 table, read whole and checked at open,
 * and the L2 tables, read a slice at a time through the L2 cache. Every
 * entry is checked before it is used: reserved bits, alignment, offsets
 * past the end of the file or onto the image's fixed tables.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qcow2.h"

/* Where the file ends, as far as pointers into it may go. */
static uint64_t
qcow2_l2_file_end(struct qcow2 *q)
{
	uint64_t	end = q->file_size > q->alloc_end ? q->file_size :
			    q->alloc_end;

	return (end + q->cluster_size - 1) & ~(q->cluster_size - 1);
}

/* Check an L2 table's offset; name says where it comes from. */
static int
qcow2_l2_check_table(struct qcow2 *q, uint64_t off, uint64_t l1i, char *err,
    size_t errlen)
{
	const char	*why = NULL;

	if (off % q->cluster_size != 0)
		why = "is not aligned to the cluster size";
	else if (off + q->cluster_size > qcow2_l2_file_end(q))
		why = "lies past the end of the file";
	else if (qcow2_is_fixed(q, off / q->cluster_size))
		why = "overlaps the header, L1 table or refcount table";
	if (why == NULL)
		return 0;
	snprintf(err, errlen, "L2 table at offset 0x%llx (L1 entry %llu) %s",
	    (unsigned long long)off, (unsigned long long)l1i, why);
	return -1;
}

/*
 * Read the L1 table and check every entry. Returns 0, or -1 with err
 * set (the caller names the file).
 */
int
qcow2_l1_load(struct qcow2 *q, char *err, size_t errlen)
{
	uint64_t	i, e, off, n = q->h.l1_size;

	if ((q->l1 = calloc(n ? n : 1, sizeof *q->l1)) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (n > 0 && qcow2_pread(q, q->l1, n * 8, q->h.l1_offset,
	    "the L1 table") == -1) {
		snprintf(err, errlen, "%s", q->error);
		return -1;
	}
	for (i = 0; i < n; i++) {
		e = q->l1[i] = be64toh(q->l1[i]);
		if (e & QCOW2_L1_RESERVED) {
			snprintf(err, errlen, "L1 entry %llu (0x%016llx) has "
			    "reserved bits set", (unsigned long long)i,
			    (unsigned long long)e);
			return -1;
		}
		off = e & QCOW2_OFFSET_MASK;
		if (off != 0 && qcow2_l2_check_table(q, off, i, err,
		    errlen) == -1)
			return -1;
	}
	return 0;
}

/*
 * Decode the L2 entry e of guest cluster vci into m. Returns 0, or -1
 * with q->error saying what is wrong (errno EIO).
 */
int
qcow2_l2_decode(struct qcow2 *q, uint64_t vci, uint64_t e,
    struct qcow2_map *m)
{
	unsigned	 cb = q->h.cluster_bits, x = 62 - (cb - 8);
	uint64_t	 end = qcow2_l2_file_end(q), nsec;
	unsigned long long guest = (unsigned long long)(vci << cb);

	memset(m, 0, sizeof *m);
	if (e & QCOW2_COMPRESSED) {
		m->kind = QCOW2_ZDATA;
		m->host = e & ((1ULL << x) - 1);
		nsec = (e >> x) & ((1ULL << (cb - 8)) - 1);
		m->zlen = (nsec + 1) * 512 - (m->host & 511);
		if (e & QCOW2_COPIED)
			return qcow2_fail(q, EIO, "%s: compressed cluster "
			    "at guest offset 0x%llx has the copied bit set",
			    q->name, guest);
		if (m->host < q->cluster_size || m->host >= end ||
		    m->host >= QCOW2_MAX_OFFSET)
			return qcow2_fail(q, EIO, "%s: compressed cluster "
			    "at guest offset 0x%llx points at 0x%llx, outside "
			    "the file", q->name, guest,
			    (unsigned long long)m->host);
		return 0;
	}
	if (e & QCOW2_L2_RESERVED)
		return qcow2_fail(q, EIO, "%s: L2 entry 0x%016llx for guest "
		    "offset 0x%llx has reserved bits set", q->name,
		    (unsigned long long)e, guest);
	if ((e & QCOW2_ZERO) && q->h.version < 3)
		return qcow2_fail(q, EIO, "%s: L2 entry for guest offset "
		    "0x%llx has the zero flag in a version 2 image", q->name,
		    guest);
	m->host = e & QCOW2_OFFSET_MASK;
	m->copied = (e & QCOW2_COPIED) != 0;
	if (m->host == 0) {
		m->kind = (e & QCOW2_ZERO) ? QCOW2_ZEROED : QCOW2_UNALLOCATED;
		m->copied = 0;
		return 0;
	}
	m->kind = (e & QCOW2_ZERO) ? QCOW2_ZEROED : QCOW2_DATA;
	if (m->host % q->cluster_size != 0)
		return qcow2_fail(q, EIO, "%s: data cluster for guest offset "
		    "0x%llx at 0x%llx is not aligned to the cluster size",
		    q->name, guest, (unsigned long long)m->host);
	if (m->host + q->cluster_size > end)
		return qcow2_fail(q, EIO, "%s: data cluster for guest offset "
		    "0x%llx at 0x%llx lies past the end of the file", q->name,
		    guest, (unsigned long long)m->host);
	if (qcow2_is_fixed(q, m->host / q->cluster_size))
		return qcow2_fail(q, EIO, "%s: data cluster for guest offset "
		    "0x%llx at 0x%llx overlaps the image's tables", q->name,
		    guest, (unsigned long long)m->host);
	return 0;
}

/*
 * The cached slice holding guest cluster vci's L2 entry, at *idx in it.
 * With alloc, a missing L2 table is made (zeros, and an L1 entry written
 * at the next flush); without, *sp is NULL when there is none. Returns
 * 0, or -1 with q->error set.
 */
int
qcow2_l2_slice(struct qcow2 *q, uint64_t vci, int alloc,
    struct qcow2_slice **sp, unsigned *idx)
{
	uint64_t	l1i = vci / q->l2_entries, l2i = vci % q->l2_entries;
	uint64_t	per = q->l2c.slice / 8, off, c, got;
	int		fresh, fill = 1;
	char		why[PROTO_TEXT_SIZE];

	*sp = NULL;
	if (l1i >= q->h.l1_size)
		return qcow2_fail(q, EIO, "%s: guest cluster %llu lies "
		    "beyond the L1 table", q->name, (unsigned long long)vci);
	off = q->l1[l1i] & QCOW2_OFFSET_MASK;
	if (off == 0) {
		if (!alloc)
			return 0;
		if (qcow2_alloc(q, 1, &c, &got, &fresh) == -1)
			return -1;
		off = c * q->cluster_size;
		/* Past the old end of the file, it reads as zeros already. */
		if (!fresh && qcow2_pwrite(q, q->zero, q->cluster_size, off,
		    "a new L2 table") == -1)
			return -1;
		q->l1[l1i] = off | QCOW2_COPIED;
		qcow2_table_dirty(&q->l1_lo, &q->l1_hi, l1i);
		fill = 0;
	} else if (qcow2_l2_check_table(q, off, l1i, why, sizeof why) == -1)
		return qcow2_fail(q, EIO, "%s: %s", q->name, why);
	*sp = qcow2_cache_get(q, &q->l2c, off + (l2i / per) * q->l2c.slice,
	    fill);
	if (*sp == NULL)
		return -1;
	*idx = l2i % per;
	return 0;
}

/* The raw L2 entry at idx in a slice. */
uint64_t
qcow2_l2_get(struct qcow2_slice *s, unsigned idx)
{
	uint64_t	e;

	memcpy(&e, s->data + (size_t)idx * 8, 8);
	return be64toh(e);
}

/* Set the L2 entry at idx in a slice; it goes to disk at write-back. */
void
qcow2_l2_put(struct qcow2 *q, struct qcow2_slice *s, unsigned idx,
    uint64_t e)
{
	e = htobe64(e);
	memcpy(s->data + (size_t)idx * 8, &e, 8);
	qcow2_cache_dirty(&q->l2c, s);
}

/*
 * What guest cluster vci is. Returns 0 with m filled, or -1 with
 * q->error set.
 */
int
qcow2_l2_lookup(struct qcow2 *q, uint64_t vci, struct qcow2_map *m)
{
	struct qcow2_slice	*s;
	unsigned		 idx;

	if (qcow2_l2_slice(q, vci, 0, &s, &idx) == -1)
		return -1;
	if (s == NULL) {
		memset(m, 0, sizeof *m);
		m->kind = QCOW2_UNALLOCATED;
		return 0;
	}
	return qcow2_l2_decode(q, vci, qcow2_l2_get(s, idx), m);
}
