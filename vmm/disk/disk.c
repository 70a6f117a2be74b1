/* Format probing and base-chain lookup shared by the engine and runner. */
#include <sys/stat.h>

#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "disk.h"

#define QCOW2_MAGIC		0x514649fbU	/* "QFI\xfb" */
#define QCOW2_V2_HEADER_SIZE	72
#define QCOW2_BASE_MAX		1023		/* qemu's limit */

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

static int
qcow2_base_path(int fd, char *base, size_t baselen, char *err, size_t errlen)
{
	uint8_t hdr[QCOW2_V2_HEADER_SIZE];
	uint32_t magic, version, size;
	uint64_t off;
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	n = pread(fd, hdr, sizeof hdr, 0);
	if (n != sizeof hdr) {
		snprintf(err, errlen, "qcow2 header is truncated");
		return -1;
	}
	memcpy(&magic, hdr, 4);
	memcpy(&version, hdr + 4, 4);
	memcpy(&off, hdr + 8, 8);
	memcpy(&size, hdr + 16, 4);
	if (be32toh(magic) != QCOW2_MAGIC) {
		snprintf(err, errlen, "not a qcow2 image");
		return -1;
	}
	version = be32toh(version);
	off = be64toh(off);
	size = be32toh(size);
	if (version != 2 && version != 3) {
		snprintf(err, errlen, "qcow2 version %u is not supported",
		    version);
		return -1;
	}
	if (off == 0) {
		base[0] = '\0';
		return 0;
	}
	if (size == 0 || size > QCOW2_BASE_MAX || size >= baselen) {
		snprintf(err, errlen, "qcow2 backing file name of %u bytes "
		    "is too long", size);
		return -1;
	}
	if (off < QCOW2_V2_HEADER_SIZE || off > (uint64_t)st.st_size ||
	    size > (uint64_t)st.st_size - off) {
		snprintf(err, errlen, "qcow2 backing file name lies outside "
		    "the image (offset %llu)", (unsigned long long)off);
		return -1;
	}
	if (pread(fd, base, size, off) != (ssize_t)size) {
		snprintf(err, errlen, "reading the qcow2 backing file name: "
		    "%s", strerror(errno));
		return -1;
	}
	base[size] = '\0';
	if (strlen(base) != size) {
		snprintf(err, errlen, "qcow2 backing file name holds a NUL "
		    "byte");
		return -1;
	}
	return 0;
}

int
disk_base_path(int fd, enum disk_format fmt, char *base, size_t baselen,
    char *err, size_t errlen)
{
	if (baselen == 0)
		return -1;
	base[0] = '\0';
	if (fmt == DISK_FORMAT_AUTO)
		fmt = disk_probe(fd);
	if (fmt == DISK_FORMAT_QCOW2)
		return qcow2_base_path(fd, base, baselen, err, errlen);
	return 0;
}
