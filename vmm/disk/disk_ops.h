/*
 * An open disk image as a virtio-blk device uses it: the guest-visible
 * size and an ops table per image format (raw now; qcow2 plugs in with
 * its own table). Offsets and lengths are bytes.
 */
#ifndef DISK_OPS_H
#define DISK_OPS_H

#include <sys/types.h>
#include <sys/uio.h>

#include <stddef.h>
#include <stdint.h>

#define DISK_ID_BYTES	20	/* virtio-blk's GET_ID string */

struct disk;

/* Each returns what it says, or -1 with errno set. */
struct disk_ops {
	const char	*name;
	/* Move all of iov or fail; returns the bytes moved. */
	ssize_t	(*readv)(struct disk *, const struct iovec *, int,
		    uint64_t);
	ssize_t	(*writev)(struct disk *, const struct iovec *, int,
		    uint64_t);
	/* Make written data durable (fsync). */
	int	(*flush)(struct disk *);
	/* The range may be deallocated; reads of it return anything. */
	int	(*discard)(struct disk *, uint64_t off, uint64_t len);
	/* The range reads back as zeros; may_unmap allows deallocating. */
	int	(*write_zeroes)(struct disk *, uint64_t off, uint64_t len,
		    int may_unmap);
	/* A serial: up to DISK_ID_BYTES bytes, NUL-padded. */
	int	(*get_id)(struct disk *, char id[DISK_ID_BYTES]);
	/* Flush and free; the fd is closed. */
	void	(*close)(struct disk *);
	/*
	 * Added for qcow2 (optional, NULL: see disk.h). How the first *pnum
	 * bytes of [off, off + len) read: DISK_BS_DATA or DISK_BS_ZERO.
	 */
	int	(*block_status)(struct disk *, uint64_t off, uint64_t len,
		    uint64_t *pnum);
	/* The last error as a sentence naming the image, or NULL. */
	const char *(*error)(struct disk *);
};

struct disk {
	const struct disk_ops	*ops;
	int			 fd;
	int			 readonly;
	uint64_t		 size;		/* bytes the guest sees */
	void			*priv;		/* the format's */
};

/* A raw image on fd (a file or block device). NULL with errno set. */
struct disk	*raw_open(int fd);

/* disk_io.c */
int		 disk_range(struct disk *, uint64_t off, uint64_t len);
int		 disk_io_range(struct disk *, const struct iovec *, int,
		    uint64_t off, size_t *total);

#endif
