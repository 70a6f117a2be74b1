/* The disk layer: image formats behind one set of calls. */
#ifndef DISK_H
#define DISK_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct disk;

/* The format of an open image, from its first bytes (raw unless known). */
enum disk_format disk_probe(int fd);
const char	*disk_format_name(enum disk_format);
/* "raw" or "qcow2" into *fmt; returns 0, or -1 if it names neither. */
int		 disk_format_parse(const char *, enum disk_format *);
/* The format a new image's name asks for: qcow2 for .qcow2, else raw. */
enum disk_format disk_format_of_name(const char *);
/* A base's format from what its image records (AUTO: raw, never probed). */
enum disk_format disk_base_format(enum disk_format);

/*
 * The base (backing) image an image reads through to: its path as stored
 * in the image, or "" when it has none (raw images never do). Returns 0,
 * or -1 with what is wrong with the image in err.
 */
int		 disk_base_path(int fd, enum disk_format, char *base,
		    size_t baselen, char *err, size_t errlen);
/*
 * The same, with the base's format as the image records it in *basefmt
 * (DISK_FORMAT_AUTO when it does not: the base is raw, disk_base_format).
 */
int		 disk_base(int fd, enum disk_format, char *base,
		    size_t baselen, enum disk_format *basefmt, char *err,
		    size_t errlen);
/* Where a base path stored in image lies: relative to image's folder. */
int		 disk_base_resolve(const char *image, const char *base,
		    char *path, size_t pathlen);

/*
 * Write a new, empty image of size bytes on fd (truncated first): raw,
 * or qcow2 (v3, 64 KiB clusters) reading through to base (as stored,
 * "" for none) of format basefmt. Returns 0, or -1 with err set.
 */
int		 disk_create(int fd, enum disk_format, uint64_t size,
		    const char *base, enum disk_format basefmt, char *err,
		    size_t errlen);

/* disk_open_path() and disk_chain_open() flags. */
#define DISK_RDONLY	0x1	/* the top image read-only too */
#define DISK_NOBASE	0x2	/* the top image alone: no reads through */
#define DISK_UNSAFE	0x4	/* no syncs: a new image a crash may lose */
#define DISK_NOLOCK	0x8	/* take no flock (info on an image in use) */

/*
 * Open the image on fd in its format (AUTO: probed) over its base chain:
 * bases[0] is its base, bases[1] that base's base, and so on, each
 * read-only, as the engine hands them over. The top image is read-only
 * if readonly is set. Returns the disk, which owns every fd from then on,
 * or NULL with a sentence in err (and the fds still the caller's).
 */
struct disk	*disk_open(int fd, enum disk_format, int *bases, int nbases,
		    int readonly, char *err, size_t errlen);
/* The same with names for the messages and DISK_* flags. */
struct disk	*disk_open_names(int fd, enum disk_format, int *bases,
		    int nbases, const char *const *names, int flags,
		    char *err, size_t errlen);

/* An image's chain opened by path: the top image, then its bases. */
struct disk_chain {
	int			 n;
	int			 fds[VM_MAX_BASE_IMAGES + 1];
	enum disk_format	 formats[VM_MAX_BASE_IMAGES + 1];
	char			 paths[VM_MAX_BASE_IMAGES + 1][VM_PATH_SIZE];
};

/*
 * Open path (its format fmt, AUTO: probed) and its bases by path, as the
 * engine does: a base path is relative to its image's folder, each base
 * read-only; a chain that loops or is deeper than VM_MAX_BASE_IMAGES is
 * refused. The top is locked exclusively if opened for writing, shared
 * otherwise, each base shared (unless DISK_NOLOCK). DISK_NOBASE stops
 * after the top. Returns 0, or -1 with a sentence naming the file in err.
 */
int		 disk_chain_open(struct disk_chain *, const char *path,
		    enum disk_format, int flags, char *err, size_t errlen);
void		 disk_chain_close(struct disk_chain *);
/* disk_chain_open() then disk_open(): the disk owns the fds. */
struct disk	*disk_open_path(const char *path, enum disk_format,
		    int flags, char *err, size_t errlen);

/* disk_block_status() results. */
#define DISK_BS_DATA	0x1	/* reads what is stored */
#define DISK_BS_ZERO	0x2	/* reads as zeros */

/*
 * How the first *pnum bytes (at least one) of [off, off + len) read: a
 * DISK_BS_* value. Returns it, or -1 with errno set.
 */
int		 disk_block_status(struct disk *, uint64_t off, uint64_t len,
		    uint64_t *pnum);
/* The last error of an image as a sentence that names it, or NULL. */
const char	*disk_error(struct disk *);
/* The size the image shows its guest, in bytes. */
uint64_t	 disk_size(const struct disk *);
/* Flush and free an open image; its fd is closed. */
void		 disk_close(struct disk *);

/* What `info` shows about one image. */
struct disk_info {
	enum disk_format	 format;
	uint64_t		 size;		/* what the guest sees */
	uint64_t		 file_size;	/* the file's length */
	uint64_t		 disk_size;	/* bytes it takes on disk */
	uint64_t		 allocated;	/* guest bytes it holds itself */
	uint64_t		 cluster_size;	/* 0 for raw */
	uint32_t		 version;	/* qcow2: 2 or 3 */
	uint32_t		 refcount_bits;
	uint64_t		 data_clusters;
	uint64_t		 zdata_clusters;	/* compressed */
	uint64_t		 zero_clusters;
	uint32_t		 snapshots;
	int			 dirty;		/* qcow2 dirty/corrupt bits */
	int			 corrupt;
	char			 base[VM_PATH_SIZE];	/* as stored */
	enum disk_format	 base_format;	/* AUTO: not recorded */
};

/* Fill info for d alone (not its bases). Returns 0 or -1 with errno. */
int		 disk_info(struct disk *, struct disk_info *);

/* How disk_copy() writes, and which side an error was on. */
struct disk_copy_opts {
	enum disk_format	 format;	/* of the new image */
	/* Called after each chunk is written, from the writing thread. */
	void			(*progress)(uint64_t done, uint64_t size,
				    void *arg);
	void			*arg;
	int			 dst_failed;	/* out: the error is dst's */
};

/*
 * Copy what the image at src reads as (its whole base chain) into a new
 * image at dst of opts->format, as sparse as it can be; an existing dst
 * is refused unless it is a block device, which takes raw only. The copy
 * is written, not synced. Returns 0, or -1 with a sentence naming the
 * file at fault in err (opts->dst_failed set if it is dst), a dst it
 * created removed.
 */
int		 disk_copy(const char *src, const char *dst,
		    struct disk_copy_opts *, char *err, size_t errlen);

#endif
