/*
 * Unit tests for vmm/disk: qcow2 images made by qcow2_create() and then
 * broken on purpose, one header field or table entry at a time (each must
 * fail to open, or to read, with an error that names the file and the
 * problem, never crash), and read/write/allocate/discard/zero round trips
 * checked against a copy in memory and by a refcount check written here
 * independently of the code under test; and disk_copy() round trips
 * (raw with holes to qcow2 and back) and its errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <sys/uio.h>

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "disk.h"
#include "disk_ops.h"
#include "qcow2.h"

static char	 dir[64];
static int	 nfiles;

/* A new path in the test's folder. */
static const char *
tpath(const char *name)
{
	static char	paths[64][128];
	char		*p = paths[nfiles++ % 64];

	snprintf(p, sizeof paths[0], "%s/%s", dir, name);
	return p;
}

static void
make(const char *path, uint64_t size, unsigned bits, unsigned version,
    unsigned order, const char *backing)
{
	char	err[256];
	int	fd;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd != -1);
	if (qcow2_create(fd, size, bits, version, order, backing,
	    backing != NULL ? "qcow2" : NULL, err, sizeof err) != 0)
		fail_msg("create %s: %s", path, err);
	close(fd);
}

static void
poke(const char *path, uint64_t off, const void *p, size_t len)
{
	int	fd = open(path, O_RDWR | O_CREAT, 0644);

	assert_true(fd != -1);
	assert_int_equal(pwrite(fd, p, len, off), len);
	close(fd);
}

static void
poke32(const char *path, uint64_t off, uint32_t v)
{
	v = htobe32(v);
	poke(path, off, &v, 4);
}

static void
poke64(const char *path, uint64_t off, uint64_t v)
{
	v = htobe64(v);
	poke(path, off, &v, 8);
}

static uint64_t
peek64(const char *path, uint64_t off)
{
	uint64_t	v = 0;
	int		fd = open(path, O_RDONLY);

	assert_int_equal(pread(fd, &v, 8, off), 8);
	close(fd);
	return be64toh(v);
}

/* Opening path must fail with an error naming it and saying want. */
static void
open_fails(const char *path, int flags, const char *want)
{
	struct disk	*d;
	char		 err[1024];

	d = disk_open_path(path, DISK_FORMAT_AUTO, flags, err, sizeof err);
	if (d != NULL)
		fail_msg("%s opened; wanted \"%s\"", path, want);
	if (strstr(err, path) == NULL || strstr(err, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\" or the path", err, want);
}

static struct disk *
open_ok(const char *path, int flags)
{
	struct disk	*d;
	char		 err[1024];

	d = disk_open_path(path, DISK_FORMAT_AUTO, flags, err, sizeof err);
	if (d == NULL)
		fail_msg("open %s: %s", path, err);
	return d;
}

static int
rd(struct disk *d, void *buf, size_t len, uint64_t off)
{
	struct iovec	iov = { buf, len };

	return d->ops->readv(d, &iov, 1, off) == (ssize_t)len ? 0 : -1;
}

static int
wr(struct disk *d, const void *buf, size_t len, uint64_t off)
{
	struct iovec	iov = { (void *)buf, len };

	return d->ops->writev(d, &iov, 1, off) == (ssize_t)len ? 0 : -1;
}

/* Refcount i of a block, for any width (independent of the code). */
static uint64_t
refcount_at(const uint8_t *blk, uint64_t i, unsigned order)
{
	unsigned	bits = 1U << order, k;
	uint64_t	v = 0;

	if (order < 3)
		return (blk[i * bits / 8] >> (i * bits % 8)) &
		    ((1U << bits) - 1);
	for (k = 0; k < bits / 8; k++)
		v = v << 8 | blk[i * (bits / 8) + k];
	return v;
}

static uint64_t
be64at(const uint8_t *img, uint64_t off)
{
	uint64_t	v;

	memcpy(&v, img + off, 8);
	return be64toh(v);
}

/*
 * A small `qemu-img check`: every cluster's refcount must equal the
 * references to it (header, tables, L2 tables, data); leaks allowed only
 * if leaks_ok. Returns the number of leaked clusters.
 */
static uint64_t
check_refcounts(const char *path, int leaks_ok)
{
	struct qcow2_header	 h;
	struct stat		 st;
	uint64_t		 cs, n, i, j, e, off, *refs, rbe, leaks = 0;
	uint64_t		 x, nsec, host, last, rc, t, blk, size;
	uint8_t			*img;
	char			 err[256];
	int			 fd = open(path, O_RDONLY);

	assert_true(fd != -1);
	if (qcow2_header_read(fd, &h, err, sizeof err) != 0)
		fail_msg("%s: %s", path, err);
	fstat(fd, &st);
	cs = 1ULL << h.cluster_bits;
	n = (st.st_size + cs - 1) / cs;
	size = (n + 1) * cs;
	img = calloc(1, size);
	assert_int_equal(pread(fd, img, st.st_size, 0), st.st_size);
	close(fd);
	refs = calloc(n + 1, sizeof *refs);
	refs[0]++;
	for (i = 0; i < (h.l1_size * 8 + cs - 1) / cs; i++)
		refs[h.l1_offset / cs + i]++;
	for (i = 0; i < h.rt_clusters; i++)
		refs[h.rt_offset / cs + i]++;
	for (i = 0; i < h.rt_clusters * cs / 8; i++)
		if ((e = be64at(img, h.rt_offset + i * 8)) != 0)
			refs[e / cs]++;
	x = 62 - (h.cluster_bits - 8);
	for (i = 0; i < h.l1_size; i++) {
		off = be64at(img, h.l1_offset + i * 8) & QCOW2_OFFSET_MASK;
		if (off == 0)
			continue;
		refs[off / cs]++;
		for (j = 0; j < cs / 8; j++) {
			e = be64at(img, off + j * 8);
			if (e & QCOW2_COMPRESSED) {
				host = e & ((1ULL << x) - 1);
				nsec = (e >> x) & ((1ULL << (h.cluster_bits -
				    8)) - 1);
				last = ((host & ~511ULL) + (nsec + 1) * 512 -
				    1) / cs;
				for (host /= cs; host <= last; host++)
					refs[host]++;
			} else if ((e & QCOW2_OFFSET_MASK) != 0)
				refs[(e & QCOW2_OFFSET_MASK) / cs]++;
		}
	}
	rbe = cs * 8 >> h.refcount_order;
	for (i = 0; i < n; i++) {
		rc = 0;
		t = i / rbe;
		if (t < h.rt_clusters * cs / 8 &&
		    (blk = be64at(img, h.rt_offset + t * 8)) != 0)
			rc = refcount_at(img + blk, i % rbe,
			    h.refcount_order);
		if (rc > refs[i] && leaks_ok) {
			leaks++;
			continue;
		}
		if (rc != refs[i])
			fail_msg("%s: cluster %llu has refcount %llu, %llu "
			    "references", path, (unsigned long long)i,
			    (unsigned long long)rc,
			    (unsigned long long)refs[i]);
	}
	free(refs);
	free(img);
	return leaks;
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/test_qcow2.XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char	cmd[128];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Header fields, one broken at a time. */
static void
test_header_fields(void **state)
{
	const char	*p;
	uint8_t		 junk[40];

	(void)state;
	p = tpath("short.qcow2");
	memset(junk, 0, sizeof junk);
	memcpy(junk, "QFI\xfb", 4);
	poke(p, 0, junk, sizeof junk);
	open_fails(p, 0, "truncated");

	p = tpath("magic.qcow2");
	make(p, 1 << 20, 16, 3, 4, NULL);
	poke32(p, 0, 0x12345678);
	{
		struct disk	*d;
		char		 err[512];

		d = disk_open_path(p, DISK_FORMAT_QCOW2, 0, err, sizeof err);
		assert_null(d);
		assert_non_null(strstr(err, "not a qcow2 image"));
	}

#define BROKEN(name, field, width, value, want) do {			\
	p = tpath(name);						\
	make(p, 1 << 20, 16, 3, 4, NULL);				\
	poke##width(p, field, value);					\
	open_fails(p, DISK_RDONLY, want);				\
} while (0)
	BROKEN("v1.qcow2", 4, 32, 1, "version 1 is not supported");
	BROKEN("v4.qcow2", 4, 32, 4, "version 4 is not supported");
	BROKEN("cb8.qcow2", 20, 32, 8, "cluster bits 8 are out of range");
	BROKEN("cb22.qcow2", 20, 32, 22, "cluster bits 22 are out of range");
	BROKEN("crypt.qcow2", 32, 32, 1, "encrypted images");
	BROKEN("l1end.qcow2", 40, 64, 1ULL << 40, "runs past the end");
	BROKEN("l1align.qcow2", 40, 64, 0x30200, "is not aligned");
	BROKEN("l1zero.qcow2", 40, 64, 0, "L1 table overlaps the header");
	BROKEN("l1big.qcow2", 36, 32, 0xffffffffU, "larger than 32 MiB");
	BROKEN("l1small.qcow2", 24, 64, 1ULL << 50, "is too small");
	BROKEN("l1wrap.qcow2", 24, 64, UINT64_MAX, "is too small");
	BROKEN("rtzero.qcow2", 48, 64, 0, "refcount table overlaps");
	BROKEN("rtend.qcow2", 48, 64, 1ULL << 50, "runs past the end");
	BROKEN("rtalign.qcow2", 48, 64, 0x10008, "is not aligned");
	BROKEN("rtnone.qcow2", 56, 32, 0, "refcount table is empty");
	BROKEN("rtbig.qcow2", 56, 32, 0x10000000, "larger than 8 MiB");
	BROKEN("overlap.qcow2", 40, 64, 0x10000, "overlap");
	BROKEN("order7.qcow2", 96, 32, 7, "refcount order 7 is out of range");
	BROKEN("hlen.qcow2", 100, 32, 100, "header length 100 is invalid");
	BROKEN("hlen8.qcow2", 100, 32, 108, "header length 108 is invalid");
	BROKEN("unknown.qcow2", 72, 64, 1ULL << 5,
	    "unknown incompatible feature bit 5");
	BROKEN("datafile.qcow2", 72, 64, 1ULL << 2, "external data files");
	BROKEN("extl2.qcow2", 72, 64, 1ULL << 4, "extended L2 entries");
	BROKEN("ztype.qcow2", 72, 64, 1ULL << 3,
	    "compression type bit is set without");
	BROKEN("snaps.qcow2", 60, 32, 100000, "snapshots are more than");
	BROKEN("bsize.qcow2", 8, 64, 512, "backing file name of 0 bytes");
}

/* Feature names, extensions and the backing name. */
static void
test_header_extensions(void **state)
{
	const char	*p;
	uint8_t		 ext[8 + 48 + 8];

	(void)state;
	p = tpath("named.qcow2");
	make(p, 1 << 20, 16, 3, 4, NULL);
	memset(ext, 0, sizeof ext);
	ext[0] = 0x68; ext[1] = 0x03; ext[2] = 0xf8; ext[3] = 0x57;
	ext[7] = 48;
	ext[8] = 0;
	ext[9] = 6;
	memcpy(ext + 10, "frobnicate", 10);
	poke(p, QCOW2_V3_HDR_SIZE, ext, sizeof ext);
	poke64(p, 72, 1ULL << 6);
	open_fails(p, DISK_RDONLY,
	    "unknown incompatible feature \"frobnicate\" (bit 6)");

	p = tpath("zstd.qcow2");
	make(p, 1 << 20, 16, 3, 4, NULL);
	poke32(p, 100, 112);
	poke(p, 104, "\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	poke64(p, 72, 1ULL << 3);
	open_fails(p, DISK_RDONLY, "compression type 1 is not supported");

	p = tpath("ztype2.qcow2");
	make(p, 1 << 20, 16, 3, 4, NULL);
	poke32(p, 100, 112);
	poke(p, 104, "\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	open_fails(p, DISK_RDONLY, "set without its feature bit");

	p = tpath("extlen.qcow2");
	make(p, 1 << 20, 16, 3, 4, NULL);
	poke32(p, 104, 0x12345678);
	poke32(p, 108, 0x7fffffff);
	open_fails(p, DISK_RDONLY, "runs past the end of the header");

	p = tpath("bfmt.qcow2");
	make(p, 1 << 20, 16, 3, 4, NULL);
	poke32(p, 104, QCOW2_EXT_BACKING_FMT);
	poke32(p, 108, 200);
	open_fails(p, DISK_RDONLY, "backing format name of 200 bytes");

	p = tpath("blong.qcow2");
	make(p, 1 << 20, 16, 3, 4, "x.qcow2");
	poke32(p, 16, 2000);
	open_fails(p, DISK_RDONLY, "backing file name of 2000 bytes");

	p = tpath("bout.qcow2");
	make(p, 1 << 20, 16, 3, 4, "x.qcow2");
	poke64(p, 8, 0x10000 - 2);
	open_fails(p, DISK_RDONLY, "lies outside the header cluster");

	p = tpath("bnul.qcow2");
	make(p, 1 << 20, 16, 3, 4, "x.qcow2");
	poke(p, peek64(p, 8) + 1, "", 1);
	open_fails(p, DISK_RDONLY, "NUL byte");
}

/* L1 and refcount table entries. */
static void
test_table_entries(void **state)
{
	const char	*p;
	struct disk	*d;
	uint8_t		 buf[512];
	uint64_t	 l1, rt;

	(void)state;
#define ENTRY(name, which, value, want) do {				\
	p = tpath(name);						\
	make(p, 1 << 20, 9, 3, 4, NULL);				\
	d = open_ok(p, 0);						\
	memset(buf, 1, sizeof buf);					\
	assert_int_equal(wr(d, buf, sizeof buf, 0), 0);			\
	assert_int_equal(wr(d, buf, sizeof buf, 512 * 64), 0);		\
	d->ops->close(d);						\
	l1 = peek64(p, 40);						\
	rt = peek64(p, 48);						\
	poke64(p, (which) ? rt + 8 : l1 + 8, value);			\
	open_fails(p, DISK_RDONLY, want);				\
} while (0)
	ENTRY("l1res.qcow2", 0, peek64(p, l1) | 2, "has reserved bits set");
	ENTRY("l1mis.qcow2", 0, (peek64(p, l1) + 0x100000) | 0x80000000ULL,
	    "lies past the end of the file");
	ENTRY("l1rt.qcow2", 0, rt | (1ULL << 63),
	    "overlaps the header, L1 table or refcount table");
	ENTRY("l1dup.qcow2", 0, peek64(p, l1), "share the cluster");
	ENTRY("rtres.qcow2", 1, 0x600 | 1, "has reserved bits set");
	ENTRY("rtend.qcow2", 1, 1ULL << 40, "lies past the end of the file");
	ENTRY("rtl1.qcow2", 1, l1, "overlaps the header");
	ENTRY("rtdup.qcow2", 1, peek64(p, rt), "share the cluster");

	/* 64 KiB clusters: a misaligned L2 table. */
	p = tpath("l1align.qcow2");
	make(p, 1 << 20, 16, 3, 4, NULL);
	d = open_ok(p, 0);
	assert_int_equal(wr(d, buf, sizeof buf, 0), 0);
	d->ops->close(d);
	l1 = peek64(p, 40);
	poke64(p, l1, (peek64(p, l1) + 512) | (1ULL << 63));
	open_fails(p, DISK_RDONLY, "is not aligned to the cluster size");
}

/* Bad L2 entries fail the reads that meet them, and nothing else. */
static void
test_l2_entries(void **state)
{
	const char	*p;
	struct disk	*d;
	uint8_t		 buf[4096];
	uint64_t	 l2, e;
	const char	*why;

	(void)state;
	struct {
		const char	*name;
		unsigned	 version;
		uint64_t	 entry;
		const char	*want;
	} cases[] = {
		{ "l2mis.qcow2", 3, (1ULL << 63) | 0x30200, "not aligned" },
		{ "l2end.qcow2", 3, (1ULL << 63) | (1ULL << 40), "past the end" },
		{ "l2res.qcow2", 3, (1ULL << 63) | 0x30000 | 2, "reserved bits" },
		{ "l2hdr.qcow2", 3, (1ULL << 63) | 0x10000,
		    "overlaps the image's tables" },
		{ "l2zv2.qcow2", 2, 1, "zero flag in a version 2 image" },
		{ "l2z.qcow2", 3, (1ULL << 62) | (1ULL << 61) | 0x30000,
		    "does not inflate" },
		{ "l2zc.qcow2", 3, (3ULL << 62) | 0x30000, "copied bit" },
		{ "l2zend.qcow2", 3, (1ULL << 62) | 0xffffffffffULL,
		    "outside the file" },
	};
	size_t		 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		p = tpath(cases[i].name);
		make(p, 4 << 20, 16, cases[i].version, 4, NULL);
		d = open_ok(p, 0);
		memset(buf, 0x5a, sizeof buf);
		assert_int_equal(wr(d, buf, sizeof buf, 0), 0);
		assert_int_equal(wr(d, buf, sizeof buf, 3 << 20), 0);
		d->ops->close(d);
		l2 = peek64(p, peek64(p, 40)) & QCOW2_OFFSET_MASK;
		e = cases[i].entry;
		poke64(p, l2 + 8, e);
		d = open_ok(p, 0);
		errno = 0;
		if (rd(d, buf, sizeof buf, 65536) == 0)
			fail_msg("%s: the read worked", cases[i].name);
		assert_int_equal(errno, EIO);
		why = disk_error(d);
		assert_non_null(why);
		if (strstr(why, p) == NULL || strstr(why, cases[i].want) ==
		    NULL)
			fail_msg("\"%s\" lacks \"%s\"", why, cases[i].want);
		/* Other clusters still read; nothing is written any more. */
		assert_int_equal(rd(d, buf, sizeof buf, 3 << 20), 0);
		assert_int_equal(buf[0], 0x5a);
		assert_int_equal(wr(d, buf, sizeof buf, 2 << 20), -1);
		d->ops->close(d);
	}
}

/* Dirty, corrupt and snapshot images open read-only only. */
static void
test_open_modes(void **state)
{
	const char	*p;
	struct disk	*d;
	uint8_t		 buf[512];

	(void)state;
	p = tpath("dirty.qcow2");
	make(p, 1 << 20, 16, 3, 4, NULL);
	poke64(p, 72, 1);
	open_fails(p, 0, "not closed cleanly");
	d = open_ok(p, DISK_RDONLY);
	assert_int_equal(wr(d, buf, sizeof buf, 0), -1);
	assert_int_equal(errno, EROFS);
	d->ops->close(d);

	p = tpath("corrupt.qcow2");
	make(p, 1 << 20, 16, 3, 4, NULL);
	poke64(p, 72, 2);
	open_fails(p, 0, "marked corrupt");

	p = tpath("snap.qcow2");
	make(p, 1 << 20, 16, 3, 4, NULL);
	poke32(p, 60, 1);
	poke64(p, 64, peek64(p, 40));
	open_fails(p, 0, "internal snapshots");
	d = open_ok(p, DISK_RDONLY);
	d->ops->close(d);

	/* Autoclear bits are dropped by a writer. */
	p = tpath("autoclear.qcow2");
	make(p, 1 << 20, 16, 3, 4, NULL);
	poke64(p, 88, 3);
	d = open_ok(p, 0);
	d->ops->close(d);
	assert_int_equal(peek64(p, 88), 0);
}

/* Base chains that loop, are too deep, or are missing. */
static void
test_chains(void **state)
{
	struct disk	*d;
	char		 name[32], base[32], err[512];
	int		 i, fd, bfd;

	(void)state;
	make(tpath("loop-a.qcow2"), 1 << 20, 16, 3, 4, "loop-b.qcow2");
	make(tpath("loop-b.qcow2"), 1 << 20, 16, 3, 4, "loop-a.qcow2");
	open_fails(tpath("loop-a.qcow2"), DISK_RDONLY, "loops back");

	make(tpath("deep0.qcow2"), 1 << 20, 16, 3, 4, NULL);
	for (i = 1; i <= VM_MAX_BASE_IMAGES + 1; i++) {
		snprintf(name, sizeof name, "deep%d.qcow2", i);
		snprintf(base, sizeof base, "deep%d.qcow2", i - 1);
		make(tpath(name), 1 << 20, 16, 3, 4, base);
	}
	snprintf(name, sizeof name, "deep%d.qcow2", VM_MAX_BASE_IMAGES);
	d = open_ok(tpath(name), DISK_RDONLY);
	d->ops->close(d);
	snprintf(name, sizeof name, "deep%d.qcow2", VM_MAX_BASE_IMAGES + 1);
	open_fails(tpath(name), DISK_RDONLY, "deeper than 8 images");

	make(tpath("orphan.qcow2"), 1 << 20, 16, 3, 4, "gone.qcow2");
	open_fails(tpath("orphan.qcow2"), DISK_RDONLY, "gone.qcow2");

	/* By fds, as the runner gets them. */
	fd = open(tpath("deep1.qcow2"), O_RDWR);
	d = disk_open(fd, DISK_FORMAT_AUTO, NULL, 0, 0, err, sizeof err);
	assert_null(d);
	assert_non_null(strstr(err, "base image deep0.qcow2 was not given"));
	bfd = open(tpath("deep0.qcow2"), O_RDONLY);
	d = disk_open(bfd, DISK_FORMAT_AUTO, &fd, 1, 0, err, sizeof err);
	assert_null(d);
	assert_non_null(strstr(err, "no base image, but one was given"));
	d = disk_open(fd, DISK_FORMAT_AUTO, &fd, 1, 0, err, sizeof err);
	assert_null(d);
	assert_non_null(strstr(err, "loops back"));
	d = disk_open(fd, DISK_FORMAT_AUTO, &bfd, 1, 0, err, sizeof err);
	assert_non_null(d);
	d->ops->close(d);
	/* The disk owned both fds: they are closed now. */
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(fcntl(bfd, F_GETFD), -1);
}

/*
 * A base whose format its image does not record is raw, even when it
 * holds a qcow2 header (a guest may have written one onto a raw disk):
 * the header's own base is never followed.
 */
static void
test_base_unrecorded_is_raw(void **state)
{
	struct disk_chain	 c;
	struct disk		*d;
	uint8_t			 buf[4];
	char			 err[512];
	int			 fd;

	(void)state;
	/* The "raw" base holds a qcow2 header naming a third image. */
	make(tpath("evil.qcow2"), 1 << 20, 16, 3, 4, NULL);
	make(tpath("hdr.img"), 1 << 20, 16, 3, 4, "evil.qcow2");
	fd = open(tpath("top.qcow2"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd != -1);
	assert_int_equal(qcow2_create(fd, 1 << 20, 16, 3, 4, "hdr.img", NULL,
	    err, sizeof err), 0);
	close(fd);
	assert_int_equal(disk_chain_open(&c, tpath("top.qcow2"),
	    DISK_FORMAT_QCOW2, DISK_RDONLY, err, sizeof err), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.formats[1], DISK_FORMAT_RAW);
	disk_chain_close(&c);
	d = disk_open_path(tpath("top.qcow2"), DISK_FORMAT_QCOW2, DISK_RDONLY,
	    err, sizeof err);
	assert_non_null(d);
	/* Unallocated in the top: the base's bytes, its header, show. */
	assert_int_equal(rd(d, buf, sizeof buf, 0), 0);
	assert_memory_equal(buf, "QFI\xfb", 4);
	d->ops->close(d);
	assert_int_equal(disk_base_format(DISK_FORMAT_AUTO), DISK_FORMAT_RAW);
	assert_int_equal(disk_base_format(DISK_FORMAT_QCOW2),
	    DISK_FORMAT_QCOW2);
}

static void
pattern(uint8_t *p, size_t len, uint64_t seed)
{
	size_t	i;

	for (i = 0; i < len; i++)
		p[i] = (seed * 2654435761ULL + i * 7) >> (i % 5);
}

/* Random writes and reads against a copy in memory, then reopened. */
static void
roundtrip(unsigned bits, unsigned version, unsigned order)
{
	const char	*p = tpath("rt.qcow2");
	const uint64_t	 size = 3 * (1 << 20) + 1536;
	uint8_t		*mem = calloc(1, size), *buf = malloc(size);
	struct disk	*d;
	struct iovec	 iov[3];
	uint64_t	 off, len, seed = 1;
	int		 i;

	make(p, size, bits, version, order, NULL);
	d = open_ok(p, 0);
	assert_int_equal(d->size, size);
	for (i = 0; i < 200; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		len = 1 + (seed >> 33) % 200000;
		off = (seed >> 13) % (size - len + 1);
		pattern(buf, len, seed);
		iov[0].iov_base = buf;
		iov[0].iov_len = len / 2;
		iov[1].iov_base = buf + len / 2;
		iov[1].iov_len = 0;
		iov[2].iov_base = buf + len / 2;
		iov[2].iov_len = len - len / 2;
		assert_int_equal(d->ops->writev(d, iov, 3, off), len);
		memcpy(mem + off, buf, len);
		if (i % 50 == 49)
			assert_int_equal(d->ops->flush(d), 0);
	}
	assert_int_equal(rd(d, buf, size, 0), 0);
	assert_memory_equal(buf, mem, size);
	d->ops->close(d);
	check_refcounts(p, 0);
	d = open_ok(p, DISK_RDONLY);
	memset(buf, 0, size);
	assert_int_equal(rd(d, buf, size, 0), 0);
	assert_memory_equal(buf, mem, size);
	d->ops->close(d);
	free(mem);
	free(buf);
}

static void
test_roundtrip(void **state)
{
	unsigned	bits[] = { 9, 12, 16, 21 }, i, order;

	(void)state;
	for (i = 0; i < 4; i++) {
		roundtrip(bits[i], 3, 4);
		roundtrip(bits[i], 2, 4);
	}
	/* Every refcount width the format has (1 to 64 bits). */
	for (order = 0; order <= 6; order++)
		roundtrip(12, 3, order);
}

/* Allocation, discard and write-zeroes, seen through `info`. */
static void
test_allocate_discard_zero(void **state)
{
	const char		*p = tpath("alloc.qcow2");
	struct disk		*d;
	struct disk_info	 info;
	uint8_t			 buf[65536 * 3], zero[65536 * 3];
	uint64_t		 n;

	(void)state;
	make(p, 16 << 20, 16, 3, 4, NULL);
	d = open_ok(p, 0);
	memset(buf, 0x77, sizeof buf);
	memset(zero, 0, sizeof zero);
	assert_int_equal(wr(d, buf, 1, 65536 * 5 + 7), 0);
	assert_int_equal(disk_info(d, &info), 0);
	assert_int_equal(info.data_clusters, 1);
	assert_int_equal(info.allocated, 65536);
	assert_int_equal(disk_block_status(d, 0, 16 << 20, &n), DISK_BS_ZERO);
	assert_int_equal(n, 65536 * 5);
	assert_int_equal(disk_block_status(d, 65536 * 5, 65536 * 4, &n),
	    DISK_BS_DATA);
	assert_int_equal(n, 65536);

	assert_int_equal(wr(d, buf, sizeof buf, 1 << 20), 0);
	/* A discard keeps partial clusters, frees whole ones. */
	assert_int_equal(d->ops->discard(d, (1 << 20) + 100, 65536 * 2), 0);
	assert_int_equal(rd(d, buf, sizeof buf, 1 << 20), 0);
	assert_int_equal(buf[0], 0x77);
	assert_memory_equal(buf + 65536, zero, 65536);
	assert_int_equal(buf[65536 * 2], 0x77);
	assert_int_equal(d->ops->flush(d), 0);
	assert_int_equal(disk_info(d, &info), 0);
	assert_int_equal(info.data_clusters, 3);

	/* Write-zeroes over partial and whole clusters. */
	assert_int_equal(d->ops->write_zeroes(d, (1 << 20) + 10,
	    65536 * 3 - 20, 1), 0);
	memset(buf, 1, sizeof buf);
	assert_int_equal(rd(d, buf, sizeof buf, 1 << 20), 0);
	assert_int_equal(buf[9], 0x77);
	assert_memory_equal(buf + 10, zero, 65536 * 3 - 20);
	assert_int_equal(buf[65536 * 3 - 1], 0x77);
	d->ops->close(d);
	check_refcounts(p, 0);

	/* A zeroed range over a base hides it with zero clusters. */
	p = tpath("zbase.qcow2");
	make(tpath("zb.qcow2"), 16 << 20, 16, 3, 4, NULL);
	d = open_ok(tpath("zb.qcow2"), 0);
	memset(buf, 0x42, sizeof buf);
	assert_int_equal(wr(d, buf, sizeof buf, 0), 0);
	d->ops->close(d);
	make(p, 16 << 20, 16, 3, 4, "zb.qcow2");
	d = open_ok(p, 0);
	assert_int_equal(d->ops->write_zeroes(d, 0, 65536 * 2, 1), 0);
	assert_int_equal(d->ops->discard(d, 65536 * 2, 65536), 0);
	assert_int_equal(rd(d, buf, sizeof buf, 0), 0);
	assert_memory_equal(buf, zero, sizeof buf);
	assert_int_equal(disk_info(d, &info), 0);
	assert_int_equal(info.zero_clusters, 3);
	d->ops->close(d);
	check_refcounts(p, 0);
}

/* Write-zeroes without unmap keeps the clusters; writes reuse them. */
static void
test_zero_keep(void **state)
{
	const char		*p = tpath("keep.qcow2");
	struct disk		*d;
	struct disk_info	 info;
	uint8_t			 buf[4096 * 4], want[4096 * 4];
	struct stat		 st;
	off_t			 size;

	(void)state;
	make(p, 1 << 20, 12, 3, 4, NULL);
	d = open_ok(p, 0);
	memset(buf, 0x31, sizeof buf);
	assert_int_equal(wr(d, buf, sizeof buf, 0), 0);
	assert_int_equal(d->ops->flush(d), 0);
	stat(p, &st);
	size = st.st_size;
	assert_int_equal(d->ops->write_zeroes(d, 0, sizeof buf, 0), 0);
	assert_int_equal(disk_info(d, &info), 0);
	assert_int_equal(info.data_clusters, 0);
	assert_int_equal(info.zero_clusters, 4);
	memset(want, 0, sizeof want);
	assert_int_equal(rd(d, buf, sizeof buf, 0), 0);
	assert_memory_equal(buf, want, sizeof want);
	/* A write lands in the cluster the zero cluster kept. */
	memset(buf, 0x32, 100);
	assert_int_equal(wr(d, buf, 100, 4096 + 1000), 0);
	memset(want + 4096 + 1000, 0x32, 100);
	assert_int_equal(rd(d, buf, sizeof buf, 0), 0);
	assert_memory_equal(buf, want, sizeof want);
	assert_int_equal(disk_info(d, &info), 0);
	assert_int_equal(info.data_clusters, 1);
	d->ops->close(d);
	stat(p, &st);
	assert_int_equal(st.st_size, size);
	check_refcounts(p, 0);
}

/* Partial writes over a base copy the rest of the cluster up. */
static void
test_copy_up(void **state)
{
	const char	*p = tpath("over.qcow2");
	struct disk	*d;
	uint8_t		 buf[8192], want[8192];
	unsigned	 v;

	(void)state;
	for (v = 2; v <= 3; v++) {
		make(tpath("small.qcow2"), 6000, 12, v, 4, NULL);
		d = open_ok(tpath("small.qcow2"), 0);
		memset(buf, 0x11, sizeof buf);
		assert_int_equal(wr(d, buf, d->size, 0), 0);
		d->ops->close(d);
		/* The overlay is bigger than its base: zeros past it. */
		make(p, 16384, 12, v, 4, "small.qcow2");
		d = open_ok(p, 0);
		memset(buf, 0x22, 100);
		assert_int_equal(wr(d, buf, 100, 4000), 0);
		assert_int_equal(wr(d, buf, 100, 8000), 0);
		assert_int_equal(rd(d, buf, sizeof buf, 4096), 0);
		memset(want, 0, sizeof want);
		memset(want, 0x11, 6144 - 4096);
		memset(want, 0x22, 4);
		memset(want + 8000 - 4096, 0x22, 100);
		assert_memory_equal(buf, want, sizeof want);
		assert_int_equal(rd(d, buf, 200, 3950), 0);
		assert_int_equal(buf[0], 0x11);
		assert_int_equal(buf[50], 0x22);
		assert_int_equal(buf[149], 0x22);
		assert_int_equal(buf[150], 0x11);
		d->ops->close(d);
		check_refcounts(p, 0);
	}
}

/* A compressed cluster (raw deflate) reads, and copies up on write. */
static void
test_compressed(void **state)
{
	const char	*p = tpath("comp.qcow2");
	struct disk	*d;
	uint8_t		 data[4096], out[8192], buf[4096];
	uint64_t	 l2, host, e;
	z_stream	 z;
	size_t		 zlen, nsec;
	struct stat	 st;
	int		 i;

	(void)state;
	for (i = 0; i < 4096; i++)
		data[i] = "qcow2"[i % 5] + i / 1000;
	memset(&z, 0, sizeof z);
	assert_int_equal(deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED,
	    -12, 9, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = data;
	z.avail_in = sizeof data;
	z.next_out = out;
	z.avail_out = sizeof out;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	zlen = sizeof out - z.avail_out;
	deflateEnd(&z);

	make(p, 1 << 20, 12, 3, 4, NULL);
	d = open_ok(p, 0);
	assert_int_equal(wr(d, data, 1, 0), 0);	/* an L2 table */
	d->ops->close(d);
	stat(p, &st);
	/* The compressed bytes start mid-sector, in a cluster of their own. */
	host = (st.st_size + 4095) / 4096 * 4096 + 100;
	poke(p, host, out, zlen);
	nsec = (host % 512 + zlen - 1) / 512;
	e = (1ULL << 62) | ((uint64_t)nsec << (62 - 4)) | host;
	l2 = peek64(p, peek64(p, 40)) & QCOW2_OFFSET_MASK;
	poke64(p, l2 + 8, e);
	/* Its host cluster's refcount, so that the image is consistent. */
	{
		uint64_t	rt = peek64(p, peek64(p, 48));
		uint16_t	one = htobe16(1);

		poke(p, rt + host / 4096 * 2, &one, 2);
	}
	check_refcounts(p, 0);
	d = open_ok(p, 0);
	assert_int_equal(rd(d, buf, sizeof buf, 4096), 0);
	assert_memory_equal(buf, data, sizeof buf);
	memset(buf, 0xee, 10);
	assert_int_equal(wr(d, buf, 10, 4096 + 50), 0);
	assert_int_equal(rd(d, buf, sizeof buf, 4096), 0);
	assert_memory_equal(buf, data, 50);
	assert_int_equal(buf[50], 0xee);
	assert_memory_equal(buf + 60, data + 60, sizeof buf - 60);
	d->ops->close(d);
	check_refcounts(p, 0);
}

/* 512-byte clusters: the refcount table has to grow. */
static void
test_refcount_growth(void **state)
{
	const char	*p = tpath("grow.qcow2");
	struct disk	*d;
	uint8_t		*buf = malloc(8 << 20), *back = malloc(8 << 20);
	uint64_t	 rt0;

	(void)state;
	make(p, 8 << 20, 9, 3, 4, NULL);
	rt0 = peek64(p, 48);
	pattern(buf, 8 << 20, 3);
	d = open_ok(p, 0);
	assert_int_equal(wr(d, buf, 8 << 20, 0), 0);
	d->ops->close(d);
	assert_true(peek64(p, 48) != rt0);
	check_refcounts(p, 0);
	d = open_ok(p, DISK_RDONLY);
	assert_int_equal(rd(d, back, 8 << 20, 0), 0);
	assert_memory_equal(buf, back, 8 << 20);
	d->ops->close(d);
	free(buf);
	free(back);
}

struct worker {
	struct disk	*d;
	int		 id;
};

static void *
worker(void *arg)
{
	struct worker	*w = arg;
	uint8_t		 buf[20000], back[20000];
	uint64_t	 base = (uint64_t)w->id << 20, off;
	int		 i;

	for (i = 0; i < 100; i++) {
		off = base + (i * 7919) % ((1 << 20) - sizeof buf);
		pattern(buf, sizeof buf, w->id * 1000 + i);
		if (wr(w->d, buf, sizeof buf, off) != 0 ||
		    rd(w->d, back, sizeof back, off) != 0 ||
		    memcmp(buf, back, sizeof buf) != 0)
			return (void *)1;
		if (i % 10 == 0)
			w->d->ops->discard(w->d, base, 65536);
	}
	return NULL;
}

/* virtio-blk's threads share an image. */
static void
test_threads(void **state)
{
	const char	*p = tpath("threads.qcow2");
	struct worker	 w[4];
	pthread_t	 t[4];
	void		*rv;
	int		 i;

	(void)state;
	make(p, 4 << 20, 12, 3, 4, NULL);
	w[0].d = open_ok(p, 0);
	for (i = 0; i < 4; i++) {
		w[i].d = w[0].d;
		w[i].id = i;
		assert_int_equal(pthread_create(&t[i], NULL, worker, &w[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], &rv);
		assert_null(rv);
	}
	w[0].d->ops->close(w[0].d);
	check_refcounts(p, 0);
}

/* Bounds, read-only images, creation limits. */
static void
test_limits(void **state)
{
	const char	*p = tpath("limits.qcow2");
	struct disk	*d;
	uint8_t		 buf[1024];
	char		 err[256];
	int		 fd;

	(void)state;
	make(p, 1000, 16, 3, 4, NULL);
	d = open_ok(p, 0);
	assert_int_equal(d->size, 1024);
	assert_int_equal(wr(d, buf, 1024, 0), 0);
	assert_int_equal(wr(d, buf, 1, 1024), -1);
	assert_int_equal(errno, EIO);
	assert_int_equal(rd(d, buf, 2, 1023), -1);
	d->ops->close(d);
	d = open_ok(p, DISK_RDONLY);
	assert_int_equal(wr(d, buf, 1, 0), -1);
	assert_int_equal(errno, EROFS);
	assert_int_equal(d->ops->discard(d, 0, 512), -1);
	d->ops->close(d);
	fd = open(tpath("toobig.qcow2"), O_RDWR | O_CREAT, 0644);
	assert_int_equal(qcow2_create(fd, 1ULL << 60, 9, 3, 4, NULL, NULL,
	    err, sizeof err), -1);
	assert_non_null(strstr(err, "too big"));
	close(fd);
	check_refcounts(p, 0);
}

/* disk_copy(): a raw image with holes, to qcow2 and back. */
#define COPY_SIZE	(5U << 20)

/* Data ranges of the source; the rest is a hole. */
static const struct {
	uint64_t	off;
	size_t		len;
	int		byte;
} copy_ranges[] = {
	{ 0, 4096, 0x11 },
	{ (2U << 20) - 100, 200, 0x22 },	/* across a chunk's end */
	{ (3U << 20) + 123, 70000, 0x33 },
	{ COPY_SIZE - 1, 1, 0x44 },		/* the last byte */
};

struct copy_progress {
	int		calls;
	uint64_t	last;
	uint64_t	size;
};

static void
copy_count_progress(uint64_t done, uint64_t size, void *arg)
{
	struct copy_progress	*pr = arg;

	assert_true(done > pr->last && done <= size);
	pr->calls++;
	pr->last = done;
	pr->size = size;
}

static uint8_t *
copy_slurp(const char *path, size_t *len, blkcnt_t *blocks)
{
	struct stat	 st;
	uint8_t		*buf;
	int		 fd;

	fd = open(path, O_RDONLY);
	assert_true(fd != -1);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc(st.st_size);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, st.st_size, 0), st.st_size);
	close(fd);
	*len = st.st_size;
	*blocks = st.st_blocks;
	return buf;
}

static void
copy_make_source(const char *path)
{
	uint8_t	buf[70000];
	size_t	i;
	int	fd;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd != -1);
	assert_int_equal(ftruncate(fd, COPY_SIZE), 0);
	for (i = 0; i < sizeof copy_ranges / sizeof copy_ranges[0]; i++) {
		memset(buf, copy_ranges[i].byte, copy_ranges[i].len);
		assert_int_equal(pwrite(fd, buf, copy_ranges[i].len, copy_ranges[i].off),
		    copy_ranges[i].len);
	}
	close(fd);
}

static void
test_copy_round_trip(void **state)
{
	struct disk_copy_opts	 opts;
	struct disk_info	 info;
	struct copy_progress		 pr;
	struct disk		*d;
	const char		*src = tpath("src.raw"), *mid = tpath("mid.qcow2");
	const char		*back = tpath("back.raw");
	uint8_t			*a, *b;
	size_t			 alen, blen;
	blkcnt_t		 ablocks, bblocks;
	char			 err[512];

	(void)state;
	copy_make_source(src);

	memset(&opts, 0, sizeof opts);
	memset(&pr, 0, sizeof pr);
	opts.format = DISK_FORMAT_QCOW2;
	opts.progress = copy_count_progress;
	opts.arg = &pr;
	if (disk_copy(src, mid, &opts, err, sizeof err) != 0)
		fail_msg("to qcow2: %s", err);
	assert_true(pr.calls > 0);
	assert_true(pr.last == COPY_SIZE && pr.size == COPY_SIZE);

	/* The qcow2 copy holds only the clusters with data. */
	d = disk_open_path(mid, DISK_FORMAT_AUTO, DISK_RDONLY, err,
	    sizeof err);
	if (d == NULL)
		fail_msg("open %s: %s", mid, err);
	assert_int_equal(disk_info(d, &info), 0);
	assert_int_equal(info.format, DISK_FORMAT_QCOW2);
	assert_true(info.size == COPY_SIZE);
	assert_true(info.allocated > 0 && info.allocated <= 6 *
	    info.cluster_size);
	d->ops->close(d);

	memset(&opts, 0, sizeof opts);
	opts.format = DISK_FORMAT_RAW;
	if (disk_copy(mid, back, &opts, err, sizeof err) != 0)
		fail_msg("to raw: %s", err);

	a = copy_slurp(src, &alen, &ablocks);
	b = copy_slurp(back, &blen, &bblocks);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	/* Holes stay holes: no more blocks than the source's data needs. */
	assert_true((uint64_t)bblocks * 512 < COPY_SIZE / 2);
	free(a);
	free(b);
}

static void
test_copy_errors(void **state)
{
	struct disk_copy_opts	 opts;
	const char		*src = tpath("e-src.raw");
	const char		*dst = tpath("e-dst.raw");
	char			 err[512], want[256];

	(void)state;
	copy_make_source(src);
	memset(&opts, 0, sizeof opts);
	opts.format = DISK_FORMAT_RAW;

	/* A missing source: its error, and no destination made. */
	assert_int_equal(disk_copy(tpath("nosuch.raw"), dst, &opts, err,
	    sizeof err), -1);
	assert_false(opts.dst_failed);
	assert_non_null(strstr(err, "nosuch.raw"));
	assert_int_equal(access(dst, F_OK), -1);

	/* An existing destination is refused and left as it was. */
	assert_int_equal(disk_copy(src, dst, &opts, err, sizeof err), 0);
	assert_int_equal(disk_copy(src, dst, &opts, err, sizeof err), -1);
	assert_true(opts.dst_failed);
	snprintf(want, sizeof want, "%s: it already exists", dst);
	assert_string_equal(err, want);
	assert_int_equal(access(dst, F_OK), 0);

	/* A destination that cannot be made. */
	assert_int_equal(disk_copy(src, tpath("nodir/x.qcow2"), &opts, err,
	    sizeof err), -1);
	assert_true(opts.dst_failed);
	assert_non_null(strstr(err, "nodir/x.qcow2: "));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_header_extensions),
		cmocka_unit_test(test_table_entries),
		cmocka_unit_test(test_l2_entries),
		cmocka_unit_test(test_open_modes),
		cmocka_unit_test(test_chains),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_allocate_discard_zero),
		cmocka_unit_test(test_zero_keep),
		cmocka_unit_test(test_copy_up),
		cmocka_unit_test(test_compressed),
		cmocka_unit_test(test_refcount_growth),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_copy_round_trip),
		cmocka_unit_test(test_copy_errors),
		cmocka_unit_test(test_base_unrecorded_is_raw),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
