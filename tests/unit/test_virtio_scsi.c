/*
 * Unit tests for vmm/virtio/virtio_scsi.c below the ring: requests laid
 * out in scattered host buffers as virtq_pop() would hand them over,
 * on the request and control queues. The response header, sense and
 * data-in land where virtio 1.1 5.6.6.1 puts them, with the residual;
 * bad LUN addresses, short requests and short responses fail alone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_scsi.h>

#include "scsi.h"
#include "virtio.h"

#define NBLOCKS		10
#define RESP		sizeof(struct virtio_scsi_cmd_resp)
#define INLEN		(RESP + 4 * SCSI_CD_BLOCK)

static struct vmm		vmm;
static struct virtq_req		req;
static struct virtio_scsi_cmd_req cmd;
static struct virtio_scsi_cmd_resp resp;
static uint8_t			in[INLEN];

static int
image(void)
{
	char	path[] = "/tmp/test_virtio_scsi.XXXXXX";
	uint8_t	blk[SCSI_CD_BLOCK];
	int	fd = mkstemp(path), b;

	assert_true(fd != -1);
	unlink(path);
	for (b = 0; b < NBLOCKS; b++) {
		memset(blk, 'a' + b, sizeof blk);
		assert_int_equal(write(fd, blk, sizeof blk), sizeof blk);
	}
	return fd;
}

static int
setup(void **state)
{
	struct virtio_dev	*dev;

	dev = virtio_scsi_create(&vmm, image(), NBLOCKS * SCSI_CD_BLOCK, 0);
	assert_non_null(dev);
	*state = dev;
	return 0;
}

static int
teardown(void **state)
{
	virtio_dev_destroy(*state);
	return 0;
}

/*
 * Run out (outlen bytes, in two pieces) with inlen writable bytes in
 * three pieces, cut at 7 and at cut (within inlen); the response header
 * is copied out.
 */
static uint32_t
submit(struct virtio_dev *dev, uint16_t q, const void *out, size_t outlen,
    size_t inlen, size_t cut)
{
	size_t		a = outlen < 5 ? outlen : 5;
	size_t		b = inlen < 7 ? inlen : 7;
	uint32_t	used;

	assert_true(inlen <= sizeof in);
	if (cut > inlen)
		cut = inlen;
	if (cut < b)
		cut = b;
	memset(&req, 0, sizeof req);
	memset(in, 0xee, sizeof in);
	req.iov[0] = (struct iovec){ (void *)out, a };
	req.iov[1] = (struct iovec){ (uint8_t *)out + a, outlen - a };
	req.nout = 2;
	req.out_len = outlen;
	req.iov[2] = (struct iovec){ in, b };
	req.iov[3] = (struct iovec){ in + b, cut - b };
	req.iov[4] = (struct iovec){ in + cut, inlen - cut };
	req.nin = 3;
	req.in_len = inlen;
	used = virtio_scsi_request(dev, q, &req);
	assert_true(used <= inlen);
	memcpy(&resp, in, sizeof resp);
	return used;
}

/* A command to target 0, LUN 0 (flat addressing). */
static uint32_t
command(struct virtio_dev *dev, const uint8_t *cdb, size_t cdblen,
    size_t inlen)
{
	memset(&cmd, 0, sizeof cmd);
	cmd.lun[0] = 1;
	cmd.lun[2] = 0x40;
	memcpy(cmd.cdb, cdb, cdblen);
	return submit(dev, 2, &cmd, sizeof cmd, inlen, RESP + 100);
}

static const uint8_t tur[6];

static void
test_config(void **state)
{
	struct virtio_dev		*dev = *state;
	struct virtio_scsi_config	 c;

	assert_int_equal(dev->ops->device_id, 8);
	assert_int_equal(dev->ops->pci_class, 0x010000);
	assert_string_equal(dev->name, "virtio-scsi0");
	assert_int_equal(dev->nvqs, 3);
	assert_int_equal(dev->config_size, sizeof c);
	memcpy(&c, dev->config, sizeof c);
	assert_int_equal(c.num_queues, 1);
	assert_int_equal(c.sense_size, 96);
	assert_int_equal(c.cdb_size, 32);
	assert_int_equal(c.max_target, 0);
	assert_int_equal(c.max_lun, 0);
	assert_int_equal(c.event_info_size, 16);
	assert_true(c.max_sectors >= 256);
	assert_true(c.seg_max > 0 && c.seg_max <= VIRTQ_MAX_SEGS);
}

static void
test_commands(void **state)
{
	static const uint8_t	inquiry[] = { 0x12, 0, 0, 0, 36, 0 };
	static const uint8_t	read10[] = { 0x28, 0, 0, 0, 0, 1, 0, 0, 2, 0 };
	struct virtio_dev	*dev = *state;
	size_t			 i;

	/* Power-on UNIT ATTENTION, with autosense. */
	assert_int_equal(command(dev, tur, 6, INLEN), RESP);
	assert_int_equal(resp.response, VIRTIO_SCSI_S_OK);
	assert_int_equal(resp.status, SCSI_CHECK_CONDITION);
	assert_int_equal(resp.sense_len, SCSI_SENSE_LEN);
	assert_int_equal(resp.sense[0], 0x70);
	assert_int_equal(resp.sense[2], SCSI_SK_UNIT_ATTENTION);
	assert_int_equal(resp.sense[12], 0x29);
	assert_int_equal(resp.resid, INLEN - RESP);
	assert_int_equal(command(dev, tur, 6, INLEN), RESP);
	assert_int_equal(resp.status, SCSI_GOOD);
	assert_int_equal(resp.sense_len, 0);

	/* Data-in after the whole response, across the pieces. */
	assert_int_equal(command(dev, inquiry, sizeof inquiry, INLEN),
	    RESP + 36);
	assert_int_equal(resp.status, SCSI_GOOD);
	assert_int_equal(resp.resid, INLEN - RESP - 36);
	assert_int_equal(in[RESP], 0x05);
	assert_memory_equal(in + RESP + 16, "VMTOP CD-ROM    ", 16);
	assert_int_equal(in[RESP + 36], 0xee);

	assert_int_equal(command(dev, read10, sizeof read10, INLEN),
	    RESP + 2 * SCSI_CD_BLOCK);
	assert_int_equal(resp.resid, 2 * SCSI_CD_BLOCK);
	for (i = 0; i < SCSI_CD_BLOCK; i++) {
		assert_int_equal(in[RESP + i], 'b');
		assert_int_equal(in[RESP + SCSI_CD_BLOCK + i], 'c');
	}
	/* A data-in buffer smaller than the transfer. */
	assert_int_equal(command(dev, read10, sizeof read10, RESP + 1000),
	    RESP + 1000);
	assert_int_equal(resp.resid, 0);
	assert_int_equal(in[RESP + 999], 'b');

	/* A CHECK CONDITION leaves data-in alone. */
	assert_int_equal(command(dev, (const uint8_t *)"\xff", 1, INLEN), RESP);
	assert_int_equal(resp.status, SCSI_CHECK_CONDITION);
	assert_int_equal(resp.sense[2], SCSI_SK_ILLEGAL_REQUEST);
	assert_int_equal(resp.sense[12], 0x20);
	assert_int_equal(in[RESP], 0xee);
}

static void
test_bad_requests(void **state)
{
	struct virtio_dev	*dev = *state;
	static const uint8_t	 bad[][8] = {
		{ 1, 1, 0x40, 0 },	/* target 1 */
		{ 1, 0, 0x40, 1 },	/* LUN 1 */
		{ 0, 0, 0x40, 0 },	/* not a single-level address */
		{ 1, 0, 0x40, 0, 0, 0, 0, 1 },
	};
	size_t			 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&cmd, 0, sizeof cmd);
		memcpy(cmd.lun, bad[i], 8);
		assert_int_equal(submit(dev, 2, &cmd, sizeof cmd, INLEN,
		    RESP), RESP);
		assert_int_equal(resp.response, VIRTIO_SCSI_S_BAD_TARGET);
		assert_int_equal(resp.resid, INLEN - RESP);
	}
	/* A request too short for its CDB. */
	assert_int_equal(submit(dev, 2, &cmd, 20, INLEN, RESP), RESP);
	assert_int_equal(resp.response, VIRTIO_SCSI_S_FAILURE);
	/* No room for a response: nothing written. */
	assert_int_equal(command(dev, tur, 6, 11), 0);
	assert_int_equal(in[0], 0xee);
	/* Room for the header but not the sense. */
	assert_int_equal(command(dev, tur, 6, 12), 12);
	assert_int_equal(resp.status, SCSI_CHECK_CONDITION);
	assert_int_equal(resp.resid, 0);
	assert_int_equal(in[12], 0xee);
	/* The event queue takes nothing. */
	assert_int_equal(submit(dev, 1, &cmd, sizeof cmd, INLEN, RESP), 0);
}

static void
test_control(void **state)
{
	struct virtio_dev		*dev = *state;
	struct virtio_scsi_ctrl_tmf_req	 tmf;
	struct virtio_scsi_ctrl_an_req	 an;
	struct virtio_scsi_ctrl_an_resp	 anr;
	uint32_t			 type = 99;

	memset(&tmf, 0, sizeof tmf);
	tmf.type = VIRTIO_SCSI_T_TMF;
	tmf.subtype = VIRTIO_SCSI_T_TMF_ABORT_TASK;
	tmf.lun[0] = 1;
	assert_int_equal(submit(dev, 0, &tmf, sizeof tmf, 1, 7), 1);
	assert_int_equal(in[0], 0);
	tmf.lun[1] = 3;
	assert_int_equal(submit(dev, 0, &tmf, sizeof tmf, 1, 7), 1);
	assert_int_equal(in[0], VIRTIO_SCSI_S_BAD_TARGET);
	assert_int_equal(submit(dev, 0, &tmf, 8, 1, 7), 1);
	assert_int_equal(in[0], VIRTIO_SCSI_S_FAILURE);

	memset(&an, 0, sizeof an);
	an.type = VIRTIO_SCSI_T_AN_QUERY;
	an.lun[0] = 1;
	an.event_requested = 0xffffffff;
	assert_int_equal(submit(dev, 0, &an, sizeof an, sizeof anr, 7),
	    sizeof anr);
	memcpy(&anr, in, sizeof anr);
	assert_int_equal(anr.event_actual, 0);
	assert_int_equal(anr.response, VIRTIO_SCSI_S_OK);

	assert_int_equal(submit(dev, 0, &type, sizeof type, 8, 7), 0);
	assert_int_equal(submit(dev, 0, &type, 2, 8, 7), 0);
}

static void
test_reset_and_empty(void **state)
{
	struct virtio_dev	*dev = *state, *empty;

	assert_int_equal(command(dev, tur, 6, INLEN), RESP);
	assert_int_equal(command(dev, tur, 6, INLEN), RESP);
	assert_int_equal(resp.status, SCSI_GOOD);
	dev->ops->reset(dev);
	assert_int_equal(command(dev, tur, 6, INLEN), RESP);
	assert_int_equal(resp.status, SCSI_CHECK_CONDITION);
	assert_int_equal(resp.sense[12], 0x29);

	empty = virtio_scsi_create(&vmm, -1, 12345, 1);
	assert_non_null(empty);
	assert_string_equal(empty->name, "virtio-scsi1");
	assert_int_equal(command(empty, tur, 6, INLEN), RESP);
	assert_int_equal(command(empty, tur, 6, INLEN), RESP);
	assert_int_equal(resp.status, SCSI_CHECK_CONDITION);
	assert_int_equal(resp.sense[2], SCSI_SK_NOT_READY);
	assert_int_equal(resp.sense[12], 0x3a);
	virtio_dev_destroy(empty);
}

#define RING_GPA	0x100000ULL
#define RING_RAM	(1 << 20)

static void
ring_desc(struct vring_desc *d, int i, uint64_t off, uint32_t len,
    uint16_t flags, uint16_t next)
{
	d[i].addr = RING_GPA + off;
	d[i].len = len;
	d[i].flags = flags;
	d[i].next = next;
}

/* Two commands through a real split ring, and a posted event buffer. */
static void
test_ring(void **state)
{
	struct vmm		 v;
	struct virtio_dev	*dev;
	struct virtq		*vq;
	struct vring_desc	*d;
	struct vring_avail	*avail;
	struct vring_used	*used;
	uint8_t			*ram = calloc(1, RING_RAM);
	struct virtio_scsi_cmd_req *c;
	int			 q;

	(void)state;
	assert_non_null(ram);
	memset(&v, 0, sizeof v);
	assert_int_equal(memmap_add(&v.mem, RING_GPA, RING_RAM, ram), 0);
	dev = virtio_scsi_create(&v, image(), NBLOCKS * SCSI_CD_BLOCK, 0);
	assert_non_null(dev);
	for (q = 1; q <= 2; q++) {
		vq = &dev->vqs[q];
		vq->size = 8;
		vq->desc_gpa = RING_GPA + q * 0x4000;
		vq->avail_gpa = vq->desc_gpa + 0x1000;
		vq->used_gpa = vq->desc_gpa + 0x2000;
		assert_int_equal(virtq_enable(vq), 0);
		d = (void *)(ram + q * 0x4000);
		avail = (void *)(ram + q * 0x4000 + 0x1000);
		/* Command 0: TEST UNIT READY; command 1 (head 3): READ. */
		ring_desc(d, 0, 0x10000, sizeof *c, VRING_DESC_F_NEXT, 1);
		ring_desc(d, 1, 0x11000, RESP, VRING_DESC_F_WRITE |
		    VRING_DESC_F_NEXT, 2);
		ring_desc(d, 2, 0x12000, SCSI_CD_BLOCK, VRING_DESC_F_WRITE, 0);
		ring_desc(d, 3, 0x20000, sizeof *c, VRING_DESC_F_NEXT, 4);
		ring_desc(d, 4, 0x21000, RESP, VRING_DESC_F_WRITE |
		    VRING_DESC_F_NEXT, 5);
		ring_desc(d, 5, 0x22000, SCSI_CD_BLOCK, VRING_DESC_F_WRITE, 0);
		avail->ring[0] = 0;
		avail->ring[1] = 3;
		avail->idx = 2;
	}
	c = (void *)(ram + 0x10000);
	c->lun[0] = 1;
	c = (void *)(ram + 0x20000);
	c->lun[0] = 1;
	memcpy(c->cdb, "\x28\0\0\0\0\x04\0\0\x01\0", 10);

	dev->ops->queue_notify(dev, &dev->vqs[1]);
	used = (void *)(ram + 1 * 0x4000 + 0x2000);
	assert_int_equal(used->idx, 0);

	dev->ops->queue_notify(dev, &dev->vqs[2]);
	used = (void *)(ram + 2 * 0x4000 + 0x2000);
	assert_int_equal(used->idx, 2);
	assert_int_equal(used->ring[0].id, 0);
	assert_int_equal(used->ring[0].len, RESP);
	memcpy(&resp, ram + 0x11000, sizeof resp);
	assert_int_equal(resp.status, SCSI_CHECK_CONDITION);
	assert_int_equal(resp.sense[12], 0x29);
	assert_int_equal(used->ring[1].id, 3);
	assert_int_equal(used->ring[1].len, RESP + SCSI_CD_BLOCK);
	memcpy(&resp, ram + 0x21000, sizeof resp);
	assert_int_equal(resp.status, SCSI_GOOD);
	assert_int_equal(resp.resid, 0);
	assert_int_equal(ram[0x22000], 'e');
	assert_int_equal(ram[0x22000 + SCSI_CD_BLOCK - 1], 'e');
	virtio_dev_destroy(dev);
	free(ram);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_config),
		T(test_commands),
		T(test_bad_requests),
		T(test_control),
		T(test_reset_and_empty),
		cmocka_unit_test(test_ring),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
