/*
 * Copying what an image reads as (its whole base chain) into a new image.
 * Ranges that read as zeros are not written (the new image reads zeros
 * there already), so the copy is as sparse as it can be. An existing
 * destination is refused unless it is a block device (raw only), whose
 * zero ranges are then written as zeros. A raw file is written directly,
 * a qcow2 image through the disk layer; like cp(1) and qemu-img, the copy
 * is written but not synced. The calling thread reads chunks into a ring
 * of buffers while a second one writes them, so that reading and writing
 * overlap.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "disk.h"
#include "disk_ops.h"
#include "xmalloc.h"

#define DISK_COPY_CHUNK	(2U << 20)
#define DISK_COPY_RING	4		/* chunks in flight */
#define DISK_COPY_ERROR_SIZE	(VM_PATH_SIZE + 256)

/* A chunk read and waiting to be written. */
struct disk_copy_chunk {
	uint64_t	 off;
	uint64_t	 len;
	int		 zero;		/* reads as zeros: nothing read */
	uint8_t		*buf;
};

struct disk_copy {
	struct disk_copy_opts	*opts;
	const char		*src_path;
	const char		*dst_path;
	struct disk		*src;
	struct disk		*dst;	/* NULL: a raw file, on dstfd */
	int			 dstfd;
	int			 device;	/* DST is a block device */
	uint64_t		 grain;		/* zero detection unit */

	/* The ring between the reader (the caller) and the writer. */
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	struct disk_copy_chunk	 ring[DISK_COPY_RING];
	unsigned		 head;		/* next for the writer */
	unsigned		 count;		/* filled, not yet written */
	int			 done;		/* the reader has finished */
	int			 failed;	/* either side: stop */
	char			*err;
	size_t			 errlen;
};

static int
disk_copy_is_zero(const uint8_t *p, size_t len)
{
	static const uint8_t	zero[4096];
	size_t			n;

	while (len > 0) {
		n = len < sizeof zero ? len : sizeof zero;
		if (memcmp(p, zero, n) != 0)
			return 0;
		p += n;
		len -= n;
	}
	return 1;
}

/* Write len bytes of buf at off. Returns 0 or -1 with errno set. */
static int
disk_copy_write(struct disk_copy *dc, const uint8_t *buf, uint64_t len,
    uint64_t off)
{
	struct iovec	iov;
	ssize_t		n;

	if (dc->dst != NULL) {
		iov.iov_base = (void *)buf;
		iov.iov_len = len;
		return dc->dst->ops->writev(dc->dst, &iov, 1, off) == -1 ?
		    -1 : 0;
	}
	while (len > 0) {
		n = pwrite(dc->dstfd, buf, len, off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		buf += n;
		off += n;
		len -= n;
	}
	return 0;
}

/* Write the grains of buf ([off, off + len)) that are not all zeros. */
static int
disk_copy_data(struct disk_copy *dc, const uint8_t *buf, uint64_t off,
    uint64_t len)
{
	uint64_t	pos = 0, start, end, g;

	while (pos < len) {
		/* Grains are aligned to the destination's, not to off. */
		g = dc->grain - (off + pos) % dc->grain;
		if (g > len - pos)
			g = len - pos;
		if (!dc->device && disk_copy_is_zero(buf + pos, g)) {
			pos += g;
			continue;
		}
		start = pos;
		for (end = pos + g; end < len; end += g) {
			g = dc->grain < len - end ? dc->grain : len - end;
			if (!dc->device && disk_copy_is_zero(buf + end, g))
				break;
		}
		if (disk_copy_write(dc, buf + start, end - start,
		    off + start) == -1)
			return -1;
		pos = end;
	}
	return 0;
}

/*
 * Stop both sides with an error (the first one wins): the disk's own
 * error (it names the file), or path and errno's.
 */
static void
disk_copy_fail(struct disk_copy *dc, struct disk *d, const char *path)
{
	const char	*why = d != NULL ? disk_error(d) : NULL;
	int		 e = errno;

	pthread_mutex_lock(&dc->lock);
	if (!dc->failed) {
		if (why != NULL)
			snprintf(dc->err, dc->errlen, "%s", why);
		else
			snprintf(dc->err, dc->errlen, "%s: %s", path,
			    strerror(e));
		dc->opts->dst_failed = path == dc->dst_path;
	}
	dc->failed = 1;
	pthread_cond_broadcast(&dc->cond);
	pthread_mutex_unlock(&dc->lock);
}

/* The writer: chunks from the ring to DST, in order. */
static void *
disk_copy_writer(void *arg)
{
	struct disk_copy	*dc = arg;
	struct disk_copy_chunk	*c;
	struct disk		*dst = dc->dst;
	int			 rv;

	for (;;) {
		pthread_mutex_lock(&dc->lock);
		while (dc->count == 0 && !dc->done && !dc->failed)
			pthread_cond_wait(&dc->cond, &dc->lock);
		if (dc->failed || dc->count == 0) {
			pthread_mutex_unlock(&dc->lock);
			return NULL;
		}
		c = &dc->ring[dc->head];
		pthread_mutex_unlock(&dc->lock);

		if (!c->zero)
			rv = disk_copy_data(dc, c->buf, c->off, c->len);
		else if (dc->device)
			rv = dst->ops->write_zeroes(dst, c->off, c->len, 0);
		else
			rv = 0;
		if (rv == -1) {
			disk_copy_fail(dc, dst, dc->dst_path);
			return NULL;
		}
		if (dc->opts->progress != NULL)
			dc->opts->progress(c->off + c->len, dc->src->size,
			    dc->opts->arg);

		pthread_mutex_lock(&dc->lock);
		dc->head = (dc->head + 1) % DISK_COPY_RING;
		dc->count--;
		pthread_cond_broadcast(&dc->cond);
		pthread_mutex_unlock(&dc->lock);
	}
}

/* Read the next chunk at off into c. Returns 0 or -1 (dc failed). */
static int
disk_copy_read(struct disk_copy *dc, struct disk_copy_chunk *c,
    uint64_t off)
{
	struct disk	*src = dc->src;
	struct iovec	 iov;
	uint64_t	 want, n;
	int		 st;

	want = src->size - off < DISK_COPY_CHUNK ? src->size - off :
	    DISK_COPY_CHUNK;
	if ((st = disk_block_status(src, off, want, &n)) != -1) {
		c->off = off;
		c->len = n < want ? n : want;
		c->zero = (st & DISK_BS_ZERO) != 0;
		iov.iov_base = c->buf;
		iov.iov_len = c->len;
		if (c->zero || src->ops->readv(src, &iov, 1, off) != -1)
			return 0;
	}
	disk_copy_fail(dc, src, dc->src_path);
	return -1;
}

/* Copy every byte; returns 0, or -1 with the error set. */
static int
disk_copy_run(struct disk_copy *dc)
{
	struct disk_copy_chunk	*c;
	pthread_t		 writer;
	uint64_t		 off;
	unsigned		 tail = 0, i;
	int			 e;

	for (i = 0; i < DISK_COPY_RING; i++)
		dc->ring[i].buf = xmalloc(DISK_COPY_CHUNK);
	pthread_mutex_init(&dc->lock, NULL);
	pthread_cond_init(&dc->cond, NULL);
	if ((e = pthread_create(&writer, NULL, disk_copy_writer, dc)) != 0) {
		errno = e;
		disk_copy_fail(dc, NULL, dc->src_path);
		goto out;
	}
	for (off = 0; off < dc->src->size; off += c->len) {
		pthread_mutex_lock(&dc->lock);
		while (dc->count == DISK_COPY_RING && !dc->failed)
			pthread_cond_wait(&dc->cond, &dc->lock);
		pthread_mutex_unlock(&dc->lock);
		if (dc->failed)
			break;
		c = &dc->ring[tail];
		if (disk_copy_read(dc, c, off) == -1)
			break;
		tail = (tail + 1) % DISK_COPY_RING;
		pthread_mutex_lock(&dc->lock);
		dc->count++;
		pthread_cond_broadcast(&dc->cond);
		pthread_mutex_unlock(&dc->lock);
	}
	pthread_mutex_lock(&dc->lock);
	dc->done = 1;
	pthread_cond_broadcast(&dc->cond);
	pthread_mutex_unlock(&dc->lock);
	pthread_join(writer, NULL);

	/* Like cp(1) and qemu-img: written, not synced. */
	if (!dc->failed && dc->dst != NULL && dc->dst->ops->flush(dc->dst) ==
	    -1)
		disk_copy_fail(dc, dc->dst, dc->dst_path);
out:
	for (i = 0; i < DISK_COPY_RING; i++)
		free(dc->ring[i].buf);
	pthread_cond_destroy(&dc->cond);
	pthread_mutex_destroy(&dc->lock);
	return dc->failed ? -1 : 0;
}

/* Fail on DST's side before the copy starts: a sentence naming it. */
static int
disk_copy_dst_error(struct disk_copy *dc, const char *why)
{
	snprintf(dc->err, dc->errlen, "%s: %s", dc->dst_path, why);
	dc->opts->dst_failed = 1;
	return -1;
}

/* Create and open DST; returns 0, or -1 with the error set. */
static int
disk_copy_open_dst(struct disk_copy *dc, int *created)
{
	enum disk_format	 fmt = dc->opts->format;
	const char		*path = dc->dst_path;
	const char		*names[1] = { path };
	struct disk_info	 info;
	struct stat		 st;
	char			 err[DISK_COPY_ERROR_SIZE];
	int			 fd;

	*created = 0;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd == -1 && errno == EEXIST && stat(path, &st) == 0 &&
	    S_ISBLK(st.st_mode)) {
		if (fmt != DISK_FORMAT_RAW)
			return disk_copy_dst_error(dc, "a device takes only "
			    "raw");
		fd = open(path, O_RDWR | O_CLOEXEC);
		dc->device = 1;
	} else if (fd != -1)
		*created = 1;
	if (fd == -1)
		return disk_copy_dst_error(dc, errno == EEXIST ?
		    "it already exists" : strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		close(fd);
		return disk_copy_dst_error(dc, "in use (locked by a VM or "
		    "another program)");
	}
	if (disk_create(fd, fmt, dc->src->size, NULL, DISK_FORMAT_AUTO, err,
	    sizeof err) == -1) {
		close(fd);
		return disk_copy_dst_error(dc, err);
	}
	/* A raw file takes plain writes (raw.c would sync it at close). */
	dc->grain = 4096;
	if (fmt == DISK_FORMAT_RAW && !dc->device) {
		dc->dstfd = fd;
		return 0;
	}
	/* A crash leaves a half-copied image anyway: no syncs until done. */
	dc->dst = disk_open_names(fd, fmt, NULL, 0, names, DISK_UNSAFE, err,
	    sizeof err);
	if (dc->dst == NULL) {
		close(fd);
		return disk_copy_dst_error(dc, err);
	}
	if (disk_info(dc->dst, &info) == 0 && info.cluster_size > dc->grain)
		dc->grain = info.cluster_size;
	return 0;
}

int
disk_copy(const char *src, const char *dst, struct disk_copy_opts *opts,
    char *err, size_t errlen)
{
	struct disk_copy	dc;
	int			created = 0, rv = -1;

	memset(&dc, 0, sizeof dc);
	dc.opts = opts;
	dc.src_path = src;
	dc.dst_path = dst;
	dc.dstfd = -1;
	dc.err = err;
	dc.errlen = errlen;
	opts->dst_failed = 0;
	dc.src = disk_open_path(src, DISK_FORMAT_AUTO, DISK_RDONLY, err,
	    errlen);
	if (dc.src == NULL)
		return -1;
	if (disk_copy_open_dst(&dc, &created) == 0)
		rv = disk_copy_run(&dc);
	if (dc.dst != NULL)
		dc.dst->ops->close(dc.dst);
	if (dc.dstfd != -1 && close(dc.dstfd) == -1 && rv == 0) {
		disk_copy_dst_error(&dc, strerror(errno));
		rv = -1;
	}
	if (rv == -1 && created)
		unlink(dst);
	dc.src->ops->close(dc.src);
	return rv;
}
