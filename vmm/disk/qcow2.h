/*
 * qcow2 internals shared by the qcow2_*.c files: the on-disk layout (QEMU's
 * docs/interop/qcow2.txt), the state of an open image and its metadata
 * caches. Everything on disk is big-endian; everything here is host order
 * except the cached table slices, which are kept as they are on disk.
 *
 * Write ordering (crash safety): a cluster's refcount is raised before
 * anything points at it; data is written before the L2 entry that maps
 * it; an L2 table or refcount block is written before the L1 or refcount
 * table entry that points at it. Metadata is written back: dirty L2
 * slices go to disk only after the refcount slices, new refcount table
 * entries and data have, and a sync (qcow2_barrier); new L1 entries only
 * at a flush, after the L2 tables and another sync. So a process killed
 * at any moment, or a power cut, leaves at most leaked clusters. Clusters
 * no longer used are released (refcount lowered) only at a flush, once
 * the L2 entries that dropped them are durable.
 */
#ifndef QCOW2_H
#define QCOW2_H

#include <sys/queue.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "disk.h"
#include "disk_ops.h"
#include "iov.h"

#define QCOW2_MAGIC		0x514649fbU	/* "QFI\xfb" */
#define QCOW2_V2_HDR_SIZE	72
#define QCOW2_V3_HDR_SIZE	104
#define QCOW2_MIN_CLUSTER_BITS	9		/* 512 B */
#define QCOW2_MAX_CLUSTER_BITS	21		/* 2 MiB, as qemu */
#define QCOW2_BACKING_MAX	1023
#define QCOW2_MAX_L1_BYTES	(32U << 20)	/* qemu's limits */
#define QCOW2_MAX_RT_BYTES	(8U << 20)
#define QCOW2_MAX_SNAPSHOTS	65536
#define QCOW2_MAX_OFFSET	(1ULL << 56)	/* host offsets fit 56 bits */
#define QCOW2_DEFAULT_CLUSTER_BITS 16

/* Incompatible, compatible and autoclear feature bits. */
#define QCOW2_INCOMPAT_DIRTY	(1ULL << 0)
#define QCOW2_INCOMPAT_CORRUPT	(1ULL << 1)
#define QCOW2_INCOMPAT_DATAFILE	(1ULL << 2)
#define QCOW2_INCOMPAT_COMPRESS	(1ULL << 3)
#define QCOW2_INCOMPAT_EXTL2	(1ULL << 4)

/* Header extension types read (bitmaps, crypto, data file: refused). */
#define QCOW2_EXT_END		0x00000000U
#define QCOW2_EXT_BACKING_FMT	0xe2792acaU
#define QCOW2_EXT_FEATURES	0x6803f857U

/* Header field offsets we rewrite. */
#define QCOW2_OFF_RT		48	/* refcount_table_offset + clusters */
#define QCOW2_OFF_AUTOCLEAR	88

/* L1, L2 and refcount table entries. */
#define QCOW2_COPIED		(1ULL << 63)
#define QCOW2_COMPRESSED	(1ULL << 62)
#define QCOW2_ZERO		(1ULL << 0)
#define QCOW2_OFFSET_MASK	0x00fffffffffffe00ULL
#define QCOW2_L1_RESERVED	0x7f000000000001ffULL
#define QCOW2_L2_RESERVED	0x3f000000000001feULL
#define QCOW2_RT_RESERVED	0x00000000000001ffULL

/* Cached table slices: at most this many bytes each. */
#define QCOW2_SLICE_MAX		4096
#define QCOW2_L2_CACHE_BYTES	(8U << 20)
#define QCOW2_RC_CACHE_BYTES	(1U << 20)
#define QCOW2_PENDING_MAX	4096	/* released ranges before a flush */

/* The header as read and checked. */
struct qcow2_header {
	uint32_t	version;
	uint64_t	backing_offset;
	uint32_t	backing_size;
	uint32_t	cluster_bits;
	uint64_t	size;
	uint32_t	crypt_method;
	uint32_t	l1_size;
	uint64_t	l1_offset;
	uint64_t	rt_offset;
	uint32_t	rt_clusters;
	uint32_t	nb_snapshots;
	uint64_t	snapshots_offset;
	uint64_t	incompat;
	uint64_t	compat;
	uint64_t	autoclear;
	uint32_t	refcount_order;
	uint32_t	header_length;
	uint64_t	file_size;
	char		backing[QCOW2_BACKING_MAX + 1];
	char		backing_fmt[32];
};

struct qcow2_slice {
	uint64_t			 off;	/* in the file: the key */
	uint8_t				*data;
	int				 dirty;
	TAILQ_ENTRY(qcow2_slice)	 lru;
	LIST_ENTRY(qcow2_slice)		 link;
};

/* A write-back cache of table slices, keyed by their file offset. */
struct qcow2_cache {
	const char			*what;	/* "L2 table", ... */
	size_t				 slice;	/* bytes per entry */
	unsigned			 max;
	unsigned			 n;
	unsigned			 ndirty;
	unsigned			 nbuckets;
	LIST_HEAD(, qcow2_slice)	*buckets;
	TAILQ_HEAD(qcow2_slice_lru, qcow2_slice) lru;	/* most recent first */
};

/* A run of host clusters whose refcounts drop at the next flush. */
struct qcow2_range {
	uint64_t	cluster;
	uint64_t	count;
};

/* What an L2 entry says a guest cluster is. */
enum qcow2_kind {
	QCOW2_UNALLOCATED,	/* read the base, or zeros */
	QCOW2_ZEROED,		/* reads as zeros (v3 zero flag) */
	QCOW2_DATA,		/* a host cluster */
	QCOW2_ZDATA		/* compressed bytes */
};

struct qcow2_map {
	enum qcow2_kind	kind;
	uint64_t	host;		/* DATA, ZDATA, ZEROED preallocated */
	uint64_t	zlen;		/* ZDATA: bytes of compressed data */
	int		copied;		/* DATA: refcount is exactly one */
};

struct qcow2 {
	struct disk		 disk;		/* first: d->priv == q */
	pthread_mutex_t		 lock;
	char			 name[VM_PATH_SIZE];
	char			 error[PROTO_TEXT_SIZE];
	struct qcow2_header	 h;
	struct disk		*base;		/* NULL: reads zeros */
	int			 unsafe;	/* skip syncs (DISK_UNSAFE) */
	int			 broken;	/* metadata failed: no writes */
	int			 unsynced;	/* what L2 points at: unsynced */
	int			 written;	/* anything since the last sync */

	uint64_t		 cluster_size;
	uint64_t		 l2_entries;	/* per table */
	uint64_t		 rb_entries;	/* refcounts per block */
	uint32_t		 rc_bits;

	uint64_t		*l1;		/* host order */
	uint64_t		*rt;		/* host order */
	uint64_t		 rt_entries;
	uint64_t		 l1_lo, l1_hi;	/* entries not yet written */
	uint64_t		 rt_lo, rt_hi;

	struct qcow2_cache	 l2c;
	struct qcow2_cache	 rbc;

	uint64_t		 file_size;	/* bytes the file has */
	uint64_t		 alloc_end;	/* end of allocated clusters */
	uint64_t		 fresh;		/* clusters from here: unwritten */
	uint64_t		 free_hint;	/* no free cluster below */

	struct qcow2_range	*pending;
	size_t			 npending;
	size_t			 pending_cap;

	/* Compressed clusters: the stream and the last cluster inflated. */
	void			*zstream;
	uint8_t			*zbuf;
	uint8_t			*zout;
	uint64_t		 zkey;		/* its L2 entry, or 0 */

	uint8_t			*zero;		/* a cluster of zeros */
	uint8_t			*bounce;	/* head and tail for copy-up */
	struct qcow2_map	*oldmap;	/* a slice's old mappings */
	struct iovec		 iov[IOV_MAX + 2];
};

/* qcow2_header.c */
int	qcow2_header_read(int, struct qcow2_header *, char *, size_t);

/* qcow2_cache.c */
int	qcow2_cache_init(struct qcow2_cache *, const char *, size_t,
	    unsigned);
void	qcow2_cache_free(struct qcow2_cache *);
struct qcow2_slice *qcow2_cache_get(struct qcow2 *, struct qcow2_cache *,
	    uint64_t, int);
void	qcow2_cache_dirty(struct qcow2_cache *, struct qcow2_slice *);
int	qcow2_cache_flush(struct qcow2 *, struct qcow2_cache *);
void	qcow2_cache_drop(struct qcow2_cache *, uint64_t, uint64_t);

/* qcow2_l2.c */
int	qcow2_l1_load(struct qcow2 *, char *, size_t);
int	qcow2_l2_lookup(struct qcow2 *, uint64_t, struct qcow2_map *);
int	qcow2_l2_slice(struct qcow2 *, uint64_t, int, struct qcow2_slice **,
	    unsigned *);
int	qcow2_l2_decode(struct qcow2 *, uint64_t, uint64_t,
	    struct qcow2_map *);
uint64_t qcow2_l2_get(struct qcow2_slice *, unsigned);
void	qcow2_l2_put(struct qcow2 *, struct qcow2_slice *, unsigned,
	    uint64_t);

/* qcow2_refcount.c */
int	qcow2_rt_load(struct qcow2 *, char *, size_t);
int	qcow2_refcount_get(struct qcow2 *, uint64_t, uint64_t *);
int	qcow2_alloc(struct qcow2 *, uint64_t, uint64_t *, uint64_t *,
	    int *);
int	qcow2_release(struct qcow2 *, uint64_t, uint64_t);
int	qcow2_release_map(struct qcow2 *, const struct qcow2_map *);
int	qcow2_release_pending(struct qcow2 *);

/* qcow2.c */
struct disk *qcow2_open(int, struct disk *, int, const char *, char *,
	    size_t);
int	qcow2_info(struct disk *, struct disk_info *);
int	qcow2_fail(struct qcow2 *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
int	qcow2_pread(struct qcow2 *, void *, size_t, uint64_t, const char *);
int	qcow2_pwrite(struct qcow2 *, const void *, size_t, uint64_t,
	    const char *);
int	qcow2_sync(struct qcow2 *);
int	qcow2_barrier(struct qcow2 *);
void	qcow2_table_dirty(uint64_t *, uint64_t *, uint64_t);
int	qcow2_flush_locked(struct qcow2 *);
int	qcow2_is_fixed(struct qcow2 *, uint64_t);

/* qcow2_read.c */
int	qcow2_read_locked(struct qcow2 *, const struct iovec *, int,
	    uint64_t, size_t);
int	qcow2_read_cluster(struct qcow2 *, const struct qcow2_map *,
	    uint64_t, uint8_t *, size_t, size_t);
ssize_t	qcow2_readv(struct disk *, const struct iovec *, int, uint64_t);
int	qcow2_block_status(struct disk *, uint64_t, uint64_t, uint64_t *);

/* qcow2_write.c */
ssize_t	qcow2_writev(struct disk *, const struct iovec *, int, uint64_t);
int	qcow2_discard(struct disk *, uint64_t, uint64_t);
int	qcow2_write_zeroes(struct disk *, uint64_t, uint64_t, int);

/* qcow2_create.c */
int	qcow2_create(int, uint64_t, unsigned, unsigned, unsigned,
	    const char *, const char *, char *, size_t);

#endif
