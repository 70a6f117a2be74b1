/*
 * A SCSI/MMC CD-ROM drive (SPC-3, MMC-5 subset) over an ISO image. The
 * commands are a table of handlers; the transport (virtio-scsi) hands
 * over a CDB and a data-in buffer and takes back a status and sense.
 * Everything the guest controls is checked here: the CDB's length
 * against its opcode group, LBAs against the image, every response
 * against its allocation length and the buffer.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "scsi.h"

/* Opcodes. */
#define TEST_UNIT_READY		0x00
#define REQUEST_SENSE		0x03
#define READ_6			0x08
#define INQUIRY			0x12
#define MODE_SENSE_6		0x1a
#define START_STOP_UNIT		0x1b
#define PREVENT_ALLOW		0x1e
#define READ_CAPACITY_10	0x25
#define READ_10			0x28
#define READ_TOC		0x43
#define GET_CONFIGURATION	0x46
#define GET_EVENT_STATUS	0x4a
#define READ_DISC_INFO		0x51
#define READ_TRACK_INFO		0x52
#define MODE_SENSE_10		0x5a
#define READ_16			0x88
#define SERVICE_ACTION_IN_16	0x9e
#define REPORT_LUNS		0xa0
#define READ_12			0xa8
#define SET_CD_SPEED		0xbb
#define MECHANISM_STATUS	0xbd

#define SAI_READ_CAPACITY_16	0x10

/* Additional sense codes (ASC << 8 | ASCQ). */
#define ASC_NONE		0x0000
#define ASC_UNRECOVERED_READ	0x1100
#define ASC_INVALID_OPCODE	0x2000
#define ASC_LBA_OUT_OF_RANGE	0x2100
#define ASC_INVALID_FIELD	0x2400
#define ASC_MEDIUM_CHANGED	0x2800
#define ASC_POWER_ON		0x2900
#define ASC_SAVING_PARAMS	0x3900
#define ASC_NO_MEDIUM_CLOSED	0x3a01
#define ASC_NO_MEDIUM_OPEN	0x3a02
#define ASC_REMOVAL_PREVENTED	0x5302

/* MMC profiles; a larger image than a CD holds is a DVD. */
#define PROFILE_NONE		0x0000
#define PROFILE_CD_ROM		0x0008
#define PROFILE_DVD_ROM		0x0010
#define CD_MAX_BLOCKS		(80 * 60 * 75)

/* GET EVENT STATUS NOTIFICATION media event codes. */
#define MEDIA_EV_NONE		0
#define MEDIA_EV_NEW		2
#define MEDIA_EV_REMOVAL	3

#define CD_SPEED_KBS		(8 * 176)	/* 8x */

#define CMD_NO_UA		0x01	/* answered despite a UNIT ATTENTION */
#define CMD_MEDIUM		0x02	/* needs a medium in a closed tray */

struct reply {
	uint8_t	*data;
	size_t	 maxlen;
	size_t	 len;
};

struct scsi_cmd {
	uint8_t	  op;
	uint8_t	  flags;
	int	(*exec)(struct scsi_cd *, const uint8_t *, struct reply *);
};

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, v >> 32);
	put32(p + 4, v);
}

static uint64_t
blocks(uint64_t size_bytes)
{
	return size_bytes / SCSI_CD_BLOCK + (size_bytes % SCSI_CD_BLOCK != 0);
}

static int
medium(const struct scsi_cd *cd)
{
	return cd->fd >= 0 && cd->nblocks > 0 && !cd->tray_open;
}

static int
check(struct scsi_cd *cd, uint8_t key, uint16_t asc)
{
	cd->sense_key = key;
	cd->asc = asc >> 8;
	cd->ascq = asc;
	return SCSI_CHECK_CONDITION;
}

static int
invalid_field(struct scsi_cd *cd)
{
	return check(cd, SCSI_SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
}

/* Data-in: len bytes of buf, cut to the allocation length and buffer. */
static int
reply(struct reply *r, const uint8_t *buf, size_t len, size_t alloc)
{
	if (len > alloc)
		len = alloc;
	if (len > r->maxlen)
		len = r->maxlen;
	memcpy(r->data, buf, len);
	r->len = len;
	return SCSI_GOOD;
}

static void
sense_fixed(uint8_t *p, uint8_t key, uint8_t asc, uint8_t ascq)
{
	memset(p, 0, SCSI_SENSE_LEN);
	p[0] = 0x70;			/* current error, fixed format */
	p[2] = key;
	p[7] = SCSI_SENSE_LEN - 8;
	p[12] = asc;
	p[13] = ascq;
}

static int
cmd_ok(struct scsi_cd *cd, const uint8_t *cdb, struct reply *r)
{
	(void)cd;
	(void)cdb;
	(void)r;
	return SCSI_GOOD;
}

/* A pending UNIT ATTENTION is the sense to report, and ends there. */
static int
cmd_request_sense(struct scsi_cd *cd, const uint8_t *cdb, struct reply *r)
{
	uint8_t	buf[SCSI_SENSE_LEN];

	if (cdb[1] & 0x01)		/* DESC: descriptor format */
		return invalid_field(cd);
	if (cd->ua_pending) {
		sense_fixed(buf, SCSI_SK_UNIT_ATTENTION, cd->ua_asc,
		    cd->ua_ascq);
		cd->ua_pending = 0;
	} else
		sense_fixed(buf, cd->sense_key, cd->asc, cd->ascq);
	cd->sense_key = cd->asc = cd->ascq = 0;
	return reply(r, buf, sizeof buf, cdb[4]);
}

static int
inquiry_vpd(struct scsi_cd *cd, uint8_t page, struct reply *r, size_t alloc)
{
	uint8_t	buf[64];
	size_t	n, slen = strnlen(cd->serial, sizeof cd->serial - 1);

	memset(buf, 0, sizeof buf);
	buf[0] = 0x05;
	buf[1] = page;
	switch (page) {
	case 0x00:			/* supported pages */
		buf[4] = 0x00;
		buf[5] = 0x80;
		buf[6] = 0x83;
		n = 7;
		break;
	case 0x80:			/* unit serial number */
		memcpy(buf + 4, cd->serial, slen);
		n = 4 + slen;
		break;
	case 0x83:			/* device identification: T10 vendor */
		buf[4] = 0x02;		/* ASCII */
		buf[5] = 0x01;		/* T10 vendor ID, LUN association */
		buf[7] = 8 + slen;
		memcpy(buf + 8, "VMTOP   ", 8);
		memcpy(buf + 16, cd->serial, slen);
		n = 16 + slen;
		break;
	default:
		return invalid_field(cd);
	}
	put16(buf + 2, n - 4);
	return reply(r, buf, n, alloc);
}

static int
cmd_inquiry(struct scsi_cd *cd, const uint8_t *cdb, struct reply *r)
{
	uint8_t	buf[36];
	size_t	alloc = get16(cdb + 3);

	if (cdb[1] & 0x02)		/* CmdDt */
		return invalid_field(cd);
	if (cdb[1] & 0x01)
		return inquiry_vpd(cd, cdb[2], r, alloc);
	if (cdb[2] != 0)
		return invalid_field(cd);
	memset(buf, 0, sizeof buf);
	buf[0] = 0x05;			/* CD/DVD, connected */
	buf[1] = 0x80;			/* removable */
	buf[2] = 0x05;			/* SPC-3 */
	buf[3] = 0x02;			/* response data format */
	buf[4] = sizeof buf - 5;
	memcpy(buf + 8, "VMTOP   ", 8);
	memcpy(buf + 16, "VMTOP CD-ROM    ", 16);
	memcpy(buf + 32, "1.0 ", 4);
	return reply(r, buf, sizeof buf, alloc);
}

static int
cmd_read_capacity(struct scsi_cd *cd, const uint8_t *cdb, struct reply *r)
{
	uint8_t		buf[8];
	uint64_t	last = cd->nblocks - 1;

	(void)cdb;
	put32(buf, last > UINT32_MAX ? UINT32_MAX : last);
	put32(buf + 4, SCSI_CD_BLOCK);
	return reply(r, buf, sizeof buf, sizeof buf);
}

static int
cmd_service_action_in(struct scsi_cd *cd, const uint8_t *cdb,
    struct reply *r)
{
	uint8_t	buf[32];

	if ((cdb[1] & 0x1f) != SAI_READ_CAPACITY_16)
		return invalid_field(cd);
	memset(buf, 0, sizeof buf);
	put64(buf, cd->nblocks - 1);
	put32(buf + 8, SCSI_CD_BLOCK);
	return reply(r, buf, sizeof buf, get32(cdb + 10));
}

/* Read count blocks at lba, at most r->maxlen bytes of them. */
static int
cd_read(struct scsi_cd *cd, uint64_t lba, uint64_t count, struct reply *r)
{
	uint64_t	want, done = 0;
	ssize_t		n;

	if (lba > cd->nblocks || count > cd->nblocks - lba)
		return check(cd, SCSI_SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	want = count * SCSI_CD_BLOCK;
	if (want > r->maxlen)
		want = r->maxlen;
	while (done < want) {
		n = pread(cd->fd, r->data + done, want - done,
		    (off_t)(lba * SCSI_CD_BLOCK + done));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return check(cd, SCSI_SK_MEDIUM_ERROR,
			    ASC_UNRECOVERED_READ);
		if (n == 0) {		/* the padding of the last block */
			memset(r->data + done, 0, want - done);
			break;
		}
		done += n;
	}
	r->len = want;
	return SCSI_GOOD;
}

static int
cmd_read_6(struct scsi_cd *cd, const uint8_t *cdb, struct reply *r)
{
	uint32_t	lba = (cdb[1] & 0x1f) << 16 | get16(cdb + 2);

	return cd_read(cd, lba, cdb[4] == 0 ? 256 : cdb[4], r);
}

static int
cmd_read_10(struct scsi_cd *cd, const uint8_t *cdb, struct reply *r)
{
	return cd_read(cd, get32(cdb + 2), get16(cdb + 7), r);
}

static int
cmd_read_12(struct scsi_cd *cd, const uint8_t *cdb, struct reply *r)
{
	return cd_read(cd, get32(cdb + 2), get32(cdb + 6), r);
}

static int
cmd_read_16(struct scsi_cd *cd, const uint8_t *cdb, struct reply *r)
{
	uint64_t	lba = (uint64_t)get32(cdb + 2) << 32 | get32(cdb + 6);

	return cd_read(cd, lba, get32(cdb + 10), r);
}

/* One mode page at p (current or changeable values); 0 if unknown. */
static size_t
mode_page(const struct scsi_cd *cd, uint8_t page, int changeable,
    uint8_t *p)
{
	size_t	len;

	switch (page) {
	case 0x01:			/* read/write error recovery */
		len = 12;
		memset(p, 0, len);
		if (!changeable)
			p[3] = 5;	/* read retry count */
		break;
	case 0x2a:			/* CD/DVD capabilities (MMC-3) */
		len = 22;
		memset(p, 0, len);
		if (changeable)
			break;
		p[2] = 0x3b;		/* reads CD-R/RW, DVD-ROM/R/RAM */
		p[4] = 0x40;		/* multi-session */
		p[6] = 0x29 | (cd->prevent ? 0x02 : 0); /* tray, eject, lock */
		put16(p + 8, CD_SPEED_KBS);
		put16(p + 10, 256);	/* volume levels */
		put16(p + 12, 2048);	/* buffer, KiB */
		put16(p + 14, CD_SPEED_KBS);
		break;
	default:
		return 0;
	}
	p[0] = page;
	p[1] = len - 2;
	return len;
}

static int
mode_sense(struct scsi_cd *cd, const uint8_t *cdb, struct reply *r,
    size_t hdr, size_t alloc)
{
	static const uint8_t	 all[] = { 0x01, 0x2a };
	uint8_t			 buf[128];
	uint8_t			 pc = cdb[2] >> 6, page = cdb[2] & 0x3f;
	size_t			 i, n, len = hdr;

	if (pc == 3)
		return check(cd, SCSI_SK_ILLEGAL_REQUEST, ASC_SAVING_PARAMS);
	if (cdb[3] != 0)		/* subpage */
		return invalid_field(cd);
	memset(buf, 0, hdr);
	if (page == 0x3f) {
		for (i = 0; i < sizeof all; i++)
			len += mode_page(cd, all[i], pc == 1, buf + len);
	} else {
		if ((n = mode_page(cd, page, pc == 1, buf + len)) == 0)
			return invalid_field(cd);
		len += n;
	}
	if (hdr == 8)
		put16(buf, len - 2);
	else
		buf[0] = len - 1;
	return reply(r, buf, len, alloc);
}

static int
cmd_mode_sense_6(struct scsi_cd *cd, const uint8_t *cdb, struct reply *r)
{
	return mode_sense(cd, cdb, r, 4, cdb[4]);
}

static int
cmd_mode_sense_10(struct scsi_cd *cd, const uint8_t *cdb, struct reply *r)
{
	return mode_sense(cd, cdb, r, 8, get16(cdb + 7));
}

/* LoEj opens the tray (unless prevented) or closes it again. */
static int
cmd_start_stop(struct scsi_cd *cd, const uint8_t *cdb, struct reply *r)
{
	int	start = cdb[4] & 0x01, loej = cdb[4] & 0x02;

	(void)r;
	if (!loej || (cdb[4] >> 4) != 0)
		return SCSI_GOOD;
	if (start) {
		if (cd->tray_open && cd->fd >= 0)
			cd->media_event = MEDIA_EV_NEW;
		cd->tray_open = 0;
		return SCSI_GOOD;
	}
	if (cd->prevent)
		return check(cd, SCSI_SK_ILLEGAL_REQUEST,
		    ASC_REMOVAL_PREVENTED);
	if (!cd->tray_open && cd->fd >= 0)
		cd->media_event = MEDIA_EV_REMOVAL;
	cd->tray_open = 1;
	return SCSI_GOOD;
}

static int
cmd_prevent_allow(struct scsi_cd *cd, const uint8_t *cdb, struct reply *r)
{
	(void)r;
	cd->prevent = cdb[4] & 0x01;
	return SCSI_GOOD;
}

static uint16_t
profile(const struct scsi_cd *cd)
{
	if (!medium(cd))
		return PROFILE_NONE;
	return cd->nblocks > CD_MAX_BLOCKS ? PROFILE_DVD_ROM : PROFILE_CD_ROM;
}

/* One feature descriptor at p; p[2] bit 0 says whether it is current. */
static size_t
feature(const struct scsi_cd *cd, uint16_t code, uint8_t *p)
{
	uint16_t	cur = profile(cd);
	size_t		len;

	memset(p, 0, 16);
	put16(p, code);
	p[2] = 0x03;			/* persistent, current */
	switch (code) {
	case 0x0000:			/* profile list */
		len = 12;
		put16(p + 4, PROFILE_DVD_ROM);
		p[6] = cur == PROFILE_DVD_ROM;
		put16(p + 8, PROFILE_CD_ROM);
		p[10] = cur == PROFILE_CD_ROM;
		break;
	case 0x0001:			/* core */
		len = 12;
		p[2] |= 0x08;		/* version 2 */
		put32(p + 4, 1);	/* SCSI */
		break;
	case 0x0002:			/* morphing */
		len = 8;
		p[2] |= 0x04;		/* version 1 */
		p[4] = 0x02;		/* OCEvent */
		break;
	case 0x0003:			/* removable medium */
		len = 8;
		p[4] = 0x29;		/* tray, eject, lock */
		break;
	case 0x0010:			/* random readable */
		len = 12;
		p[2] = cur != PROFILE_NONE;
		put32(p + 4, SCSI_CD_BLOCK);
		put16(p + 8, cur == PROFILE_DVD_ROM ? 16 : 1);
		break;
	case 0x001e:			/* CD read */
		len = 8;
		p[2] = 0x08 | (cur == PROFILE_CD_ROM);
		break;
	case 0x001f:			/* DVD read */
		len = 8;
		p[2] = 0x04 | (cur == PROFILE_DVD_ROM);
		break;
	default:
		return 0;
	}
	p[3] = len - 4;
	return len;
}

static int
cmd_get_configuration(struct scsi_cd *cd, const uint8_t *cdb,
    struct reply *r)
{
	static const uint16_t	 codes[] = { 0x0000, 0x0001, 0x0002, 0x0003,
				    0x0010, 0x001e, 0x001f };
	uint8_t			 buf[8 + 16 * 7];
	uint8_t			 rt = cdb[1] & 0x03;
	uint16_t		 start = get16(cdb + 2);
	size_t			 i, n, len = 8;

	if (rt == 3)
		return invalid_field(cd);
	memset(buf, 0, 8);
	for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		if (codes[i] < start || (rt == 2 && codes[i] != start))
			continue;
		n = feature(cd, codes[i], buf + len);
		if (rt == 1 && !(buf[len + 2] & 0x01))
			continue;
		len += n;
	}
	put32(buf, len - 4);
	put16(buf + 6, profile(cd));
	return reply(r, buf, len, get16(cdb + 7));
}

/* Polled only: the media class, or "no event available". */
static int
cmd_get_event_status(struct scsi_cd *cd, const uint8_t *cdb,
    struct reply *r)
{
	uint8_t	buf[8];
	size_t	len = 4;

	if (!(cdb[1] & 0x01))
		return invalid_field(cd);
	memset(buf, 0, sizeof buf);
	buf[3] = 0x10;			/* supported: media */
	if (cdb[4] & 0x10) {
		buf[2] = 0x04;		/* media class */
		buf[4] = cd->media_event;
		buf[5] = (medium(cd) ? 0x02 : 0) | (cd->tray_open ? 0x01 : 0);
		cd->media_event = MEDIA_EV_NONE;
		len = 8;
	} else
		buf[2] = 0x80;		/* NEA */
	put16(buf, len - 2);
	return reply(r, buf, len, get16(cdb + 7));
}

/* A TOC track descriptor: a data track, at an LBA or in MSF. */
static void
toc_entry(uint8_t *p, uint8_t track, uint64_t lba, int msf)
{
	uint64_t	f = lba + 150;

	memset(p, 0, 8);
	p[1] = 0x14;			/* ADR 1, data track */
	p[2] = track;
	if (!msf) {
		put32(p + 4, lba > UINT32_MAX ? UINT32_MAX : lba);
		return;
	}
	if (f >= 256 * 60 * 75)
		f = 256 * 60 * 75 - 1;
	p[5] = f / (60 * 75);
	p[6] = f / 75 % 60;
	p[7] = f % 75;
}

static int
cmd_read_toc(struct scsi_cd *cd, const uint8_t *cdb, struct reply *r)
{
	uint8_t	buf[20];
	int	msf = cdb[1] & 0x02;
	uint8_t	track = cdb[6];
	size_t	len = 4;

	switch (cdb[2] & 0x0f) {
	case 0:				/* TOC: track 1 and the lead-out */
		if (track > 1 && track != 0xaa)
			return invalid_field(cd);
		if (track <= 1) {
			toc_entry(buf + len, 1, 0, msf);
			len += 8;
		}
		toc_entry(buf + len, 0xaa, cd->nblocks, msf);
		len += 8;
		break;
	case 1:				/* session information */
		toc_entry(buf + len, 1, 0, msf);
		len += 8;
		break;
	default:
		return invalid_field(cd);
	}
	put16(buf, len - 2);
	buf[2] = 1;
	buf[3] = 1;
	return reply(r, buf, len, get16(cdb + 7));
}

static int
cmd_read_disc_info(struct scsi_cd *cd, const uint8_t *cdb, struct reply *r)
{
	uint8_t	buf[34];

	if (cdb[1] & 0x07)		/* only standard disc information */
		return invalid_field(cd);
	memset(buf, 0, sizeof buf);
	put16(buf, sizeof buf - 2);
	buf[2] = 0x0e;			/* last session complete, disc too */
	buf[3] = 1;			/* first track */
	buf[4] = 1;			/* sessions */
	buf[5] = 1;			/* first track in last session */
	buf[6] = 1;			/* last track in last session */
	buf[7] = 0x20;			/* unrestricted use */
	memset(buf + 16, 0xff, 8);	/* no lead-in/out for a next session */
	return reply(r, buf, sizeof buf, get16(cdb + 7));
}

static int
cmd_read_track_info(struct scsi_cd *cd, const uint8_t *cdb, struct reply *r)
{
	uint8_t		buf[36];
	uint32_t	addr = get32(cdb + 2);
	int		ok;

	switch (cdb[1] & 0x03) {
	case 0:				/* by LBA */
		ok = addr < cd->nblocks;
		break;
	case 1:				/* by track number */
	case 2:				/* by session number */
		ok = addr == 1;
		break;
	default:
		ok = 0;
	}
	if (!ok)
		return invalid_field(cd);
	memset(buf, 0, sizeof buf);
	put16(buf, sizeof buf - 2);
	buf[2] = 1;			/* track */
	buf[3] = 1;			/* session */
	buf[5] = 0x04;			/* data track */
	buf[6] = 0x01;			/* mode 1 */
	put32(buf + 24, cd->nblocks > UINT32_MAX ? UINT32_MAX : cd->nblocks);
	return reply(r, buf, sizeof buf, get16(cdb + 7));
}

static int
cmd_mechanism_status(struct scsi_cd *cd, const uint8_t *cdb,
    struct reply *r)
{
	uint8_t	buf[8];

	memset(buf, 0, sizeof buf);
	if (cd->tray_open)
		buf[1] = 0x10;		/* door open */
	return reply(r, buf, sizeof buf, get16(cdb + 8));
}

static int
cmd_report_luns(struct scsi_cd *cd, const uint8_t *cdb, struct reply *r)
{
	uint8_t	buf[16];

	if (cdb[2] > 2)			/* select report */
		return invalid_field(cd);
	memset(buf, 0, sizeof buf);
	put32(buf, 8);			/* LUN 0 */
	return reply(r, buf, sizeof buf, get32(cdb + 6));
}

static const struct scsi_cmd scsi_cmds[] = {
	{ TEST_UNIT_READY,	CMD_MEDIUM,	cmd_ok },
	{ REQUEST_SENSE,	CMD_NO_UA,	cmd_request_sense },
	{ READ_6,		CMD_MEDIUM,	cmd_read_6 },
	{ INQUIRY,		CMD_NO_UA,	cmd_inquiry },
	{ MODE_SENSE_6,		0,		cmd_mode_sense_6 },
	{ START_STOP_UNIT,	0,		cmd_start_stop },
	{ PREVENT_ALLOW,	0,		cmd_prevent_allow },
	{ READ_CAPACITY_10,	CMD_MEDIUM,	cmd_read_capacity },
	{ READ_10,		CMD_MEDIUM,	cmd_read_10 },
	{ READ_TOC,		CMD_MEDIUM,	cmd_read_toc },
	{ GET_CONFIGURATION,	CMD_NO_UA,	cmd_get_configuration },
	{ GET_EVENT_STATUS,	CMD_NO_UA,	cmd_get_event_status },
	{ READ_DISC_INFO,	CMD_MEDIUM,	cmd_read_disc_info },
	{ READ_TRACK_INFO,	CMD_MEDIUM,	cmd_read_track_info },
	{ MODE_SENSE_10,	0,		cmd_mode_sense_10 },
	{ READ_16,		CMD_MEDIUM,	cmd_read_16 },
	{ SERVICE_ACTION_IN_16,	CMD_MEDIUM,	cmd_service_action_in },
	{ REPORT_LUNS,		CMD_NO_UA,	cmd_report_luns },
	{ READ_12,		CMD_MEDIUM,	cmd_read_12 },
	{ SET_CD_SPEED,		0,		cmd_ok },
	{ MECHANISM_STATUS,	0,		cmd_mechanism_status },
};

/* The CDB length of an opcode's group (SPC-3 4.3.2). */
static size_t
cdb_len(uint8_t op)
{
	switch (op >> 5) {
	case 0:
		return 6;
	case 1:
	case 2:
		return 10;
	case 4:
		return 16;
	case 5:
		return 12;
	default:
		return 16;
	}
}

static const struct scsi_cmd *
lookup(uint8_t op)
{
	size_t	i;

	for (i = 0; i < sizeof scsi_cmds / sizeof scsi_cmds[0]; i++)
		if (scsi_cmds[i].op == op)
			return &scsi_cmds[i];
	return NULL;
}

int
scsi_cd_init(struct scsi_cd *cd, int fd, uint64_t size_bytes)
{
	memset(cd, 0, sizeof *cd);
	cd->fd = -1;
	memcpy(cd->serial, "VMTOPCD0", sizeof "VMTOPCD0");
	cd->ua_pending = 1;
	cd->ua_asc = ASC_POWER_ON >> 8;
	cd->ua_ascq = ASC_POWER_ON & 0xff;
	if (fd < 0 && size_bytes != 0)
		return -1;
	cd->fd = fd;
	cd->nblocks = blocks(size_bytes);
	return 0;
}

void
scsi_cd_change(struct scsi_cd *cd, int fd, uint64_t size_bytes)
{
	cd->fd = fd;
	cd->nblocks = fd < 0 ? 0 : blocks(size_bytes);
	cd->tray_open = 0;
	cd->media_event = fd < 0 ? MEDIA_EV_REMOVAL : MEDIA_EV_NEW;
	cd->ua_pending = 1;
	cd->ua_asc = ASC_MEDIUM_CHANGED >> 8;
	cd->ua_ascq = ASC_MEDIUM_CHANGED & 0xff;
}

int
scsi_cd_exec(struct scsi_cd *cd, const uint8_t *cdb, size_t cdblen,
    uint8_t *data, size_t maxlen, size_t *datalen)
{
	const struct scsi_cmd	*c;
	struct reply		 r = { data, maxlen, 0 };
	int			 status;

	*datalen = 0;
	if (cdblen == 0)
		return invalid_field(cd);
	c = lookup(cdb[0]);
	if (c == NULL || c->op != REQUEST_SENSE)
		cd->sense_key = cd->asc = cd->ascq = 0;
	if (cd->ua_pending && (c == NULL || !(c->flags & CMD_NO_UA))) {
		cd->ua_pending = 0;
		return check(cd, SCSI_SK_UNIT_ATTENTION,
		    cd->ua_asc << 8 | cd->ua_ascq);
	}
	if (c == NULL)
		return check(cd, SCSI_SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
	if (cdblen < cdb_len(c->op))
		return invalid_field(cd);
	if ((c->flags & CMD_MEDIUM) && !medium(cd))
		return check(cd, SCSI_SK_NOT_READY, cd->tray_open ?
		    ASC_NO_MEDIUM_OPEN : ASC_NO_MEDIUM_CLOSED);
	status = c->exec(cd, cdb, &r);
	if (status == SCSI_GOOD)
		*datalen = r.len;
	return status;
}

size_t
scsi_cd_sense(const struct scsi_cd *cd, uint8_t *buf, size_t len)
{
	uint8_t	sense[SCSI_SENSE_LEN];

	sense_fixed(sense, cd->sense_key, cd->asc, cd->ascq);
	if (len > sizeof sense)
		len = sizeof sense;
	memcpy(buf, sense, len);
	return len;
}
