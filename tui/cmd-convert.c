/*
 * convert [-O raw|qcow2] SRC DST: copy what a disk image reads as (its
 * whole base chain) into a new image, without the engine. The format
 * comes from -O, else from DST's name. Ranges that read as zeros are not
 * written (the new image reads zeros there already), so the copy is as
 * sparse as it can be. An existing DST is refused unless it is a block
 * device (raw only), whose zero ranges are then written as zeros. A raw
 * file is written directly, a qcow2 image through the disk layer; like
 * cp(1) and qemu-img, the copy is written but not synced. This thread
 * reads chunks into a ring of buffers while a second one writes them, so
 * that reading and writing overlap. On a terminal, a progress bar goes to
 * stderr.
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

#include "cmd.h"
#include "disk.h"
#include "disk_ops.h"
#include "size.h"
#include "xmalloc.h"

#define CONVERT_CHUNK	(2U << 20)
#define CONVERT_RING	4		/* chunks in flight */
#define CONVERT_BAR	30

static enum cmd_retval	cmd_convert_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_convert_entry = {
	.name = "convert",
	.alias = NULL,
	.args = "O:",
	.min_args = 2,
	.max_args = 2,
	.usage = "[-O raw|qcow2] SRC DST",
	.exec = cmd_convert_exec,
	.needs_engine = 0
};

/* A chunk read and waiting to be written. */
struct cmd_convert_chunk {
	uint64_t	 off;
	uint64_t	 len;
	int		 zero;		/* reads as zeros: nothing read */
	uint8_t		*buf;
};

struct cmd_convert {
	struct cmd_ctx	*ctx;
	const char	*src_path;
	const char	*dst_path;
	struct disk	*src;
	struct disk	*dst;		/* NULL: a raw file, on dstfd */
	int		 dstfd;
	int		 device;	/* DST is a block device */
	uint64_t	 grain;		/* zero detection unit */
	int		 bar;		/* draw a progress bar */
	int		 shown;		/* the last percentage drawn */

	/* The ring between the reader (this thread) and the writer. */
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	struct cmd_convert_chunk ring[CONVERT_RING];
	unsigned	 head;		/* next for the writer */
	unsigned	 count;		/* filled, not yet written */
	int		 done;		/* the reader has finished */
	int		 failed;	/* either side: stop */
	char		 error[CMD_ERROR_SIZE];
};

static void
cmd_convert_progress(struct cmd_convert *cv, uint64_t done)
{
	char		 bar[CONVERT_BAR + 1], a[32], b[32];
	uint64_t	 size = cv->src->size;
	int		 pct, fill;

	if (!cv->bar)
		return;
	pct = size == 0 ? 100 : (int)(done * 100 / size);
	if (pct == cv->shown)
		return;
	cv->shown = pct;
	fill = pct * CONVERT_BAR / 100;
	memset(bar, '#', fill);
	memset(bar + fill, ' ', CONVERT_BAR - fill);
	bar[CONVERT_BAR] = '\0';
	size_format(done, a, sizeof a);
	size_format(size, b, sizeof b);
	fprintf(stderr, "\r[%s] %3d%% %s/%s", bar, pct, a, b);
	fflush(stderr);
}

static int
cmd_convert_zero(const uint8_t *p, size_t len)
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
cmd_convert_write(struct cmd_convert *cv, const uint8_t *buf, uint64_t len,
    uint64_t off)
{
	struct iovec	iov;
	ssize_t		n;

	if (cv->dst != NULL) {
		iov.iov_base = (void *)buf;
		iov.iov_len = len;
		return cv->dst->ops->writev(cv->dst, &iov, 1, off) == -1 ?
		    -1 : 0;
	}
	while (len > 0) {
		n = pwrite(cv->dstfd, buf, len, off);
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
cmd_convert_data(struct cmd_convert *cv, const uint8_t *buf, uint64_t off,
    uint64_t len)
{
	uint64_t	pos = 0, start, end, g;

	while (pos < len) {
		/* Grains are aligned to the destination's, not to off. */
		g = cv->grain - (off + pos) % cv->grain;
		if (g > len - pos)
			g = len - pos;
		if (!cv->device && cmd_convert_zero(buf + pos, g)) {
			pos += g;
			continue;
		}
		start = pos;
		for (end = pos + g; end < len; end += g) {
			g = cv->grain < len - end ? cv->grain : len - end;
			if (!cv->device && cmd_convert_zero(buf + end, g))
				break;
		}
		if (cmd_convert_write(cv, buf + start, end - start,
		    off + start) == -1)
			return -1;
		pos = end;
	}
	return 0;
}

/*
 * Stop both sides with an error (the first one wins): prefix, then the
 * disk's own error (it names the file), or path and errno's.
 */
static void
cmd_convert_fail(struct cmd_convert *cv, const char *prefix, struct disk *d,
    const char *path)
{
	const char	*why = d != NULL ? disk_error(d) : NULL;
	int		 e = errno;

	pthread_mutex_lock(&cv->lock);
	if (!cv->failed && why != NULL)
		snprintf(cv->error, sizeof cv->error, "%s%s", prefix, why);
	else if (!cv->failed)
		snprintf(cv->error, sizeof cv->error, "%s%s: %s", prefix, path,
		    strerror(e));
	cv->failed = 1;
	pthread_cond_broadcast(&cv->cond);
	pthread_mutex_unlock(&cv->lock);
}

/* The writer: chunks from the ring to DST, in order. */
static void *
cmd_convert_writer(void *arg)
{
	struct cmd_convert		*cv = arg;
	struct cmd_convert_chunk	*c;
	struct disk			*dst = cv->dst;
	int				 rv;

	for (;;) {
		pthread_mutex_lock(&cv->lock);
		while (cv->count == 0 && !cv->done && !cv->failed)
			pthread_cond_wait(&cv->cond, &cv->lock);
		if (cv->failed || cv->count == 0) {
			pthread_mutex_unlock(&cv->lock);
			return NULL;
		}
		c = &cv->ring[cv->head];
		pthread_mutex_unlock(&cv->lock);

		if (!c->zero)
			rv = cmd_convert_data(cv, c->buf, c->off, c->len);
		else if (cv->device)
			rv = dst->ops->write_zeroes(dst, c->off, c->len, 0);
		else
			rv = 0;
		if (rv == -1) {
			cmd_convert_fail(cv, "cannot convert to ", dst,
			    cv->dst_path);
			return NULL;
		}
		cmd_convert_progress(cv, c->off + c->len);

		pthread_mutex_lock(&cv->lock);
		cv->head = (cv->head + 1) % CONVERT_RING;
		cv->count--;
		pthread_cond_broadcast(&cv->cond);
		pthread_mutex_unlock(&cv->lock);
	}
}

/* Read the next chunk at off into c. Returns 0 or -1 (cv failed). */
static int
cmd_convert_read(struct cmd_convert *cv, struct cmd_convert_chunk *c,
    uint64_t off)
{
	struct disk	*src = cv->src;
	struct iovec	 iov;
	uint64_t	 want, n;
	int		 st;

	want = src->size - off < CONVERT_CHUNK ? src->size - off :
	    CONVERT_CHUNK;
	if ((st = disk_block_status(src, off, want, &n)) != -1) {
		c->off = off;
		c->len = n < want ? n : want;
		c->zero = (st & DISK_BS_ZERO) != 0;
		iov.iov_base = c->buf;
		iov.iov_len = c->len;
		if (c->zero || src->ops->readv(src, &iov, 1, off) != -1)
			return 0;
	}
	cmd_convert_fail(cv, "cannot convert ", src, cv->src_path);
	return -1;
}

/* Copy every byte; returns 0, or -1 with the error set. */
static int
cmd_convert_copy(struct cmd_convert *cv)
{
	struct cmd_convert_chunk	*c;
	pthread_t			 writer;
	uint64_t			 off;
	unsigned			 tail = 0, i;
	int				 e;

	for (i = 0; i < CONVERT_RING; i++)
		cv->ring[i].buf = xmalloc(CONVERT_CHUNK);
	pthread_mutex_init(&cv->lock, NULL);
	pthread_cond_init(&cv->cond, NULL);
	if ((e = pthread_create(&writer, NULL, cmd_convert_writer, cv)) != 0) {
		cmd_error(cv->ctx, "cannot convert %s: %s", cv->src_path,
		    strerror(e));
		goto out;
	}
	for (off = 0; off < cv->src->size; off += c->len) {
		pthread_mutex_lock(&cv->lock);
		while (cv->count == CONVERT_RING && !cv->failed)
			pthread_cond_wait(&cv->cond, &cv->lock);
		pthread_mutex_unlock(&cv->lock);
		if (cv->failed)
			break;
		c = &cv->ring[tail];
		if (cmd_convert_read(cv, c, off) == -1)
			break;
		tail = (tail + 1) % CONVERT_RING;
		pthread_mutex_lock(&cv->lock);
		cv->count++;
		pthread_cond_broadcast(&cv->cond);
		pthread_mutex_unlock(&cv->lock);
	}
	pthread_mutex_lock(&cv->lock);
	cv->done = 1;
	pthread_cond_broadcast(&cv->cond);
	pthread_mutex_unlock(&cv->lock);
	pthread_join(writer, NULL);

	/* Like cp(1) and qemu-img: written, not synced. */
	if (!cv->failed && cv->dst != NULL && cv->dst->ops->flush(cv->dst) ==
	    -1)
		cmd_convert_fail(cv, "cannot convert to ", cv->dst, cv->dst_path);
	if (cv->failed)
		cmd_error(cv->ctx, "%s", cv->error);
out:
	for (i = 0; i < CONVERT_RING; i++)
		free(cv->ring[i].buf);
	pthread_cond_destroy(&cv->cond);
	pthread_mutex_destroy(&cv->lock);
	return cv->failed || e != 0 ? -1 : 0;
}

/* Create and open DST; returns 0, or -1 with the error set. */
static int
cmd_convert_open_dst(struct cmd_convert *cv, enum disk_format fmt,
    int *created)
{
	struct cmd_ctx		*ctx = cv->ctx;
	const char		*path = cv->dst_path;
	const char		*names[1] = { path };
	struct disk_info	 info;
	struct stat		 st;
	char			 err[CMD_ERROR_SIZE];
	int			 fd;

	*created = 0;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd == -1 && errno == EEXIST && stat(path, &st) == 0 &&
	    S_ISBLK(st.st_mode)) {
		if (fmt != DISK_FORMAT_RAW) {
			cmd_error(ctx, "cannot convert to %s: a device takes "
			    "only raw", path);
			return -1;
		}
		fd = open(path, O_RDWR | O_CLOEXEC);
		cv->device = 1;
	} else if (fd != -1)
		*created = 1;
	if (fd == -1) {
		cmd_error(ctx, "cannot convert to %s: %s", path,
		    errno == EEXIST ? "it already exists" : strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		cmd_error(ctx, "cannot convert to %s: in use (locked by a VM "
		    "or another program)", path);
		close(fd);
		return -1;
	}
	if (disk_create(fd, fmt, cv->src->size, NULL, DISK_FORMAT_AUTO, err,
	    sizeof err) == -1) {
		cmd_error(ctx, "cannot convert to %s: %s", path, err);
		close(fd);
		return -1;
	}
	/* A raw file takes plain writes (raw.c would sync it at close). */
	cv->grain = 4096;
	if (fmt == DISK_FORMAT_RAW && !cv->device) {
		cv->dstfd = fd;
		return 0;
	}
	/* A crash leaves a half-copied image anyway: no syncs until done. */
	cv->dst = disk_open_names(fd, fmt, NULL, 0, names, DISK_UNSAFE, err,
	    sizeof err);
	if (cv->dst == NULL) {
		cmd_error(ctx, "cannot convert to %s: %s", path, err);
		close(fd);
		return -1;
	}
	if (disk_info(cv->dst, &info) == 0 && info.cluster_size > cv->grain)
		cv->grain = info.cluster_size;
	return 0;
}

static enum cmd_retval
cmd_convert_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct cmd_convert	 cv;
	enum disk_format	 fmt;
	const char		*v;
	char			 err[CMD_ERROR_SIZE];
	int			 created = 0, rv = -1;

	(void)argc;
	memset(&cv, 0, sizeof cv);
	cv.ctx = ctx;
	cv.src_path = argv[0];
	cv.dst_path = argv[1];
	cv.shown = -1;
	cv.dstfd = -1;
	if ((v = cmd_value(ctx, 'O')) != NULL) {
		if (disk_format_parse(v, &fmt) == -1)
			return cmd_error(ctx, "cannot convert %s: unknown "
			    "format %s (raw or qcow2)", argv[0], v);
	} else
		fmt = disk_format_of_name(argv[1]);
	cv.src = disk_open_path(argv[0], DISK_FORMAT_AUTO, DISK_RDONLY, err,
	    sizeof err);
	if (cv.src == NULL)
		return cmd_error(ctx, "cannot convert %s", err);
	if (cmd_convert_open_dst(&cv, fmt, &created) == -1)
		goto out;
	cv.bar = ctx->dash == NULL && isatty(STDERR_FILENO);
	rv = cmd_convert_copy(&cv);
	if (cv.bar)
		fprintf(stderr, rv == 0 ? "\n" : "\r\033[K");
out:
	if (cv.dst != NULL)
		cv.dst->ops->close(cv.dst);
	if (cv.dstfd != -1 && close(cv.dstfd) == -1 && rv == 0) {
		cmd_error(ctx, "cannot convert to %s: %s", cv.dst_path,
		    strerror(errno));
		rv = -1;
	}
	if (rv == -1 && created)
		unlink(cv.dst_path);
	cv.src->ops->close(cv.src);
	return rv == 0 ? CMD_RETURN_NORMAL : CMD_RETURN_ERROR;
}
