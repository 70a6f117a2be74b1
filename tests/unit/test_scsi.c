/*
 * Unit tests for vmm/hw/scsi.c: every command of the CD-ROM unit against
 * a temporary image of 10 blocks whose contents name their block, the
 * errors a guest can provoke (short CDBs, unknown opcodes, LBAs past the
 * end, huge transfer lengths, allocation lengths of 0 and short buffers,
 * a failing read), the sense data they leave and how it clears, the
 * power-on UNIT ATTENTION and the tray.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scsi.h"

#define NBLOCKS		10
#define BUFLEN		(4 * SCSI_CD_BLOCK)

static uint8_t	buf[BUFLEN + 64];
static size_t	dlen;

/* Block b: its number in the first 4 bytes (big-endian), then b + 1. */
static void
fill_block(uint8_t *p, uint32_t b)
{
	memset(p, b + 1, SCSI_CD_BLOCK);
	p[0] = b >> 24;
	p[1] = b >> 16;
	p[2] = b >> 8;
	p[3] = b;
}

static int
image(size_t extra)
{
	char	path[] = "/tmp/test_scsi.XXXXXX";
	uint8_t	blk[SCSI_CD_BLOCK];
	int	fd = mkstemp(path);
	int	b;

	assert_true(fd != -1);
	unlink(path);
	for (b = 0; b < NBLOCKS + (extra > 0); b++) {
		fill_block(blk, b);
		assert_int_equal(write(fd, blk, b < NBLOCKS ? sizeof blk :
		    extra), b < NBLOCKS ? sizeof blk : extra);
	}
	return fd;
}

/* A unit over a fresh image, past its power-on UNIT ATTENTION. */
static int
setup(void **state)
{
	static struct scsi_cd	cd;
	static const uint8_t	tur[6];

	assert_int_equal(scsi_cd_init(&cd, image(0),
	    NBLOCKS * SCSI_CD_BLOCK), 0);
	assert_int_equal(scsi_cd_exec(&cd, tur, 6, buf, BUFLEN, &dlen),
	    SCSI_CHECK_CONDITION);
	*state = &cd;
	return 0;
}

static int
teardown(void **state)
{
	struct scsi_cd	*cd = *state;

	close(cd->fd);
	return 0;
}

/* Run a CDB (in a heap block of its exact length, for ASan). */
static int
run(struct scsi_cd *cd, const uint8_t *cdb, size_t len, size_t maxlen)
{
	uint8_t	*copy = malloc(len > 0 ? len : 1);
	int	 st;

	assert_non_null(copy);
	memcpy(copy, cdb, len);
	memset(buf, 0xee, sizeof buf);
	st = scsi_cd_exec(cd, copy, len, buf, maxlen, &dlen);
	free(copy);
	assert_true(dlen <= maxlen);
	return st;
}

#define RUN(cd, maxlen, ...) ({						\
	const uint8_t	cdb_[] = { __VA_ARGS__ };			\
	run((cd), cdb_, sizeof cdb_, (maxlen));				\
})

static void
expect_sense(struct scsi_cd *cd, uint8_t key, uint8_t asc, uint8_t ascq)
{
	uint8_t	s[SCSI_SENSE_LEN];

	assert_int_equal(scsi_cd_sense(cd, s, sizeof s), SCSI_SENSE_LEN);
	assert_int_equal(s[0], 0x70);
	assert_int_equal(s[7], 10);
	assert_int_equal(s[2], key);
	assert_int_equal(s[12], asc);
	assert_int_equal(s[13], ascq);
}

static void
expect_fail(struct scsi_cd *cd, int st, uint8_t key, uint8_t asc,
    uint8_t ascq)
{
	assert_int_equal(st, SCSI_CHECK_CONDITION);
	assert_int_equal(dlen, 0);
	expect_sense(cd, key, asc, ascq);
}

/* The command fails with ILLEGAL REQUEST, INVALID FIELD IN CDB. */
#define expect_invalid(cd, ...)						\
	expect_fail((cd), RUN((cd), BUFLEN, __VA_ARGS__),		\
	    SCSI_SK_ILLEGAL_REQUEST, 0x24, 0)

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static uint16_t
be16(const uint8_t *p)
{
	return p[0] << 8 | p[1];
}

static void
test_unit_attention(void **state)
{
	struct scsi_cd	cd;
	int		fd = image(0);

	(void)state;
	assert_int_equal(scsi_cd_init(&cd, fd, NBLOCKS * SCSI_CD_BLOCK), 0);
	/* INQUIRY, REPORT LUNS, GET CONFIGURATION pass it by. */
	assert_int_equal(RUN(&cd, BUFLEN, 0x12, 0, 0, 0, 36, 0), SCSI_GOOD);
	assert_int_equal(RUN(&cd, BUFLEN, 0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 16,
	    0, 0), SCSI_GOOD);
	assert_int_equal(RUN(&cd, BUFLEN, 0x46, 0, 0, 0, 0, 0, 0, 0, 8, 0),
	    SCSI_GOOD);
	/* TEST UNIT READY reports it once (SeaBIOS retries). */
	expect_fail(&cd, RUN(&cd, BUFLEN, 0, 0, 0, 0, 0, 0),
	    SCSI_SK_UNIT_ATTENTION, 0x29, 0);
	assert_int_equal(RUN(&cd, BUFLEN, 0, 0, 0, 0, 0, 0), SCSI_GOOD);
	expect_sense(&cd, 0, 0, 0);

	/* REQUEST SENSE returns it and ends it. */
	assert_int_equal(scsi_cd_init(&cd, fd, NBLOCKS * SCSI_CD_BLOCK), 0);
	assert_int_equal(RUN(&cd, BUFLEN, 0x03, 0, 0, 0, 252, 0), SCSI_GOOD);
	assert_int_equal(dlen, SCSI_SENSE_LEN);
	assert_int_equal(buf[2], SCSI_SK_UNIT_ATTENTION);
	assert_int_equal(buf[12], 0x29);
	assert_int_equal(RUN(&cd, BUFLEN, 0, 0, 0, 0, 0, 0), SCSI_GOOD);

	/* Even an unknown opcode reports it first. */
	assert_int_equal(scsi_cd_init(&cd, fd, NBLOCKS * SCSI_CD_BLOCK), 0);
	expect_fail(&cd, RUN(&cd, BUFLEN, 0xff, 0, 0, 0, 0, 0),
	    SCSI_SK_UNIT_ATTENTION, 0x29, 0);
	expect_fail(&cd, RUN(&cd, BUFLEN, 0xff, 0, 0, 0, 0, 0),
	    SCSI_SK_ILLEGAL_REQUEST, 0x20, 0);
	close(fd);
}

static void
test_inquiry(void **state)
{
	struct scsi_cd	*cd = *state;

	assert_int_equal(RUN(cd, BUFLEN, 0x12, 0, 0, 0, 255, 0), SCSI_GOOD);
	assert_int_equal(dlen, 36);
	assert_int_equal(buf[0], 0x05);
	assert_int_equal(buf[1], 0x80);
	assert_int_equal(buf[2], 0x05);
	assert_int_equal(buf[4], 31);
	assert_memory_equal(buf + 8, "VMTOP   ", 8);
	assert_memory_equal(buf + 16, "VMTOP CD-ROM    ", 16);
	assert_memory_equal(buf + 32, "1.0 ", 4);
	assert_int_equal(buf[36], 0xee);
	/* Allocation length truncates, 0 transfers nothing. */
	assert_int_equal(RUN(cd, BUFLEN, 0x12, 0, 0, 0, 5, 0), SCSI_GOOD);
	assert_int_equal(dlen, 5);
	assert_int_equal(buf[5], 0xee);
	assert_int_equal(RUN(cd, BUFLEN, 0x12, 0, 0, 0, 0, 0), SCSI_GOOD);
	assert_int_equal(dlen, 0);
	assert_int_equal(buf[0], 0xee);
	/* A buffer smaller than the allocation length. */
	assert_int_equal(RUN(cd, 3, 0x12, 0, 0, 0, 36, 0), SCSI_GOOD);
	assert_int_equal(dlen, 3);
	assert_int_equal(buf[3], 0xee);
	/* VPD pages. */
	assert_int_equal(RUN(cd, BUFLEN, 0x12, 1, 0x00, 0, 255, 0), SCSI_GOOD);
	assert_int_equal(dlen, 7);
	assert_int_equal(buf[1], 0x00);
	assert_int_equal(be16(buf + 2), 3);
	assert_memory_equal(buf + 4, "\x00\x80\x83", 3);
	assert_int_equal(RUN(cd, BUFLEN, 0x12, 1, 0x80, 0, 255, 0), SCSI_GOOD);
	assert_int_equal(buf[1], 0x80);
	assert_int_equal(be16(buf + 2), strlen(cd->serial));
	assert_memory_equal(buf + 4, cd->serial, strlen(cd->serial));
	assert_int_equal(RUN(cd, BUFLEN, 0x12, 1, 0x83, 0, 255, 0), SCSI_GOOD);
	assert_int_equal(buf[1], 0x83);
	assert_int_equal(buf[5] & 0x0f, 1);
	assert_int_equal(buf[7], 8 + strlen(cd->serial));
	assert_int_equal(dlen, 4 + be16(buf + 2));
	assert_memory_equal(buf + 8, "VMTOP   ", 8);
	/* Bad pages and fields. */
	expect_invalid(cd, 0x12, 1, 0x81, 0, 255, 0);
	expect_invalid(cd, 0x12, 0, 0x80, 0, 255, 0);
	expect_invalid(cd, 0x12, 2, 0, 0, 255, 0);
}

static void
test_read_capacity(void **state)
{
	struct scsi_cd	*cd = *state;

	assert_int_equal(RUN(cd, BUFLEN, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0),
	    SCSI_GOOD);
	assert_int_equal(dlen, 8);
	assert_int_equal(be32(buf), NBLOCKS - 1);
	assert_int_equal(be32(buf + 4), SCSI_CD_BLOCK);
	assert_int_equal(RUN(cd, BUFLEN, 0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 32, 0, 0), SCSI_GOOD);
	assert_int_equal(dlen, 32);
	assert_int_equal(be32(buf), 0);
	assert_int_equal(be32(buf + 4), NBLOCKS - 1);
	assert_int_equal(be32(buf + 8), SCSI_CD_BLOCK);
	expect_invalid(cd, 0x9e, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0,
	    0);
}

static void
expect_blocks(uint32_t first, uint32_t n)
{
	uint8_t		blk[SCSI_CD_BLOCK];
	uint32_t	i;

	assert_int_equal(dlen, n * SCSI_CD_BLOCK);
	for (i = 0; i < n; i++) {
		fill_block(blk, first + i);
		assert_memory_equal(buf + i * SCSI_CD_BLOCK, blk, sizeof blk);
	}
}

static void
test_read(void **state)
{
	struct scsi_cd	*cd = *state;

	assert_int_equal(RUN(cd, BUFLEN, 0x28, 0, 0, 0, 0, 3, 0, 0, 2, 0),
	    SCSI_GOOD);
	expect_blocks(3, 2);
	assert_int_equal(buf[2 * SCSI_CD_BLOCK], 0xee);
	assert_int_equal(RUN(cd, BUFLEN, 0xa8, 0, 0, 0, 0, 9, 0, 0, 0, 1,
	    0, 0), SCSI_GOOD);
	expect_blocks(9, 1);
	assert_int_equal(RUN(cd, BUFLEN, 0x88, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 4, 0, 0), SCSI_GOOD);
	expect_blocks(0, 4);
	assert_int_equal(RUN(cd, BUFLEN, 0x08, 0, 0, 7, 3, 0), SCSI_GOOD);
	expect_blocks(7, 3);
	/* Nothing to transfer. */
	assert_int_equal(RUN(cd, BUFLEN, 0x28, 0, 0, 0, 0, 10, 0, 0, 0, 0),
	    SCSI_GOOD);
	assert_int_equal(dlen, 0);
	/* Past the end. */
	expect_fail(cd, RUN(cd, BUFLEN, 0x28, 0, 0, 0, 0, 10, 0, 0, 1, 0),
	    SCSI_SK_ILLEGAL_REQUEST, 0x21, 0);
	expect_fail(cd, RUN(cd, BUFLEN, 0x28, 0, 0, 0, 0, 9, 0, 0, 2, 0),
	    SCSI_SK_ILLEGAL_REQUEST, 0x21, 0);
	expect_fail(cd, RUN(cd, BUFLEN, 0x28, 0, 0xff, 0xff, 0xff, 0xff, 0,
	    0, 1, 0), SCSI_SK_ILLEGAL_REQUEST, 0x21, 0);
	expect_fail(cd, RUN(cd, BUFLEN, 0xa8, 0, 0, 0, 0, 1, 0xff, 0xff,
	    0xff, 0xff, 0, 0), SCSI_SK_ILLEGAL_REQUEST, 0x21, 0);
	expect_fail(cd, RUN(cd, BUFLEN, 0x88, 0, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2, 0, 0),
	    SCSI_SK_ILLEGAL_REQUEST, 0x21, 0);
	expect_fail(cd, RUN(cd, BUFLEN, 0x08, 0, 0, 0, 0, 0),
	    SCSI_SK_ILLEGAL_REQUEST, 0x21, 0);	/* 0 blocks is 256 */
	/* A buffer smaller than the transfer gets its first bytes. */
	assert_int_equal(RUN(cd, 3000, 0x28, 0, 0, 0, 0, 2, 0, 0, 5, 0),
	    SCSI_GOOD);
	assert_int_equal(dlen, 3000);
	assert_int_equal(be32(buf), 2);
	assert_int_equal(be32(buf + SCSI_CD_BLOCK), 3);
	assert_int_equal(buf[3000], 0xee);
}

static void
test_read_padded(void **state)
{
	struct scsi_cd	cd;
	int		fd = image(100);
	size_t		i;

	(void)state;
	assert_int_equal(scsi_cd_init(&cd, fd, NBLOCKS * SCSI_CD_BLOCK + 100),
	    0);
	assert_int_equal(cd.nblocks, NBLOCKS + 1);
	cd.ua_pending = 0;
	assert_int_equal(RUN(&cd, BUFLEN, 0x28, 0, 0, 0, 0, 10, 0, 0, 1, 0),
	    SCSI_GOOD);
	assert_int_equal(dlen, SCSI_CD_BLOCK);
	assert_int_equal(be32(buf), 10);
	for (i = 4; i < 100; i++)
		assert_int_equal(buf[i], 11);
	for (; i < SCSI_CD_BLOCK; i++)
		assert_int_equal(buf[i], 0);
	close(fd);
}

static void
test_medium_error(void **state)
{
	struct scsi_cd	cd;
	int		fd = open("/tmp", O_RDONLY | O_DIRECTORY);

	(void)state;
	assert_true(fd != -1);
	assert_int_equal(scsi_cd_init(&cd, fd, NBLOCKS * SCSI_CD_BLOCK), 0);
	cd.ua_pending = 0;
	expect_fail(&cd, RUN(&cd, BUFLEN, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0),
	    SCSI_SK_MEDIUM_ERROR, 0x11, 0);
	close(fd);
}

static void
test_mode_sense(void **state)
{
	struct scsi_cd	*cd = *state;
	size_t		 i;

	assert_int_equal(RUN(cd, BUFLEN, 0x5a, 0x08, 0x2a, 0, 0, 0, 0, 0,
	    255, 0), SCSI_GOOD);
	assert_int_equal(dlen, 8 + 22);
	assert_int_equal(be16(buf), dlen - 2);
	assert_int_equal(be16(buf + 6), 0);	/* no block descriptors */
	assert_int_equal(buf[8], 0x2a);
	assert_int_equal(buf[9], 20);
	assert_true(buf[10] & 0x08);		/* DVD-ROM read */
	assert_int_equal(buf[14] & 0x02, 0);	/* not locked */
	assert_int_equal(be16(buf + 8 + 8), 8 * 176);
	/* All pages, in order, in MODE SENSE(6). */
	assert_int_equal(RUN(cd, BUFLEN, 0x1a, 0, 0x3f, 0, 255, 0), SCSI_GOOD);
	assert_int_equal(dlen, 4 + 12 + 22);
	assert_int_equal(buf[0], dlen - 1);
	assert_int_equal(buf[3], 0);
	assert_int_equal(buf[4], 0x01);
	assert_int_equal(buf[5], 10);
	assert_int_equal(buf[16], 0x2a);
	/* Changeable values: none. */
	assert_int_equal(RUN(cd, BUFLEN, 0x1a, 0, 0x40 | 0x2a, 0, 255, 0),
	    SCSI_GOOD);
	for (i = 6; i < dlen; i++)
		assert_int_equal(buf[i], 0);
	/* Truncated by the allocation length. */
	assert_int_equal(RUN(cd, BUFLEN, 0x1a, 0, 0x2a, 0, 6, 0), SCSI_GOOD);
	assert_int_equal(dlen, 6);
	assert_int_equal(buf[0], 25);
	/* Unknown page, saved values, a subpage. */
	expect_invalid(cd, 0x1a, 0, 0x05, 0, 255, 0);
	expect_fail(cd, RUN(cd, BUFLEN, 0x1a, 0, 0xc0 | 0x2a, 0, 255, 0),
	    SCSI_SK_ILLEGAL_REQUEST, 0x39, 0);
	expect_invalid(cd, 0x5a, 0, 0x2a, 1, 0, 0, 0, 0, 255, 0);
}

static void
gesn(struct scsi_cd *cd, uint8_t event, uint8_t status)
{
	assert_int_equal(RUN(cd, BUFLEN, 0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8, 0),
	    SCSI_GOOD);
	assert_int_equal(dlen, 8);
	assert_int_equal(be16(buf), 6);
	assert_int_equal(buf[2], 0x04);
	assert_int_equal(buf[3], 0x10);
	assert_int_equal(buf[4], event);
	assert_int_equal(buf[5], status);
}

static void
test_tray(void **state)
{
	struct scsi_cd	*cd = *state;

	gesn(cd, 0, 0x02);
	/* Locked: eject fails, and MODE SENSE says so. */
	assert_int_equal(RUN(cd, BUFLEN, 0x1e, 0, 0, 0, 1, 0), SCSI_GOOD);
	assert_int_equal(RUN(cd, BUFLEN, 0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 255,
	    0), SCSI_GOOD);
	assert_true(buf[8 + 6] & 0x02);
	expect_fail(cd, RUN(cd, BUFLEN, 0x1b, 0, 0, 0, 0x02, 0),
	    SCSI_SK_ILLEGAL_REQUEST, 0x53, 0x02);
	/* Unlocked: eject, and the medium is gone. */
	assert_int_equal(RUN(cd, BUFLEN, 0x1e, 0, 0, 0, 0, 0), SCSI_GOOD);
	assert_int_equal(RUN(cd, BUFLEN, 0x1b, 0, 0, 0, 0x02, 0), SCSI_GOOD);
	expect_fail(cd, RUN(cd, BUFLEN, 0, 0, 0, 0, 0, 0),
	    SCSI_SK_NOT_READY, 0x3a, 0x02);
	expect_fail(cd, RUN(cd, BUFLEN, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0),
	    SCSI_SK_NOT_READY, 0x3a, 0x02);
	gesn(cd, 3, 0x01);
	gesn(cd, 0, 0x01);
	assert_int_equal(RUN(cd, BUFLEN, 0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8,
	    0, 0), SCSI_GOOD);
	assert_int_equal(dlen, 8);
	assert_int_equal(buf[1], 0x10);
	assert_int_equal(RUN(cd, BUFLEN, 0x46, 0, 0, 0, 0, 0, 0, 0, 8, 0),
	    SCSI_GOOD);
	assert_int_equal(be16(buf + 6), 0);	/* no profile */
	/* Load, and it is back. */
	assert_int_equal(RUN(cd, BUFLEN, 0x1b, 0, 0, 0, 0x03, 0), SCSI_GOOD);
	gesn(cd, 2, 0x02);
	assert_int_equal(RUN(cd, BUFLEN, 0, 0, 0, 0, 0, 0), SCSI_GOOD);
	assert_int_equal(RUN(cd, BUFLEN, 0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8,
	    0, 0), SCSI_GOOD);
	assert_int_equal(buf[1], 0);
	/* Start and stop alone change nothing. */
	assert_int_equal(RUN(cd, BUFLEN, 0x1b, 0, 0, 0, 0x00, 0), SCSI_GOOD);
	assert_int_equal(RUN(cd, BUFLEN, 0, 0, 0, 0, 0, 0), SCSI_GOOD);
	/* Not polled, and no media class asked for. */
	expect_invalid(cd, 0x4a, 0, 0, 0, 0x10, 0, 0, 0, 8, 0);
	assert_int_equal(RUN(cd, BUFLEN, 0x4a, 1, 0, 0, 0x02, 0, 0, 0, 8, 0),
	    SCSI_GOOD);
	assert_int_equal(dlen, 4);
	assert_int_equal(buf[2], 0x80);
}

/* The feature descriptor for code in a GET CONFIGURATION reply. */
static const uint8_t *
find_feature(uint16_t code)
{
	size_t	off = 8, end = 4 + be32(buf);

	assert_true(end <= dlen);
	while (off + 4 <= end) {
		if (be16(buf + off) == code)
			return buf + off;
		off += 4 + buf[off + 3];
	}
	return NULL;
}

static void
test_get_configuration(void **state)
{
	struct scsi_cd	*cd = *state, big;
	const uint8_t	*f;
	int		 fd;

	assert_int_equal(RUN(cd, BUFLEN, 0x46, 0, 0, 0, 0, 0, 0, 1, 0, 0),
	    SCSI_GOOD);
	assert_int_equal(be16(buf + 6), 0x0008);
	assert_non_null(f = find_feature(0x0000));
	assert_int_equal(be16(f + 4), 0x0010);
	assert_int_equal(f[6] & 1, 0);
	assert_int_equal(be16(f + 8), 0x0008);
	assert_int_equal(f[10] & 1, 1);
	assert_non_null(f = find_feature(0x0010));
	assert_int_equal(be32(f + 4), SCSI_CD_BLOCK);
	assert_non_null(find_feature(0x001f));
	/* Current ones only: not DVD read. */
	assert_int_equal(RUN(cd, BUFLEN, 0x46, 1, 0, 0, 0, 0, 0, 1, 0, 0),
	    SCSI_GOOD);
	assert_non_null(find_feature(0x001e));
	assert_null(find_feature(0x001f));
	/* One feature. */
	assert_int_equal(RUN(cd, BUFLEN, 0x46, 2, 0, 0x10, 0, 0, 0, 1, 0, 0),
	    SCSI_GOOD);
	assert_int_equal(dlen, 8 + 12);
	assert_int_equal(be16(buf + 8), 0x0010);
	/* Header only, and a reserved RT. */
	assert_int_equal(RUN(cd, BUFLEN, 0x46, 0, 0, 0, 0, 0, 0, 0, 8, 0),
	    SCSI_GOOD);
	assert_int_equal(dlen, 8);
	assert_true(be32(buf) > 4);
	expect_invalid(cd, 0x46, 3, 0, 0, 0, 0, 0, 1, 0, 0);

	/* An image larger than a CD is a DVD-ROM. */
	fd = image(0);
	assert_int_equal(ftruncate(fd, 1ULL << 30), 0);
	assert_int_equal(scsi_cd_init(&big, fd, 1ULL << 30), 0);
	assert_int_equal(RUN(&big, BUFLEN, 0x46, 1, 0, 0, 0, 0, 0, 1, 0, 0),
	    SCSI_GOOD);
	assert_int_equal(be16(buf + 6), 0x0010);
	assert_non_null(find_feature(0x001f));
	assert_null(find_feature(0x001e));
	close(fd);
}

static void
test_read_toc(void **state)
{
	struct scsi_cd	*cd = *state;

	assert_int_equal(RUN(cd, BUFLEN, 0x43, 0, 0, 0, 0, 0, 0, 0, 255, 0),
	    SCSI_GOOD);
	assert_int_equal(dlen, 20);
	assert_int_equal(be16(buf), 18);
	assert_int_equal(buf[2], 1);
	assert_int_equal(buf[3], 1);
	assert_int_equal(buf[5], 0x14);
	assert_int_equal(buf[6], 1);
	assert_int_equal(be32(buf + 8), 0);
	assert_int_equal(buf[14], 0xaa);
	assert_int_equal(be32(buf + 16), NBLOCKS);
	/* MSF: 10 + 150 frames is 00:02:10. */
	assert_int_equal(RUN(cd, BUFLEN, 0x43, 2, 0, 0, 0, 0, 0xaa, 0, 255, 0),
	    SCSI_GOOD);
	assert_int_equal(dlen, 12);
	assert_int_equal(buf[6], 0xaa);
	assert_memory_equal(buf + 8, "\x00\x00\x02\x0a", 4);
	/* Session information. */
	assert_int_equal(RUN(cd, BUFLEN, 0x43, 0, 1, 0, 0, 0, 0, 0, 255, 0),
	    SCSI_GOOD);
	assert_int_equal(dlen, 12);
	assert_int_equal(be16(buf), 10);
	assert_int_equal(buf[6], 1);
	/* Truncated; bad track; bad format. */
	assert_int_equal(RUN(cd, BUFLEN, 0x43, 0, 0, 0, 0, 0, 0, 0, 4, 0),
	    SCSI_GOOD);
	assert_int_equal(dlen, 4);
	expect_invalid(cd, 0x43, 0, 0, 0, 0, 0, 2, 0, 255, 0);
	expect_invalid(cd, 0x43, 0, 5, 0, 0, 0, 0, 0, 255, 0);
}

static void
test_disc_track_luns(void **state)
{
	struct scsi_cd	*cd = *state;

	assert_int_equal(RUN(cd, BUFLEN, 0x51, 0, 0, 0, 0, 0, 0, 0, 255, 0),
	    SCSI_GOOD);
	assert_int_equal(dlen, 34);
	assert_int_equal(be16(buf), 32);
	assert_int_equal(buf[2] & 0x03, 0x02);	/* complete */
	assert_int_equal(buf[3], 1);
	expect_invalid(cd, 0x51, 1, 0, 0, 0, 0, 0, 0, 255, 0);

	assert_int_equal(RUN(cd, BUFLEN, 0x52, 1, 0, 0, 0, 1, 0, 0, 255, 0),
	    SCSI_GOOD);
	assert_int_equal(dlen, 36);
	assert_int_equal(buf[2], 1);
	assert_int_equal(be32(buf + 8), 0);
	assert_int_equal(be32(buf + 24), NBLOCKS);
	assert_int_equal(RUN(cd, BUFLEN, 0x52, 0, 0, 0, 0, 9, 0, 0, 255, 0),
	    SCSI_GOOD);
	expect_invalid(cd, 0x52, 0, 0, 0, 0, 10, 0, 0, 255, 0);
	expect_invalid(cd, 0x52, 1, 0, 0, 0, 2, 0, 0, 255, 0);

	/* REPORT LUNS as SeaBIOS asks it: one LUN, LUN 0. */
	assert_int_equal(RUN(cd, BUFLEN, 0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 16,
	    0, 0), SCSI_GOOD);
	assert_int_equal(dlen, 16);
	assert_int_equal(be32(buf), 8);
	assert_memory_equal(buf + 8, "\0\0\0\0\0\0\0\0", 8);
	expect_invalid(cd, 0xa0, 0, 3, 0, 0, 0, 0, 0, 0, 16, 0, 0);

	assert_int_equal(RUN(cd, BUFLEN, 0xbb, 0, 0xff, 0xff, 0xff, 0xff, 0,
	    0, 0, 0, 0, 0), SCSI_GOOD);
	assert_int_equal(dlen, 0);
}

static void
test_bad_cdbs(void **state)
{
	struct scsi_cd	*cd = *state;

	expect_fail(cd, run(cd, (const uint8_t *)"", 0, BUFLEN),
	    SCSI_SK_ILLEGAL_REQUEST, 0x24, 0);
	/* WRITE(10): not a CD-ROM command. */
	expect_fail(cd, RUN(cd, BUFLEN, 0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0),
	    SCSI_SK_ILLEGAL_REQUEST, 0x20, 0);
	/* Short CDBs, each a byte short of its group. */
	expect_invalid(cd, 0x28, 0, 0, 0, 0, 0, 0, 0, 1);
	expect_invalid(cd, 0x12, 0, 0, 0, 36);
	expect_invalid(cd, 0xa8, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	expect_invalid(cd, 0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0);
	expect_invalid(cd, 0x00);
	/* A longer CDB than the group's is fine. */
	assert_int_equal(RUN(cd, BUFLEN, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 0, 0), SCSI_GOOD);
}

static void
test_sense_clears(void **state)
{
	struct scsi_cd	*cd = *state;

	expect_fail(cd, RUN(cd, BUFLEN, 0x28, 0, 0, 0, 0, 99, 0, 0, 1, 0),
	    SCSI_SK_ILLEGAL_REQUEST, 0x21, 0);
	assert_int_equal(RUN(cd, BUFLEN, 0x03, 0, 0, 0, 18, 0), SCSI_GOOD);
	assert_int_equal(dlen, 18);
	assert_int_equal(buf[0], 0x70);
	assert_int_equal(buf[2], SCSI_SK_ILLEGAL_REQUEST);
	assert_int_equal(buf[12], 0x21);
	/* Read once, it is gone. */
	assert_int_equal(RUN(cd, BUFLEN, 0x03, 0, 0, 0, 18, 0), SCSI_GOOD);
	assert_int_equal(buf[2], 0);
	assert_int_equal(buf[12], 0);
	/* A good command clears it too. */
	expect_fail(cd, RUN(cd, BUFLEN, 0xff, 0, 0, 0, 0, 0),
	    SCSI_SK_ILLEGAL_REQUEST, 0x20, 0);
	assert_int_equal(RUN(cd, BUFLEN, 0, 0, 0, 0, 0, 0), SCSI_GOOD);
	expect_sense(cd, 0, 0, 0);
	/* Truncated sense; descriptor format is not offered. */
	assert_int_equal(RUN(cd, BUFLEN, 0x03, 0, 0, 0, 8, 0), SCSI_GOOD);
	assert_int_equal(dlen, 8);
	expect_invalid(cd, 0x03, 1, 0, 0, 18, 0);
	assert_int_equal(scsi_cd_sense(cd, buf, 4), 4);
}

static void
test_empty_and_change(void **state)
{
	struct scsi_cd	cd;
	int		fd;

	(void)state;
	assert_int_equal(scsi_cd_init(&cd, -1, 100), -1);
	assert_int_equal(scsi_cd_init(&cd, -1, 0), 0);
	expect_fail(&cd, RUN(&cd, BUFLEN, 0, 0, 0, 0, 0, 0),
	    SCSI_SK_UNIT_ATTENTION, 0x29, 0);
	expect_fail(&cd, RUN(&cd, BUFLEN, 0, 0, 0, 0, 0, 0),
	    SCSI_SK_NOT_READY, 0x3a, 0x01);
	expect_fail(&cd, RUN(&cd, BUFLEN, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0),
	    SCSI_SK_NOT_READY, 0x3a, 0x01);
	expect_fail(&cd, RUN(&cd, BUFLEN, 0x43, 0, 0, 0, 0, 0, 0, 0, 255, 0),
	    SCSI_SK_NOT_READY, 0x3a, 0x01);
	assert_int_equal(RUN(&cd, BUFLEN, 0x12, 0, 0, 0, 36, 0), SCSI_GOOD);
	gesn(&cd, 0, 0);

	/* The host inserts an image. */
	fd = image(0);
	scsi_cd_change(&cd, fd, NBLOCKS * SCSI_CD_BLOCK);
	gesn(&cd, 2, 0x02);
	expect_fail(&cd, RUN(&cd, BUFLEN, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0),
	    SCSI_SK_UNIT_ATTENTION, 0x28, 0);
	assert_int_equal(RUN(&cd, BUFLEN, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0),
	    SCSI_GOOD);
	assert_int_equal(be32(buf), NBLOCKS - 1);
	/* And takes it out. */
	scsi_cd_change(&cd, -1, 0);
	gesn(&cd, 3, 0);
	expect_fail(&cd, RUN(&cd, BUFLEN, 0, 0, 0, 0, 0, 0),
	    SCSI_SK_UNIT_ATTENTION, 0x28, 0);
	expect_fail(&cd, RUN(&cd, BUFLEN, 0, 0, 0, 0, 0, 0),
	    SCSI_SK_NOT_READY, 0x3a, 0x01);
	close(fd);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unit_attention),
		T(test_inquiry),
		T(test_read_capacity),
		T(test_read),
		cmocka_unit_test(test_read_padded),
		cmocka_unit_test(test_medium_error),
		T(test_mode_sense),
		T(test_tray),
		T(test_get_configuration),
		T(test_read_toc),
		T(test_disc_track_luns),
		T(test_bad_cdbs),
		T(test_sense_clears),
		cmocka_unit_test(test_empty_and_change),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
