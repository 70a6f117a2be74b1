/*
 * virtio-scsi (virtio 1.1, 5.6) with one target and one LUN, the CD-ROM
 * of hw/scsi.c: the control queue answers task management and
 * asynchronous notification requests, the event queue keeps its buffers
 * (there are no events to send), the request queue runs each CDB to
 * completion. Commands finish before the next one is popped, so there
 * is never a task to abort.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_scsi.h>

#include "scsi.h"
#include "virtio.h"
#include "xmalloc.h"

#define VSCSI_CTRLQ		0
#define VSCSI_EVENTQ		1
#define VSCSI_REQUESTQ		2
#define VSCSI_NQUEUES		3
#define VSCSI_QUEUE_SIZE	128
#define VSCSI_SEG_MAX		(VSCSI_QUEUE_SIZE - 2)
#define VSCSI_MAX_XFER		(1U << 20)	/* data-in bytes per command */
#define VSCSI_PCI_CLASS		0x010000	/* mass storage, SCSI */
#define VSCSI_RESP_HDR		offsetof(struct virtio_scsi_cmd_resp, sense)
#define VSCSI_S_FUNCTION_COMPLETE 0		/* 5.6.6.2, as OK */

_Static_assert(sizeof(struct virtio_scsi_config) <= VIRTIO_CONFIG_MAX,
    "virtio_scsi_config outgrew VIRTIO_CONFIG_MAX");

struct virtio_scsi {
	struct virtio_dev	 dev;
	struct scsi_cd		 cd;
	int			 fd;
	uint64_t		 size;
	struct virtq_req	 req;
	uint8_t			*buf;		/* VSCSI_MAX_XFER of data-in */
};

/* Whether a virtio LUN address names target 0, LUN 0 (5.6.6.1). */
static int
lun_ok(const uint8_t *lun)
{
	static const uint8_t	zero[4];

	return lun[0] == 1 && lun[1] == 0 && (lun[2] & 0x3f) == 0 &&
	    lun[3] == 0 && memcmp(lun + 4, zero, sizeof zero) == 0;
}

/* A command: the response header, its sense, then the data-in. */
static uint32_t
vscsi_cmd(struct virtio_scsi *s, struct virtq_req *req)
{
	struct virtio_scsi_cmd_req	cmd;
	struct virtio_scsi_cmd_resp	resp;
	size_t				din = 0, maxlen, dlen = 0, n;

	if (req->in_len < VSCSI_RESP_HDR)
		return 0;
	if (req->in_len > sizeof resp)
		din = req->in_len - sizeof resp;
	memset(&resp, 0, sizeof resp);
	if (virtq_req_read(req, 0, &cmd, sizeof cmd) != sizeof cmd)
		resp.response = VIRTIO_SCSI_S_FAILURE;
	else if (!lun_ok(cmd.lun))
		resp.response = VIRTIO_SCSI_S_BAD_TARGET;
	else {
		maxlen = din < VSCSI_MAX_XFER ? din : VSCSI_MAX_XFER;
		resp.status = scsi_cd_exec(&s->cd, cmd.cdb, sizeof cmd.cdb,
		    s->buf, maxlen, &dlen);
		if (resp.status == SCSI_CHECK_CONDITION)
			resp.sense_len = scsi_cd_sense(&s->cd, resp.sense,
			    sizeof resp.sense);
		virtq_req_write(req, sizeof resp, s->buf, dlen);
	}
	resp.resid = din - dlen;
	n = virtq_req_write(req, 0, &resp, sizeof resp);
	return n + dlen;
}

/* Task management and asynchronous notification (5.6.6.2). */
static uint32_t
vscsi_ctrl(struct virtq_req *req)
{
	struct virtio_scsi_ctrl_tmf_req	tmf;
	struct virtio_scsi_ctrl_an_req	an;
	struct virtio_scsi_ctrl_an_resp	anr;
	uint32_t			type;
	uint8_t				r;

	if (virtq_req_read(req, 0, &type, sizeof type) != sizeof type)
		return 0;
	switch (type) {
	case VIRTIO_SCSI_T_TMF:
		if (virtq_req_read(req, 0, &tmf, sizeof tmf) != sizeof tmf)
			r = VIRTIO_SCSI_S_FAILURE;
		else if (!lun_ok(tmf.lun))
			r = VIRTIO_SCSI_S_BAD_TARGET;
		else			/* no task is ever in flight */
			r = VSCSI_S_FUNCTION_COMPLETE;
		return virtq_req_write(req, 0, &r, sizeof r);
	case VIRTIO_SCSI_T_AN_QUERY:
	case VIRTIO_SCSI_T_AN_SUBSCRIBE:
		memset(&anr, 0, sizeof anr);
		if (virtq_req_read(req, 0, &an, sizeof an) != sizeof an)
			anr.response = VIRTIO_SCSI_S_FAILURE;
		else if (!lun_ok(an.lun))
			anr.response = VIRTIO_SCSI_S_BAD_TARGET;
		else			/* no events are supported */
			anr.response = VIRTIO_SCSI_S_OK;
		return virtq_req_write(req, 0, &anr, sizeof anr);
	default:
		return 0;
	}
}

uint32_t
virtio_scsi_request(struct virtio_dev *dev, uint16_t queue,
    struct virtq_req *req)
{
	struct virtio_scsi	*s = dev->priv;

	switch (queue) {
	case VSCSI_CTRLQ:
		return vscsi_ctrl(req);
	case VSCSI_REQUESTQ:
		return vscsi_cmd(s, req);
	default:
		return 0;
	}
}

/* Work through the queue until it stays empty; events wait for ever. */
static void
vscsi_notify(struct virtio_dev *dev, struct virtq *vq)
{
	struct virtio_scsi	*s = dev->priv;
	int			 r, n;

	if (vq->index == VSCSI_EVENTQ)
		return;
	do {
		n = 0;
		while ((r = virtq_pop(vq, &s->req)) == 1) {
			virtq_push(vq, s->req.head,
			    virtio_scsi_request(dev, vq->index, &s->req));
			if (++n % 32 == 0)
				virtio_dev_signal(dev, vq);
		}
		if (n % 32 != 0)
			virtio_dev_signal(dev, vq);
		if (r == -1)
			return;
	} while (virtq_enable_notify(vq));
}

/* A device reset is a bus reset: the unit powers on again. */
static void
vscsi_reset(struct virtio_dev *dev)
{
	struct virtio_scsi	*s = dev->priv;

	scsi_cd_init(&s->cd, s->fd, s->size);
}

static void
vscsi_destroy(struct virtio_dev *dev)
{
	struct virtio_scsi	*s = dev->priv;

	if (s->fd != -1)
		close(s->fd);
	free(s->buf);
	free(s);
}

static const struct virtio_ops vscsi_ops = {
	.name = "virtio-scsi",
	.device_id = VIRTIO_ID_SCSI,
	.pci_class = VSCSI_PCI_CLASS,
	.queue_notify = vscsi_notify,
	.reset = vscsi_reset,
	.destroy = vscsi_destroy,
};

struct virtio_dev *
virtio_scsi_create(struct vmm *vmm, int fd, uint64_t size, int index)
{
	struct virtio_scsi		*s;
	struct virtio_scsi_config	 c;
	char				 name[16];
	int				 saved;

	s = xcalloc(1, sizeof *s);
	s->fd = fd;
	s->size = fd == -1 ? 0 : size;
	if (scsi_cd_init(&s->cd, s->fd, s->size) == -1) {
		errno = EINVAL;
		goto fail;
	}
	s->buf = xmalloc(VSCSI_MAX_XFER);
	snprintf(name, sizeof name, "virtio-scsi%d", index);
	if (virtio_dev_init(&s->dev, vmm, &vscsi_ops, s, name,
	    VIRTIO_F(VIRTIO_RING_F_EVENT_IDX) |
	    VIRTIO_F(VIRTIO_RING_F_INDIRECT_DESC), VSCSI_NQUEUES,
	    VSCSI_QUEUE_SIZE) == -1)
		goto fail;

	memset(&c, 0, sizeof c);
	c.num_queues = 1;
	c.seg_max = VSCSI_SEG_MAX;
	c.max_sectors = VSCSI_MAX_XFER / 512;
	c.cmd_per_lun = VSCSI_QUEUE_SIZE;
	c.event_info_size = sizeof(struct virtio_scsi_event);
	c.sense_size = VIRTIO_SCSI_SENSE_SIZE;
	c.cdb_size = VIRTIO_SCSI_CDB_SIZE;
	c.max_target = 0;
	c.max_lun = 0;
	memcpy(s->dev.config, &c, sizeof c);
	s->dev.config_size = sizeof c;
	return &s->dev;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	free(s->buf);
	free(s);
	errno = saved;
	return NULL;
}
