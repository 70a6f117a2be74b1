/*
 * Write-back caches of table slices (L2 tables, refcount blocks): up to
 * max slices of a few KiB each, found by their offset in the file through
 * a hash table, evicted least recently used first. A dirty L2 slice is
 * written only after qcow2_barrier(): the refcounts and data it points at
 * reach the disk first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qcow2.h"

static unsigned
qcow2_cache_bucket(struct qcow2_cache *c, uint64_t off)
{
	uint64_t	k = off / c->slice;

	k *= 0x9e3779b97f4a7c15ULL;
	return (k >> 32) & (c->nbuckets - 1);
}

/* Returns 0, or -1 with errno set. */
int
qcow2_cache_init(struct qcow2_cache *c, const char *what, size_t slice,
    unsigned max)
{
	unsigned	i;

	memset(c, 0, sizeof *c);
	c->what = what;
	c->slice = slice;
	c->max = max < 4 ? 4 : max;
	for (c->nbuckets = 16; c->nbuckets < c->max; c->nbuckets <<= 1)
		;
	c->buckets = calloc(c->nbuckets, sizeof *c->buckets);
	if (c->buckets == NULL)
		return -1;
	for (i = 0; i < c->nbuckets; i++)
		LIST_INIT(&c->buckets[i]);
	TAILQ_INIT(&c->lru);
	return 0;
}

void
qcow2_cache_free(struct qcow2_cache *c)
{
	struct qcow2_slice	*e;

	if (c->buckets == NULL)
		return;
	while ((e = TAILQ_FIRST(&c->lru)) != NULL) {
		TAILQ_REMOVE(&c->lru, e, lru);
		free(e->data);
		free(e);
	}
	free(c->buckets);
	c->buckets = NULL;
	c->n = c->ndirty = 0;
}

static struct qcow2_slice *
qcow2_cache_find(struct qcow2_cache *c, uint64_t off)
{
	struct qcow2_slice	*e;

	LIST_FOREACH(e, &c->buckets[qcow2_cache_bucket(c, off)], link) {
		if (e->off == off)
			return e;
	}
	return NULL;
}

/* Write one dirty slice; L2 slices wait for the barrier. */
static int
qcow2_cache_write(struct qcow2 *q, struct qcow2_cache *c,
    struct qcow2_slice *e)
{
	if (c == &q->l2c && qcow2_barrier(q) == -1)
		return -1;
	if (qcow2_pwrite(q, e->data, c->slice, e->off, c->what) == -1)
		return -1;
	/* Nothing points at an L2 table's content but L1, written before. */
	if (c == &q->l2c)
		q->unsynced = 0;
	e->dirty = 0;
	c->ndirty--;
	return 0;
}

/*
 * The slice at off: read from the file (fill), or zeros for a table just
 * made. It stays valid until the next get on the same cache. Return
 * values: the slice, or NULL with q->error set.
 */
struct qcow2_slice *
qcow2_cache_get(struct qcow2 *q, struct qcow2_cache *c, uint64_t off,
    int fill)
{
	struct qcow2_slice	*e;

	if ((e = qcow2_cache_find(c, off)) != NULL) {
		TAILQ_REMOVE(&c->lru, e, lru);
		TAILQ_INSERT_HEAD(&c->lru, e, lru);
		if (!fill)
			memset(e->data, 0, c->slice);
		return e;
	}
	if (c->n < c->max) {
		if ((e = calloc(1, sizeof *e)) == NULL ||
		    (e->data = malloc(c->slice)) == NULL) {
			free(e);
			qcow2_fail(q, ENOMEM, "%s cache: %s", c->what,
			    strerror(ENOMEM));
			return NULL;
		}
		c->n++;
	} else {
		e = TAILQ_LAST(&c->lru, qcow2_slice_lru);
		if (e->dirty && qcow2_cache_write(q, c, e) == -1)
			return NULL;
		TAILQ_REMOVE(&c->lru, e, lru);
		LIST_REMOVE(e, link);
	}
	e->off = off;
	e->dirty = 0;
	TAILQ_INSERT_HEAD(&c->lru, e, lru);
	LIST_INSERT_HEAD(&c->buckets[qcow2_cache_bucket(c, off)], e, link);
	/* A table made since the file last grew reads as zeros. */
	if (!fill || off >= q->file_size)
		memset(e->data, 0, c->slice);
	else if (qcow2_pread(q, e->data, c->slice, off, c->what) == -1) {
		/* Keep no slice that does not hold what the file does. */
		TAILQ_REMOVE(&c->lru, e, lru);
		LIST_REMOVE(e, link);
		free(e->data);
		free(e);
		c->n--;
		return NULL;
	}
	return e;
}

void
qcow2_cache_dirty(struct qcow2_cache *c, struct qcow2_slice *e)
{
	if (!e->dirty) {
		e->dirty = 1;
		c->ndirty++;
	}
}

/* Write every dirty slice. Returns 0, or -1 with q->error set. */
int
qcow2_cache_flush(struct qcow2 *q, struct qcow2_cache *c)
{
	struct qcow2_slice	*e;

	if (c->ndirty == 0)
		return 0;
	if (c == &q->l2c && qcow2_barrier(q) == -1)
		return -1;
	TAILQ_FOREACH(e, &c->lru, lru) {
		if (e->dirty && qcow2_cache_write(q, c, e) == -1)
			return -1;
	}
	return 0;
}

/* Forget the slices of [off, off + len): the clusters were freed. */
void
qcow2_cache_drop(struct qcow2_cache *c, uint64_t off, uint64_t len)
{
	struct qcow2_slice	*e;
	uint64_t		 o;

	for (o = off; o < off + len; o += c->slice) {
		if ((e = qcow2_cache_find(c, o)) == NULL)
			continue;
		if (e->dirty)
			c->ndirty--;
		TAILQ_REMOVE(&c->lru, e, lru);
		LIST_REMOVE(e, link);
		free(e->data);
		free(e);
		c->n--;
	}
}
