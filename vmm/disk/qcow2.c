/*
 * qcow2 images behind the disk-ops table: open (header, L1 and refcount
 * tables checked, no two tables in one cluster), flush and close, the
 * helpers the qcow2_*.c files share (errors naming the image, I/O that
 * moves every byte, the write barrier, iovec slicing) and `info`.
 * One mutex per image serialises the virtio-blk threads.
 */
#include <sys/stat.h>

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "qcow2.h"

static const struct disk_ops qcow2_ops;

/*
 * Record an error as a sentence (it names the image) and set errno to e.
 * An I/O error or a bad table marks the image broken: no more writes.
 * Returns -1.
 */
int
qcow2_fail(struct qcow2 *q, int e, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(q->error, sizeof q->error, fmt, ap);
	va_end(ap);
	if (e == EIO)
		q->broken = 1;
	errno = e;
	return -1;
}

/* Read all of [off, off + len); what names the structure for errors. */
int
qcow2_pread(struct qcow2 *q, void *buf, size_t len, uint64_t off,
    const char *what)
{
	size_t	done = 0;
	ssize_t	n;

	while (done < len) {
		n = pread(q->disk.fd, (uint8_t *)buf + done, len - done,
		    off + done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return qcow2_fail(q, EIO, "%s: reading %s: %s", q->name,
			    what, strerror(errno));
		if (n == 0)
			return qcow2_fail(q, EIO, "%s: %s at offset 0x%llx is "
			    "cut short by the end of the file", q->name, what,
			    (unsigned long long)off);
		done += n;
	}
	return 0;
}

/* Write all of buf at off. */
int
qcow2_pwrite(struct qcow2 *q, const void *buf, size_t len, uint64_t off,
    const char *what)
{
	size_t	done = 0;
	ssize_t	n;

	q->unsynced = q->written = 1;
	while (done < len) {
		n = pwrite(q->disk.fd, (const uint8_t *)buf + done,
		    len - done, off + done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return qcow2_fail(q, n == 0 ? EIO : errno, "%s: "
			    "writing %s: %s", q->name, what,
			    strerror(n == 0 ? EIO : errno));
		done += n;
	}
	if (off + len > q->file_size)
		q->file_size = off + len;
	return 0;
}

/* fdatasync (unless the image is unsafe). */
int
qcow2_sync(struct qcow2 *q)
{
	if (!q->unsafe && fdatasync(q->disk.fd) == -1)
		return qcow2_fail(q, errno, "%s: syncing: %s", q->name,
		    strerror(errno));
	q->unsynced = q->written = 0;
	return 0;
}

/* Note entry i of a table (L1 or refcount) as changed in memory only. */
void
qcow2_table_dirty(uint64_t *lo, uint64_t *hi, uint64_t i)
{
	if (*lo == *hi) {
		*lo = i;
		*hi = i + 1;
	} else if (i < *lo)
		*lo = i;
	else if (i >= *hi)
		*hi = i + 1;
}

/* Write entries [*lo, *hi) of a table kept in memory in host order. */
static int
qcow2_table_write(struct qcow2 *q, const uint64_t *tab, uint64_t off,
    uint64_t *lo, uint64_t *hi, const char *what)
{
	uint64_t	buf[512], i, n;

	while (*lo < *hi) {
		n = *hi - *lo < 512 ? *hi - *lo : 512;
		for (i = 0; i < n; i++)
			buf[i] = htobe64(tab[*lo + i]);
		if (qcow2_pwrite(q, buf, n * 8, off + *lo * 8, what) == -1)
			return -1;
		*lo += n;
	}
	*lo = *hi = 0;
	return 0;
}

/*
 * Before anything that points at clusters goes to disk: write the dirty
 * refcounts, then (once they are durable) the refcount table entries of
 * new blocks, make the file cover every allocated cluster, and sync what
 * was written since the last sync.
 */
int
qcow2_barrier(struct qcow2 *q)
{
	if (qcow2_cache_flush(q, &q->rbc) == -1)
		return -1;
	if (q->rt_lo < q->rt_hi) {
		if ((q->unsynced && qcow2_sync(q) == -1) ||
		    qcow2_table_write(q, q->rt, q->h.rt_offset, &q->rt_lo,
		    &q->rt_hi, "the refcount table") == -1)
			return -1;
	}
	if (q->alloc_end > q->file_size) {
		if (ftruncate(q->disk.fd, q->alloc_end) == -1)
			return qcow2_fail(q, EIO, "%s: extending the file: %s",
			    q->name, strerror(errno));
		q->file_size = q->alloc_end;
		q->unsynced = q->written = 1;
	}
	return q->unsynced ? qcow2_sync(q) : 0;
}

/*
 * Make everything written so far durable: refcounts, sync, L2 tables,
 * sync, new L1 entries, sync; then release the clusters nothing points
 * at any more. Returns 0, or -1 with q->error set.
 */
int
qcow2_flush_locked(struct qcow2 *q)
{
	int	rv = 0;

	if (q->disk.readonly)
		return 0;
	if (qcow2_barrier(q) == -1 || qcow2_cache_flush(q, &q->l2c) == -1 ||
	    (q->l1_lo < q->l1_hi && ((q->written && qcow2_sync(q) == -1) ||
	    qcow2_table_write(q, q->l1, q->h.l1_offset, &q->l1_lo, &q->l1_hi,
	    "the L1 table") == -1)) ||
	    (q->written && qcow2_sync(q) == -1))
		rv = -1;
	else if (q->npending > 0) {
		if (qcow2_release_pending(q) == -1 ||
		    qcow2_cache_flush(q, &q->rbc) == -1 || qcow2_sync(q) == -1)
			rv = -1;
	}
	if (rv == -1)
		q->broken = 1;
	return rv;
}

/* Whether host cluster ci holds the header, L1 table or refcount table. */
int
qcow2_is_fixed(struct qcow2 *q, uint64_t ci)
{
	uint64_t	cs = q->cluster_size, l1end;

	if (ci == 0)
		return 1;
	if (q->h.l1_size > 0) {
		l1end = q->h.l1_offset + (uint64_t)q->h.l1_size * 8;
		if (ci >= q->h.l1_offset / cs && ci < (l1end + cs - 1) / cs)
			return 1;
	}
	return ci >= q->h.rt_offset / cs &&
	    ci < q->h.rt_offset / cs + q->h.rt_clusters;
}

static int
qcow2_flush(struct disk *d)
{
	struct qcow2	*q = d->priv;
	int		 rv;

	pthread_mutex_lock(&q->lock);
	rv = qcow2_flush_locked(q);
	pthread_mutex_unlock(&q->lock);
	return rv;
}

/* The image's device and inode: stable for as long as the file lives. */
static int
qcow2_get_id(struct disk *d, char id[DISK_ID_BYTES])
{
	struct stat	st;
	char		buf[64];

	if (fstat(d->fd, &st) == -1)
		return -1;
	snprintf(buf, sizeof buf, "%llx-%llx", (unsigned long long)st.st_ino,
	    (unsigned long long)st.st_dev);
	memset(id, 0, DISK_ID_BYTES);
	memcpy(id, buf, strnlen(buf, DISK_ID_BYTES));
	return 0;
}

static const char *
qcow2_error(struct disk *d)
{
	struct qcow2	*q = d->priv;

	return q->error[0] != '\0' ? q->error : NULL;
}

static void
qcow2_free(struct qcow2 *q)
{
	qcow2_cache_free(&q->l2c);
	qcow2_cache_free(&q->rbc);
	if (q->zstream != NULL) {
		inflateEnd(q->zstream);
		free(q->zstream);
	}
	free(q->zbuf);
	free(q->zout);
	free(q->zero);
	free(q->bounce);
	free(q->oldmap);
	free(q->pending);
	free(q->l1);
	free(q->rt);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

static void
qcow2_close(struct disk *d)
{
	struct qcow2	*q = d->priv;

	pthread_mutex_lock(&q->lock);
	if (!d->readonly && !q->broken)
		(void)qcow2_flush_locked(q);
	pthread_mutex_unlock(&q->lock);
	if (q->base != NULL)
		q->base->ops->close(q->base);
	close(d->fd);
	qcow2_free(q);
}

static const struct disk_ops qcow2_ops = {
	.name = "qcow2",
	.readv = qcow2_readv,
	.writev = qcow2_writev,
	.flush = qcow2_flush,
	.discard = qcow2_discard,
	.write_zeroes = qcow2_write_zeroes,
	.get_id = qcow2_get_id,
	.close = qcow2_close,
	.block_status = qcow2_block_status,
	.error = qcow2_error,
};

static int
qcow2_cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* No two L2 tables or refcount blocks may share a cluster. */
static int
qcow2_check_shared(struct qcow2 *q, char *err, size_t errlen)
{
	uint64_t	*offs, n = 0, i;
	int		 rv = 0;

	offs = calloc(q->h.l1_size + q->rt_entries + 1, sizeof *offs);
	if (offs == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	for (i = 0; i < q->h.l1_size; i++)
		if ((q->l1[i] & QCOW2_OFFSET_MASK) != 0)
			offs[n++] = q->l1[i] & QCOW2_OFFSET_MASK;
	for (i = 0; i < q->rt_entries; i++)
		if (q->rt[i] != 0)
			offs[n++] = q->rt[i];
	qsort(offs, n, sizeof *offs, qcow2_cmp_u64);
	for (i = 1; i < n; i++) {
		if (offs[i] == offs[i - 1]) {
			snprintf(err, errlen, "two tables (L2 tables or "
			    "refcount blocks) share the cluster at 0x%llx",
			    (unsigned long long)offs[i]);
			rv = -1;
			break;
		}
	}
	free(offs);
	return rv;
}

/* Refuse what this image cannot be opened for; why goes into err. */
static int
qcow2_check_mode(struct qcow2 *q, struct disk *base, int flags, char *err,
    size_t errlen)
{
	struct qcow2_header	*h = &q->h;

	if (h->backing[0] != '\0' && base == NULL && !(flags & DISK_NOBASE)) {
		snprintf(err, errlen, "its base image %.200s was not given",
		    h->backing);
		return -1;
	}
	if (h->backing[0] == '\0' && base != NULL) {
		snprintf(err, errlen, "it has no base image, but one was "
		    "given");
		return -1;
	}
	if (q->disk.readonly)
		return 0;
	if (h->incompat & QCOW2_INCOMPAT_CORRUPT)
		snprintf(err, errlen, "it is marked corrupt; it can only be "
		    "read (qemu-img check -r all repairs it)");
	else if (h->incompat & QCOW2_INCOMPAT_DIRTY)
		snprintf(err, errlen, "it was not closed cleanly (dirty "
		    "bit); it can only be read (qemu-img check -r all "
		    "repairs it)");
	else if (h->nb_snapshots > 0)
		snprintf(err, errlen, "it has %u internal snapshots; it can "
		    "only be read", h->nb_snapshots);
	else
		return 0;
	return -1;
}

/*
 * Open the qcow2 image on fd over base (or NULL). name is for messages.
 * Returns the disk, owning fd and base, or NULL with err set (and fd and
 * base still the caller's).
 */
struct disk *
qcow2_open(int fd, struct disk *base, int flags, const char *name,
    char *err, size_t errlen)
{
	struct qcow2	*q;
	uint64_t	 zero = 0, slice, cs;
	char		 why[PROTO_TEXT_SIZE];
	int		 fl;

	if ((q = calloc(1, sizeof *q)) == NULL) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		return NULL;
	}
	pthread_mutex_init(&q->lock, NULL);
	snprintf(q->name, sizeof q->name, "%s", name);
	q->disk.ops = &qcow2_ops;
	q->disk.fd = fd;
	q->disk.priv = q;
	fl = fcntl(fd, F_GETFL);
	q->disk.readonly = (flags & DISK_RDONLY) || fl == -1 ||
	    (fl & O_ACCMODE) == O_RDONLY;
	q->unsafe = (flags & DISK_UNSAFE) != 0;
	if (qcow2_header_read(fd, &q->h, why, sizeof why) == -1 ||
	    qcow2_check_mode(q, base, flags, why, sizeof why) == -1)
		goto fail;
	q->disk.size = q->h.size;
	q->cluster_size = cs = 1ULL << q->h.cluster_bits;
	q->l2_entries = cs / 8;
	q->rc_bits = 1U << q->h.refcount_order;
	q->rb_entries = cs * 8 / q->rc_bits;
	q->file_size = q->alloc_end = q->h.file_size;
	q->fresh = (q->file_size + cs - 1) / cs;
	slice = cs < QCOW2_SLICE_MAX ? cs : QCOW2_SLICE_MAX;
	if (qcow2_cache_init(&q->l2c, "an L2 table", slice,
	    QCOW2_L2_CACHE_BYTES / slice) == -1 ||
	    qcow2_cache_init(&q->rbc, "a refcount block", slice,
	    QCOW2_RC_CACHE_BYTES / slice) == -1 ||
	    (q->zero = calloc(1, cs)) == NULL ||
	    (q->bounce = malloc(2 * cs)) == NULL ||
	    (q->oldmap = calloc(slice / 8, sizeof *q->oldmap)) == NULL) {
		snprintf(why, sizeof why, "%s", strerror(ENOMEM));
		goto fail;
	}
	if (qcow2_l1_load(q, why, sizeof why) == -1 ||
	    qcow2_rt_load(q, why, sizeof why) == -1 ||
	    qcow2_check_shared(q, why, sizeof why) == -1)
		goto fail;
	if (!q->disk.readonly && q->h.autoclear != 0) {
		/* Features we do not keep up to date must be dropped. */
		if (qcow2_pwrite(q, &zero, 8, QCOW2_OFF_AUTOCLEAR,
		    "the header") == -1 || qcow2_sync(q) == -1) {
			snprintf(why, sizeof why, "%s", q->error);
			goto fail;
		}
		q->h.autoclear = 0;
	}
	q->base = base;
	q->error[0] = '\0';
	q->broken = 0;
	return &q->disk;
fail:
	snprintf(err, errlen, "%s: %s", name, why);
	qcow2_free(q);
	return NULL;
}

/* Count what the image maps itself: walk every L2 entry. */
static int
qcow2_info_count(struct qcow2 *q, struct disk_info *info)
{
	struct qcow2_slice	*s;
	struct qcow2_map	 m;
	uint64_t		 vci, n;
	unsigned		 idx;

	n = (q->h.size + q->cluster_size - 1) / q->cluster_size;
	for (vci = 0; vci < n; vci++) {
		if (qcow2_l2_slice(q, vci, 0, &s, &idx) == -1)
			return -1;
		if (s == NULL) {
			/* No L2 table: skip to the next one. */
			vci |= q->l2_entries - 1;
			continue;
		}
		if (qcow2_l2_decode(q, vci, qcow2_l2_get(s, idx), &m) == -1)
			return -1;
		if (m.kind == QCOW2_DATA)
			info->data_clusters++;
		else if (m.kind == QCOW2_ZDATA)
			info->zdata_clusters++;
		else if (m.kind == QCOW2_ZEROED)
			info->zero_clusters++;
	}
	info->allocated = (info->data_clusters + info->zdata_clusters) *
	    q->cluster_size;
	if (info->allocated > q->h.size)
		info->allocated = q->h.size;
	return 0;
}

/* Fill the qcow2 fields of info. Returns 0, or -1 with errno set. */
int
qcow2_info(struct disk *d, struct disk_info *info)
{
	struct qcow2	*q = d->priv;
	int		 rv;

	if (d->ops != &qcow2_ops) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&q->lock);
	info->format = DISK_FORMAT_QCOW2;
	info->size = q->h.size;
	info->file_size = q->file_size;
	info->cluster_size = q->cluster_size;
	info->version = q->h.version;
	info->refcount_bits = q->rc_bits;
	info->snapshots = q->h.nb_snapshots;
	info->dirty = (q->h.incompat & QCOW2_INCOMPAT_DIRTY) != 0;
	info->corrupt = (q->h.incompat & QCOW2_INCOMPAT_CORRUPT) != 0;
	snprintf(info->base, sizeof info->base, "%s", q->h.backing);
	info->base_format = DISK_FORMAT_AUTO;
	(void)disk_format_parse(q->h.backing_fmt, &info->base_format);
	rv = qcow2_info_count(q, info);
	pthread_mutex_unlock(&q->lock);
	return rv;
}
