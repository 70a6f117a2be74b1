/*
 * Opening images with their base chains: from fds, as the runner gets
 * them from the engine, or from a path, as the client's commands do
 * (walking the chain the way the engine does). Also what any open disk
 * answers whatever its format: block status, its last error, `info`.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "disk.h"
#include "disk_ops.h"
#include "qcow2.h"

/* Open one image on fd over base; NULL with err set. */
static struct disk *
disk_open_one(int fd, enum disk_format fmt, struct disk *base, int flags,
    const char *name, char *err, size_t errlen)
{
	struct disk	*d;

	if (fmt == DISK_FORMAT_QCOW2)
		return qcow2_open(fd, base, flags, name, err, errlen);
	if (base != NULL) {
		snprintf(err, errlen, "%s: a raw image has no base image, but "
		    "one was given", name);
		return NULL;
	}
	if ((d = raw_open(fd)) == NULL) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		return NULL;
	}
	if (flags & DISK_RDONLY)
		d->readonly = 1;
	return d;
}

/*
 * Each image's format, top down: the top's as given (or probed), each
 * base's as its image records it (raw when it does not). Returns 0, or -1 with err.
 */
static int
disk_open_formats(int *fds, int n, enum disk_format top,
    const char *const *names, int flags, enum disk_format *fmts, char *err,
    size_t errlen)
{
	char			 base[VM_PATH_SIZE], why[PROTO_TEXT_SIZE];
	enum disk_format	 bf;
	struct stat		 st[VM_MAX_BASE_IMAGES + 1];
	int			 i, j;

	for (i = 0; i < n; i++) {
		if (fstat(fds[i], &st[i]) == -1) {
			snprintf(err, errlen, "%s: %s", names[i],
			    strerror(errno));
			return -1;
		}
		for (j = 0; j < i; j++) {
			if (st[j].st_dev == st[i].st_dev &&
			    st[j].st_ino == st[i].st_ino) {
				snprintf(err, errlen, "%s: the base chain loops "
				    "back to %s", names[0], names[j]);
				return -1;
			}
		}
	}
	fmts[0] = top != DISK_FORMAT_AUTO ? top : disk_probe(fds[0]);
	for (i = 0; i < n; i++) {
		if (disk_base(fds[i], fmts[i], base, sizeof base, &bf, why,
		    sizeof why) == -1) {
			snprintf(err, errlen, "%s: %s", names[i], why);
			return -1;
		}
		if (i + 1 == n) {
			if (base[0] == '\0' || (flags & DISK_NOBASE))
				break;
			snprintf(err, errlen, "%s: its base image %.200s was "
			    "not given", names[i], base);
			return -1;
		}
		if (base[0] == '\0') {
			snprintf(err, errlen, "%s: it has no base image, but "
			    "one was given", names[i]);
			return -1;
		}
		fmts[i + 1] = disk_base_format(bf);
	}
	return 0;
}

struct disk *
disk_open_names(int fd, enum disk_format fmt, int *bases, int nbases,
    const char *const *names, int flags, char *err, size_t errlen)
{
	char			 defnames[VM_MAX_BASE_IMAGES + 1][32];
	const char		*nm[VM_MAX_BASE_IMAGES + 1];
	enum disk_format	 fmts[VM_MAX_BASE_IMAGES + 1];
	int			 fds[VM_MAX_BASE_IMAGES + 1] = { fd };
	int			 dups[VM_MAX_BASE_IMAGES + 1];
	struct disk		*d = NULL, *below = NULL;
	int			 i, n = nbases + 1, fl;

	if (nbases < 0 || nbases > VM_MAX_BASE_IMAGES) {
		snprintf(err, errlen, "%s: the base chain is deeper than %d "
		    "images", names != NULL ? names[0] : "image",
		    VM_MAX_BASE_IMAGES);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		fds[i] = i == 0 ? fd : bases[i - 1];
		dups[i] = -1;
		if (names != NULL)
			nm[i] = names[i];
		else {
			if (i == 0)
				snprintf(defnames[i], sizeof defnames[i],
				    "image");
			else
				snprintf(defnames[i], sizeof defnames[i],
				    "base image %d", i);
			nm[i] = defnames[i];
		}
	}
	if (disk_open_formats(fds, n, fmt, nm, flags, fmts, err, errlen) == -1)
		return NULL;

	/*
	 * Open from the bottom up on duplicates, so that a failure leaves
	 * the caller's fds as they were.
	 */
	for (i = n - 1; i >= 0; i--) {
		if ((dups[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 0)) == -1) {
			snprintf(err, errlen, "%s: %s", nm[i],
			    strerror(errno));
			goto fail;
		}
		fl = flags & (DISK_UNSAFE | (i == 0 ? DISK_RDONLY : 0));
		if (i > 0)
			fl |= DISK_RDONLY;
		if (i == n - 1)
			fl |= flags & DISK_NOBASE;
		d = disk_open_one(dups[i], fmts[i], below, fl, nm[i], err,
		    errlen);
		if (d == NULL)
			goto fail;
		dups[i] = -1;
		below = d;
	}
	for (i = 0; i < n; i++)
		close(fds[i]);
	return d;
fail:
	if (dups[i] != -1)
		close(dups[i]);
	if (below != NULL)
		below->ops->close(below);
	return NULL;
}

struct disk *
disk_open(int fd, enum disk_format fmt, int *bases, int nbases, int readonly,
    char *err, size_t errlen)
{
	return disk_open_names(fd, fmt, bases, nbases, NULL,
	    readonly ? DISK_RDONLY : 0, err, errlen);
}

void
disk_chain_close(struct disk_chain *c)
{
	int	i;

	for (i = 0; i < c->n; i++)
		close(c->fds[i]);
	c->n = 0;
}

/* Open and lock one image of a chain as image number i. */
static int
disk_chain_add(struct disk_chain *c, const char *path, int flags, int i,
    char *err, size_t errlen)
{
	struct stat	st, prev;
	int		fd, j, rw = i == 0 && !(flags & DISK_RDONLY);

	if (snprintf(c->paths[i], sizeof c->paths[i], "%s", path) >=
	    (int)sizeof c->paths[i]) {
		snprintf(err, errlen, "%.64s...: the path is too long", path);
		return -1;
	}
	fd = open(path, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		if (i == 0)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		else
			snprintf(err, errlen, "%s: base image %s: %s",
			    c->paths[i - 1], path, strerror(errno));
		return -1;
	}
	c->fds[i] = fd;
	c->n = i + 1;
	if (fstat(fd, &st) == -1 || S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: %s", path, S_ISDIR(st.st_mode) ?
		    "is a directory" : strerror(errno));
		return -1;
	}
	for (j = 0; j < i; j++) {
		if (fstat(c->fds[j], &prev) == 0 && prev.st_dev == st.st_dev &&
		    prev.st_ino == st.st_ino) {
			snprintf(err, errlen, "%s: the base chain loops back "
			    "to %s", c->paths[0], path);
			return -1;
		}
	}
	if (!(flags & DISK_NOLOCK) &&
	    flock(fd, (rw ? LOCK_EX : LOCK_SH) | LOCK_NB) == -1) {
		snprintf(err, errlen, "%s: %s", path, errno == EWOULDBLOCK ?
		    "in use (locked by a VM or another program)" :
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
disk_chain_open(struct disk_chain *c, const char *path, enum disk_format fmt,
    int flags, char *err, size_t errlen)
{
	char			base[VM_PATH_SIZE], next[VM_PATH_SIZE];
	char			why[PROTO_TEXT_SIZE];
	enum disk_format	bf;
	int			i;

	memset(c, 0, sizeof *c);
	if (disk_chain_add(c, path, flags, 0, err, errlen) == -1)
		goto fail;
	c->formats[0] = fmt != DISK_FORMAT_AUTO ? fmt : disk_probe(c->fds[0]);
	for (i = 0;; i++) {
		if (disk_base(c->fds[i], c->formats[i], base, sizeof base, &bf,
		    why, sizeof why) == -1) {
			snprintf(err, errlen, "%s: %s", c->paths[i], why);
			goto fail;
		}
		if (base[0] == '\0' || (flags & DISK_NOBASE))
			break;
		if (i == VM_MAX_BASE_IMAGES) {
			snprintf(err, errlen, "%s: the base chain is deeper "
			    "than %d images", c->paths[0], VM_MAX_BASE_IMAGES);
			goto fail;
		}
		if (disk_base_resolve(c->paths[i], base, next, sizeof next) ==
		    -1) {
			snprintf(err, errlen, "%s: the base image path is too "
			    "long", c->paths[i]);
			goto fail;
		}
		if (disk_chain_add(c, next, flags, i + 1, err, errlen) == -1)
			goto fail;
		c->formats[i + 1] = disk_base_format(bf);
	}
	return 0;
fail:
	disk_chain_close(c);
	return -1;
}

struct disk *
disk_open_path(const char *path, enum disk_format fmt, int flags, char *err,
    size_t errlen)
{
	struct disk_chain	 c;
	struct disk		*d;
	const char		*names[VM_MAX_BASE_IMAGES + 1];
	int			 i;

	if (disk_chain_open(&c, path, fmt, flags, err, errlen) == -1)
		return NULL;
	for (i = 0; i < c.n; i++)
		names[i] = c.paths[i];
	d = disk_open_names(c.fds[0], c.formats[0], c.fds + 1, c.n - 1, names,
	    flags, err, errlen);
	if (d == NULL) {
		disk_chain_close(&c);
		return NULL;
	}
	return d;
}

/*
 * The last data extent found in a read-only raw image, per thread: on a
 * dense file every SEEK_HOLE scans to the end, so asking again for each
 * chunk would take time quadratic in the size.
 */
static __thread struct {
	dev_t		dev;
	ino_t		ino;
	off_t		size;
	uint64_t	lo, hi;
} disk_raw_extent;

/* Raw images: holes read as zeros (SEEK_HOLE), the rest as data. */
static int
disk_raw_status(struct disk *d, uint64_t off, uint64_t len, uint64_t *pnum)
{
	struct stat	st;
	off_t		data, hole;

	*pnum = len;
	if (fstat(d->fd, &st) == -1 || !S_ISREG(st.st_mode))
		return DISK_BS_DATA;
	if (d->readonly && disk_raw_extent.dev == st.st_dev &&
	    disk_raw_extent.ino == st.st_ino &&
	    disk_raw_extent.size == st.st_size &&
	    off >= disk_raw_extent.lo && off < disk_raw_extent.hi) {
		if (disk_raw_extent.hi - off < len)
			*pnum = disk_raw_extent.hi - off;
		return DISK_BS_DATA;
	}
	data = lseek(d->fd, off, SEEK_DATA);
	if (data == -1)
		return errno == ENXIO ? DISK_BS_ZERO : DISK_BS_DATA;
	if ((uint64_t)data > off) {
		if ((uint64_t)data - off < len)
			*pnum = data - off;
		return DISK_BS_ZERO;
	}
	hole = lseek(d->fd, off, SEEK_HOLE);
	if (hole == -1 || (uint64_t)hole <= off)
		return DISK_BS_DATA;
	if ((uint64_t)hole - off < len)
		*pnum = hole - off;
	disk_raw_extent.dev = st.st_dev;
	disk_raw_extent.ino = st.st_ino;
	disk_raw_extent.size = st.st_size;
	disk_raw_extent.lo = off;
	disk_raw_extent.hi = hole;
	return DISK_BS_DATA;
}

int
disk_block_status(struct disk *d, uint64_t off, uint64_t len, uint64_t *pnum)
{
	if (len == 0 || off > d->size || len > d->size - off) {
		errno = EINVAL;
		return -1;
	}
	if (d->ops->block_status != NULL)
		return d->ops->block_status(d, off, len, pnum);
	return disk_raw_status(d, off, len, pnum);
}

const char *
disk_error(struct disk *d)
{
	return d->ops->error != NULL ? d->ops->error(d) : NULL;
}

uint64_t
disk_size(const struct disk *d)
{
	return d->size;
}

void
disk_close(struct disk *d)
{
	d->ops->close(d);
}

int
disk_info(struct disk *d, struct disk_info *info)
{
	struct stat	st;
	uint64_t	off, n;
	int		st_;

	memset(info, 0, sizeof *info);
	if (fstat(d->fd, &st) == -1)
		return -1;
	info->disk_size = (uint64_t)st.st_blocks * 512;
	if (qcow2_info(d, info) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
	info->format = DISK_FORMAT_RAW;
	info->size = d->size;
	info->file_size = d->size;
	for (off = 0; off < d->size; off += n) {
		if ((st_ = disk_block_status(d, off, d->size - off, &n)) == -1)
			return -1;
		if (st_ & DISK_BS_DATA)
			info->allocated += n;
	}
	return 0;
}
