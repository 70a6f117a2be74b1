/*
 * Format probing, base-chain lookup and image creation: what the engine
 * and the client need without the I/O paths (disk_chain.c opens images).
 */
#include <sys/stat.h>

#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "disk.h"
#include "qcow2.h"

enum disk_format
disk_probe(int fd)
{
	uint32_t magic;

	if (pread(fd, &magic, sizeof magic, 0) == sizeof magic &&
	    be32toh(magic) == QCOW2_MAGIC)
		return DISK_FORMAT_QCOW2;
	return DISK_FORMAT_RAW;
}

const char *
disk_format_name(enum disk_format fmt)
{
	switch (fmt) {
	case DISK_FORMAT_RAW:
		return "raw";
	case DISK_FORMAT_QCOW2:
		return "qcow2";
	default:
		return "auto";
	}
}

int
disk_format_parse(const char *s, enum disk_format *fmt)
{
	if (strcmp(s, "raw") == 0)
		*fmt = DISK_FORMAT_RAW;
	else if (strcmp(s, "qcow2") == 0)
		*fmt = DISK_FORMAT_QCOW2;
	else
		return -1;
	return 0;
}

enum disk_format
disk_format_of_name(const char *path)
{
	const char	*dot = strrchr(path, '.');

	if (dot != NULL && strchr(dot, '/') == NULL &&
	    (strcasecmp(dot, ".qcow2") == 0 || strcasecmp(dot, ".qcow") == 0))
		return DISK_FORMAT_QCOW2;
	return DISK_FORMAT_RAW;
}

/*
 * A base image's format: what the image above records, else raw. Never
 * probed: a raw base may hold a header some guest wrote.
 */
enum disk_format
disk_base_format(enum disk_format recorded)
{
	return recorded != DISK_FORMAT_AUTO ? recorded : DISK_FORMAT_RAW;
}

int
disk_base(int fd, enum disk_format fmt, char *base, size_t baselen,
    enum disk_format *basefmt, char *err, size_t errlen)
{
	struct qcow2_header	h;

	*basefmt = DISK_FORMAT_AUTO;
	if (baselen == 0)
		return -1;
	base[0] = '\0';
	if (fmt == DISK_FORMAT_AUTO)
		fmt = disk_probe(fd);
	if (fmt != DISK_FORMAT_QCOW2)
		return 0;
	if (qcow2_header_read(fd, &h, err, errlen) == -1)
		return -1;
	if (strlen(h.backing) >= baselen) {
		snprintf(err, errlen, "its base image name of %zu bytes is "
		    "too long", strlen(h.backing));
		return -1;
	}
	memcpy(base, h.backing, strlen(h.backing) + 1);
	if (h.backing_fmt[0] != '\0' && disk_format_parse(h.backing_fmt,
	    basefmt) == -1) {
		snprintf(err, errlen, "its base image format %s is not "
		    "supported", h.backing_fmt);
		return -1;
	}
	return 0;
}

int
disk_base_path(int fd, enum disk_format fmt, char *base, size_t baselen,
    char *err, size_t errlen)
{
	enum disk_format	basefmt;

	return disk_base(fd, fmt, base, baselen, &basefmt, err, errlen);
}

/* Returns 0, or -1 with errno ENAMETOOLONG. */
int
disk_base_resolve(const char *image, const char *base, char *path,
    size_t pathlen)
{
	const char	*slash;
	int		 n;

	slash = strrchr(image, '/');
	if (base[0] == '/' || slash == NULL)
		n = snprintf(path, pathlen, "%s", base);
	else
		n = snprintf(path, pathlen, "%.*s/%s", (int)(slash - image),
		    image, base);
	if (n < 0 || (size_t)n >= pathlen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* A raw image: the file at size, or a block device at least that big. */
static int
disk_create_raw(int fd, uint64_t size, char *err, size_t errlen)
{
	struct stat	st;
	uint64_t	have;
	off_t		end;

	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (S_ISBLK(st.st_mode)) {
		if ((end = lseek(fd, 0, SEEK_END)) == -1) {
			snprintf(err, errlen, "%s", strerror(errno));
			return -1;
		}
		have = end;
		if (have < size) {
			snprintf(err, errlen, "the device holds %llu bytes, "
			    "fewer than %llu", (unsigned long long)have,
			    (unsigned long long)size);
			return -1;
		}
		return 0;
	}
	/* See qcow2_create(): an empty file is not cut to zero again. */
	if ((st.st_size > 0 && ftruncate(fd, 0) == -1) ||
	    ftruncate(fd, size) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	return 0;
}

int
disk_create(int fd, enum disk_format fmt, uint64_t size, const char *base,
    enum disk_format basefmt, char *err, size_t errlen)
{
	if (fmt == DISK_FORMAT_QCOW2)
		return qcow2_create(fd, size, QCOW2_DEFAULT_CLUSTER_BITS, 3, 4,
		    base, basefmt == DISK_FORMAT_AUTO ? NULL :
		    disk_format_name(basefmt), err, errlen);
	if (base != NULL && base[0] != '\0') {
		snprintf(err, errlen, "a raw image cannot have a base image");
		return -1;
	}
	return disk_create_raw(fd, size, err, errlen);
}
