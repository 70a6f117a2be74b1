/*
 * qcow2 header: read the first cluster, check every field against the
 * file (sizes, alignment, tables inside the file and apart), parse the
 * header extensions, and refuse features this implementation does not
 * have with a sentence that names them. Used by the engine (base chains)
 * as well as by qcow2_open().
 */
#include <sys/stat.h>

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qcow2.h"

#define FEATURE_ENTRY	48
#define FEATURE_NAME	46

static uint32_t
get32(const uint8_t *p)
{
	uint32_t	v;

	memcpy(&v, p, sizeof v);
	return be32toh(v);
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t	v;

	memcpy(&v, p, sizeof v);
	return be64toh(v);
}

/*
 * The size of a file or block device; -1 with errno set. lseek, not an
 * ioctl: the sandboxed runner may make no ioctls on disks.
 */
static int
qcow2_header_fdsize(int fd, uint64_t *size)
{
	struct stat	st;
	off_t		end;

	if (fstat(fd, &st) == -1)
		return -1;
	if (S_ISREG(st.st_mode)) {
		*size = st.st_size;
		return 0;
	}
	if (!S_ISBLK(st.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	if ((end = lseek(fd, 0, SEEK_END)) == -1)
		return -1;
	*size = end;
	return 0;
}

/* A name for an unknown feature bit from the feature name table. */
static void
qcow2_header_feature(const uint8_t *tab, size_t len, int type, int bit,
    char *name, size_t namelen)
{
	size_t	i, n;

	snprintf(name, namelen, "bit %d", bit);
	for (i = 0; tab != NULL && i + FEATURE_ENTRY <= len;
	    i += FEATURE_ENTRY) {
		if (tab[i] != type || tab[i + 1] != bit)
			continue;
		n = strnlen((const char *)tab + i + 2, FEATURE_NAME);
		if (n == 0)
			break;
		snprintf(name, namelen, "\"%.*s\" (bit %d)", (int)n,
		    (const char *)tab + i + 2, bit);
		/* Names come from the file: keep them printable. */
		for (n = 0; name[n] != '\0'; n++) {
			if ((unsigned char)name[n] < 0x20 ||
			    (unsigned char)name[n] >= 0x7f)
				name[n] = '?';
		}
		break;
	}
}

/*
 * Walk the header extensions in hdr[start, end). Returns 0, or -1 with
 * err set; *features points at the feature name table, if any.
 */
static int
qcow2_header_exts(struct qcow2_header *h, const uint8_t *hdr, uint64_t start,
    uint64_t end, const uint8_t **features, size_t *featlen, char *err,
    size_t errlen)
{
	uint64_t	off = start;
	uint32_t	type, len;

	*features = NULL;
	*featlen = 0;
	while (off + 8 <= end) {
		type = get32(hdr + off);
		len = get32(hdr + off + 4);
		if (type == QCOW2_EXT_END)
			return 0;
		if (len > end - off - 8) {
			snprintf(err, errlen, "header extension 0x%08x of %u "
			    "bytes runs past the end of the header", type, len);
			return -1;
		}
		switch (type) {
		case QCOW2_EXT_BACKING_FMT:
			if (len == 0 || len >= sizeof h->backing_fmt) {
				snprintf(err, errlen, "backing format name of "
				    "%u bytes is invalid", len);
				return -1;
			}
			memcpy(h->backing_fmt, hdr + off + 8, len);
			h->backing_fmt[len] = '\0';
			if (strlen(h->backing_fmt) != len) {
				snprintf(err, errlen, "backing format name "
				    "holds a NUL byte");
				return -1;
			}
			break;
		case QCOW2_EXT_FEATURES:
			*features = hdr + off + 8;
			*featlen = len;
			break;
		default:
			/* Bitmaps, crypto, data file: refused by feature. */
			break;
		}
		off += 8 + (((uint64_t)len + 7) & ~7ULL);
	}
	return 0;
}

/* Check the features and the refcount width (v3 fields). */
static int
qcow2_header_features(struct qcow2_header *h, const uint8_t *hdr,
    const uint8_t *features, size_t featlen, char *err, size_t errlen)
{
	const uint64_t	known = QCOW2_INCOMPAT_DIRTY |
	    QCOW2_INCOMPAT_CORRUPT | QCOW2_INCOMPAT_DATAFILE |
	    QCOW2_INCOMPAT_COMPRESS | QCOW2_INCOMPAT_EXTL2;
	char		name[80];
	int		bit;

	if (h->incompat & ~known) {
		for (bit = 0; bit < 64; bit++)
			if ((h->incompat & ~known) & (1ULL << bit))
				break;
		qcow2_header_feature(features, featlen, 0, bit, name,
		    sizeof name);
		snprintf(err, errlen, "unknown incompatible feature %s",
		    name);
		return -1;
	}
	if (h->incompat & QCOW2_INCOMPAT_DATAFILE) {
		snprintf(err, errlen, "external data files are not "
		    "supported");
		return -1;
	}
	if (h->incompat & QCOW2_INCOMPAT_EXTL2) {
		snprintf(err, errlen, "extended L2 entries (subclusters) are "
		    "not supported");
		return -1;
	}
	if (h->incompat & QCOW2_INCOMPAT_COMPRESS) {
		if (h->header_length <= QCOW2_V3_HDR_SIZE ||
		    hdr[QCOW2_V3_HDR_SIZE] == 0) {
			snprintf(err, errlen, "the compression type bit is "
			    "set without a compression type");
			return -1;
		}
		snprintf(err, errlen, "compression type %u is not supported "
		    "(only zlib)", hdr[QCOW2_V3_HDR_SIZE]);
		return -1;
	}
	if (h->header_length > QCOW2_V3_HDR_SIZE &&
	    hdr[QCOW2_V3_HDR_SIZE] != 0) {
		snprintf(err, errlen, "compression type %u is set without "
		    "its feature bit", hdr[QCOW2_V3_HDR_SIZE]);
		return -1;
	}
	if (h->refcount_order > 6) {
		snprintf(err, errlen, "refcount order %u is out of range (0 "
		    "to 6)", h->refcount_order);
		return -1;
	}
	return 0;
}

/* Check that [off, off + len) is aligned and inside the file. */
static int
qcow2_header_table(struct qcow2_header *h, const char *what, uint64_t off,
    uint64_t len, char *err, size_t errlen)
{
	uint64_t	cs = 1ULL << h->cluster_bits;

	if (off % cs != 0) {
		snprintf(err, errlen, "%s offset 0x%llx is not aligned to "
		    "the cluster size (%llu)", what, (unsigned long long)off,
		    (unsigned long long)cs);
		return -1;
	}
	if (off == 0) {
		snprintf(err, errlen, "%s overlaps the header", what);
		return -1;
	}
	if (off > h->file_size || len > h->file_size - off) {
		snprintf(err, errlen, "%s at offset 0x%llx (%llu bytes) runs "
		    "past the end of the file (%llu bytes)", what,
		    (unsigned long long)off, (unsigned long long)len,
		    (unsigned long long)h->file_size);
		return -1;
	}
	return 0;
}

/* Check the L1 and refcount tables and the snapshot table's place. */
static int
qcow2_header_tables(struct qcow2_header *h, char *err, size_t errlen)
{
	uint64_t	cs = 1ULL << h->cluster_bits;
	uint64_t	l2e = cs / 8, l1need, l1bytes, rtbytes;

	l1bytes = (uint64_t)h->l1_size * 8;
	if (l1bytes > QCOW2_MAX_L1_BYTES) {
		snprintf(err, errlen, "L1 table of %u entries is larger than "
		    "%u MiB", h->l1_size, QCOW2_MAX_L1_BYTES >> 20);
		return -1;
	}
	l1need = h->size / cs / l2e + (h->size % (cs * l2e) != 0);
	if (l1need > h->l1_size) {
		snprintf(err, errlen, "L1 table of %u entries is too small "
		    "for the virtual size of %llu bytes", h->l1_size,
		    (unsigned long long)h->size);
		return -1;
	}
	if (h->l1_size > 0 && qcow2_header_table(h, "L1 table", h->l1_offset,
	    l1bytes, err, errlen) == -1)
		return -1;
	if (h->rt_clusters == 0) {
		snprintf(err, errlen, "the refcount table is empty");
		return -1;
	}
	rtbytes = (uint64_t)h->rt_clusters * cs;
	if (rtbytes > QCOW2_MAX_RT_BYTES) {
		snprintf(err, errlen, "refcount table of %u clusters is "
		    "larger than %u MiB", h->rt_clusters,
		    QCOW2_MAX_RT_BYTES >> 20);
		return -1;
	}
	if (qcow2_header_table(h, "refcount table", h->rt_offset, rtbytes,
	    err, errlen) == -1)
		return -1;
	if (h->l1_size > 0 && h->l1_offset < h->rt_offset + rtbytes &&
	    h->rt_offset < h->l1_offset + l1bytes) {
		snprintf(err, errlen, "the L1 table and the refcount table "
		    "overlap");
		return -1;
	}
	if (h->nb_snapshots > QCOW2_MAX_SNAPSHOTS) {
		snprintf(err, errlen, "%u snapshots are more than %u",
		    h->nb_snapshots, QCOW2_MAX_SNAPSHOTS);
		return -1;
	}
	if (h->nb_snapshots > 0 && qcow2_header_table(h, "snapshot table",
	    h->snapshots_offset, 40, err, errlen) == -1)
		return -1;
	return 0;
}

/* The backing file name, which must lie in the first cluster. */
static int
qcow2_header_backing(struct qcow2_header *h, const uint8_t *hdr,
    uint64_t hdrend, char *err, size_t errlen)
{
	uint64_t	cs = 1ULL << h->cluster_bits;

	h->backing[0] = '\0';
	if (h->backing_offset == 0)
		return 0;
	if (h->backing_size == 0 || h->backing_size > QCOW2_BACKING_MAX) {
		snprintf(err, errlen, "backing file name of %u bytes is "
		    "invalid (1 to %u)", h->backing_size, QCOW2_BACKING_MAX);
		return -1;
	}
	if (h->backing_offset < hdrend || h->backing_offset > cs ||
	    h->backing_size > cs - h->backing_offset ||
	    h->backing_offset + h->backing_size > h->file_size) {
		snprintf(err, errlen, "backing file name at offset %llu (%u "
		    "bytes) lies outside the header cluster",
		    (unsigned long long)h->backing_offset, h->backing_size);
		return -1;
	}
	memcpy(h->backing, hdr + h->backing_offset, h->backing_size);
	h->backing[h->backing_size] = '\0';
	if (strlen(h->backing) != h->backing_size) {
		snprintf(err, errlen, "backing file name holds a NUL byte");
		return -1;
	}
	return 0;
}

/*
 * Read and check the header of the qcow2 image on fd. Return values: 0,
 * or -1 with what is wrong in err (the caller names the file).
 */
int
qcow2_header_read(int fd, struct qcow2_header *h, char *err, size_t errlen)
{
	uint8_t			 fixed[QCOW2_V3_HDR_SIZE], *hdr = NULL;
	const uint8_t		*features;
	size_t			 featlen;
	uint64_t		 cs, want, extend;
	ssize_t			 n;

	memset(h, 0, sizeof *h);
	if (qcow2_header_fdsize(fd, &h->file_size) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	memset(fixed, 0, sizeof fixed);
	n = pread(fd, fixed, sizeof fixed, 0);
	if (n < QCOW2_V2_HDR_SIZE) {
		snprintf(err, errlen, n < 0 ? "reading the header: %s" :
		    "the qcow2 header is truncated", strerror(errno));
		return -1;
	}
	if (get32(fixed) != QCOW2_MAGIC) {
		snprintf(err, errlen, "not a qcow2 image");
		return -1;
	}
	h->version = get32(fixed + 4);
	h->backing_offset = get64(fixed + 8);
	h->backing_size = get32(fixed + 16);
	h->cluster_bits = get32(fixed + 20);
	h->size = get64(fixed + 24);
	h->crypt_method = get32(fixed + 32);
	h->l1_size = get32(fixed + 36);
	h->l1_offset = get64(fixed + 40);
	h->rt_offset = get64(fixed + 48);
	h->rt_clusters = get32(fixed + 56);
	h->nb_snapshots = get32(fixed + 60);
	h->snapshots_offset = get64(fixed + 64);
	if (h->version != 2 && h->version != 3) {
		snprintf(err, errlen, "qcow2 version %u is not supported "
		    "(only 2 and 3)", h->version);
		return -1;
	}
	if (h->cluster_bits < QCOW2_MIN_CLUSTER_BITS ||
	    h->cluster_bits > QCOW2_MAX_CLUSTER_BITS) {
		snprintf(err, errlen, "cluster bits %u are out of range (%d "
		    "to %d: 512 B to 2 MiB)", h->cluster_bits,
		    QCOW2_MIN_CLUSTER_BITS, QCOW2_MAX_CLUSTER_BITS);
		return -1;
	}
	cs = 1ULL << h->cluster_bits;
	if (h->version == 2) {
		h->refcount_order = 4;
		h->header_length = QCOW2_V2_HDR_SIZE;
	} else {
		if (n < QCOW2_V3_HDR_SIZE) {
			snprintf(err, errlen, "the qcow2 v3 header is "
			    "truncated");
			return -1;
		}
		h->incompat = get64(fixed + 72);
		h->compat = get64(fixed + 80);
		h->autoclear = get64(fixed + 88);
		h->refcount_order = get32(fixed + 96);
		h->header_length = get32(fixed + 100);
		if (h->header_length < QCOW2_V3_HDR_SIZE ||
		    h->header_length % 8 != 0 || h->header_length > cs) {
			snprintf(err, errlen, "header length %u is invalid",
			    h->header_length);
			return -1;
		}
	}
	if (h->crypt_method != 0) {
		snprintf(err, errlen, "encrypted images (method %u) are not "
		    "supported", h->crypt_method);
		return -1;
	}

	/* The rest of the header cluster: extensions and backing name. */
	want = cs < h->file_size ? cs : h->file_size;
	if ((hdr = calloc(1, cs)) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (pread(fd, hdr, want, 0) != (ssize_t)want) {
		snprintf(err, errlen, "reading the header: %s",
		    strerror(errno ? errno : EIO));
		goto fail;
	}
	extend = cs;
	if (h->backing_offset > h->header_length && h->backing_offset < cs)
		extend = h->backing_offset;
	if (qcow2_header_exts(h, hdr, h->header_length, extend, &features,
	    &featlen, err, errlen) == -1)
		goto fail;
	if (h->version == 3 && qcow2_header_features(h, hdr, features,
	    featlen, err, errlen) == -1)
		goto fail;
	if (qcow2_header_backing(h, hdr, h->header_length, err, errlen) ==
	    -1 || qcow2_header_tables(h, err, errlen) == -1)
		goto fail;
	free(hdr);
	return 0;
fail:
	free(hdr);
	return -1;
}
