/*
 * virtio-blk (virtio 1.1, 5.2) over the disk-ops table: one request
 * queue, read, write, flush (fsync), get-id, discard and write-zeroes.
 * A request the device cannot make sense of fails alone with an error
 * status; only a broken ring resets the device.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_blk.h>

#include "disk_ops.h"
#include "log.h"
#include "virtio.h"
#include "xmalloc.h"

#define BLK_QUEUE_SIZE		256
#define BLK_SECTOR		512
#define BLK_HDR_SIZE		16
#define BLK_SEG_MAX		(BLK_QUEUE_SIZE - 2)
#define BLK_DISCARD_SECTORS	(1U << 22)	/* 2 GiB per segment */
#define BLK_DISCARD_SEGS	32
#define BLK_DISCARD_ALIGN	8		/* sectors: 4 KiB */
#define BLK_PCI_CLASS		0x018000	/* mass storage, other */

_Static_assert(sizeof(struct virtio_blk_config) <= VIRTIO_CONFIG_MAX,
    "virtio_blk_config outgrew VIRTIO_CONFIG_MAX");

struct virtio_blk {
	struct virtio_dev	 dev;
	struct disk		*disk;
	struct virtq_req	 req;
	struct iovec		 data[VIRTQ_MAX_SEGS];
};

static void
count(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

/* Whether [sector, sector + bytes) lies on the disk. */
static int
in_range(struct virtio_blk *blk, uint64_t sector, uint64_t bytes)
{
	uint64_t	size = blk->disk->size;

	return sector <= size / BLK_SECTOR &&
	    bytes <= size - sector * BLK_SECTOR;
}

/* IN and OUT: move the data between the buffers and the image. */
static uint8_t
blk_rw(struct virtio_blk *blk, struct virtq_req *req, uint64_t sector,
    int is_write, uint32_t *used)
{
	struct vmm_counters	*c = &blk->dev.vmm->counters;
	size_t			 len;
	int			 n;

	if (is_write) {
		len = req->out_len - BLK_HDR_SIZE;
		n = iov_slice(req->iov, req->nout, BLK_HDR_SIZE, len,
		    blk->data, VIRTQ_MAX_SEGS);
	} else {
		len = req->in_len - 1;
		n = iov_slice(req->iov + req->nout, req->nin, 0, len,
		    blk->data, VIRTQ_MAX_SEGS);
	}
	if (n < 0 || len % BLK_SECTOR != 0 || !in_range(blk, sector, len))
		return VIRTIO_BLK_S_IOERR;
	if (is_write) {
		if (blk->disk->readonly)
			return VIRTIO_BLK_S_IOERR;
		if (blk->disk->ops->writev(blk->disk, blk->data, n,
		    sector * BLK_SECTOR) == -1) {
			log_warn("%s: write at sector %llu", blk->dev.name,
			    (unsigned long long)sector);
			return VIRTIO_BLK_S_IOERR;
		}
		count(&c->disk_wr_reqs, 1);
		count(&c->disk_wr_bytes, len);
		return VIRTIO_BLK_S_OK;
	}
	if (blk->disk->ops->readv(blk->disk, blk->data, n,
	    sector * BLK_SECTOR) == -1) {
		log_warn("%s: read at sector %llu", blk->dev.name,
		    (unsigned long long)sector);
		return VIRTIO_BLK_S_IOERR;
	}
	count(&c->disk_rd_reqs, 1);
	count(&c->disk_rd_bytes, len);
	*used = len;
	return VIRTIO_BLK_S_OK;
}

/* DISCARD and WRITE_ZEROES: a list of ranges after the header. */
static uint8_t
blk_ranges(struct virtio_blk *blk, struct virtq_req *req, uint32_t type)
{
	struct virtio_blk_discard_write_zeroes	r;
	struct disk				*d = blk->disk;
	size_t					 len, i, n;
	uint32_t				 flags, nsec;
	uint64_t				 sector;
	int					 rv;

	len = req->out_len - BLK_HDR_SIZE;
	n = len / sizeof r;
	if (len % sizeof r != 0 || n == 0 || n > BLK_DISCARD_SEGS)
		return VIRTIO_BLK_S_IOERR;
	if (d->readonly)
		return VIRTIO_BLK_S_IOERR;
	for (i = 0; i < n; i++) {
		virtq_req_read(req, BLK_HDR_SIZE + i * sizeof r, &r, sizeof r);
		sector = r.sector;
		nsec = r.num_sectors;
		flags = r.flags;
		if (flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)
			return VIRTIO_BLK_S_UNSUPP;
		if (type == VIRTIO_BLK_T_DISCARD && flags != 0)
			return VIRTIO_BLK_S_UNSUPP;
		if (nsec > BLK_DISCARD_SECTORS ||
		    !in_range(blk, sector, (uint64_t)nsec * BLK_SECTOR))
			return VIRTIO_BLK_S_IOERR;
		if (type == VIRTIO_BLK_T_DISCARD)
			rv = d->ops->discard(d, sector * BLK_SECTOR,
			    (uint64_t)nsec * BLK_SECTOR);
		else
			rv = d->ops->write_zeroes(d, sector * BLK_SECTOR,
			    (uint64_t)nsec * BLK_SECTOR, flags != 0);
		if (rv == -1) {
			log_warn("%s: %s at sector %llu", blk->dev.name,
			    type == VIRTIO_BLK_T_DISCARD ? "discard" :
			    "write zeroes", (unsigned long long)sector);
			return VIRTIO_BLK_S_IOERR;
		}
	}
	return VIRTIO_BLK_S_OK;
}

/* One request: header, data, and the status byte at the very end. */
static void
blk_request(struct virtio_blk *blk, struct virtq *vq, struct virtq_req *req)
{
	struct virtio_blk_outhdr	 hdr;
	struct disk			*d = blk->disk;
	char				 id[DISK_ID_BYTES];
	uint32_t			 used = 0;
	uint8_t				 status;

	if (req->nin == 0 ||
	    virtq_req_read(req, 0, &hdr, sizeof hdr) != sizeof hdr) {
		/* Nowhere to put a status: fail it empty. */
		virtq_push(vq, req->head, 0);
		return;
	}
	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		status = blk_rw(blk, req, hdr.sector,
		    hdr.type == VIRTIO_BLK_T_OUT, &used);
		break;
	case VIRTIO_BLK_T_FLUSH:
		status = VIRTIO_BLK_S_OK;
		if (d->ops->flush(d) == -1) {
			log_warn("%s: flush", blk->dev.name);
			status = VIRTIO_BLK_S_IOERR;
		}
		break;
	case VIRTIO_BLK_T_GET_ID:
		status = VIRTIO_BLK_S_IOERR;
		if (d->ops->get_id(d, id) == 0) {
			used = req->in_len - 1;
			if (used > DISK_ID_BYTES)
				used = DISK_ID_BYTES;
			virtq_req_write(req, 0, id, used);
			status = VIRTIO_BLK_S_OK;
		}
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		status = blk_ranges(blk, req, hdr.type);
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
	virtq_req_write(req, req->in_len - 1, &status, 1);
	virtq_push(vq, req->head, used + 1);
}

/* Work through the queue until it stays empty. */
static void
blk_notify(struct virtio_dev *dev, struct virtq *vq)
{
	struct virtio_blk	*blk = dev->priv;
	int			 r, n;

	do {
		n = 0;
		while ((r = virtq_pop(vq, &blk->req)) == 1) {
			blk_request(blk, vq, &blk->req);
			if (++n % 32 == 0)
				virtio_dev_signal(dev, vq);
		}
		if (n % 32 != 0)
			virtio_dev_signal(dev, vq);
		if (r == -1)
			return;
	} while (virtq_enable_notify(vq));
}

static void
blk_destroy(struct virtio_dev *dev)
{
	struct virtio_blk	*blk = dev->priv;

	blk->disk->ops->close(blk->disk);
	free(blk);
}

static const struct virtio_ops blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.pci_class = BLK_PCI_CLASS,
	.queue_notify = blk_notify,
	.destroy = blk_destroy,
};

/*
 * A virtio-blk device for disk; it owns disk from now on (also on
 * failure). Returns the device, or NULL with errno set.
 */
struct virtio_dev *
virtio_blk_create(struct vmm *vmm, struct disk *disk, int index)
{
	struct virtio_blk		*blk;
	struct virtio_blk_config	 c;
	uint64_t			 features;
	char				 name[16];
	int				 saved;

	features = VIRTIO_F(VIRTIO_BLK_F_SEG_MAX) |
	    VIRTIO_F(VIRTIO_BLK_F_BLK_SIZE) | VIRTIO_F(VIRTIO_BLK_F_FLUSH) |
	    VIRTIO_F(VIRTIO_RING_F_EVENT_IDX) |
	    VIRTIO_F(VIRTIO_RING_F_INDIRECT_DESC);
	if (disk->readonly)
		features |= VIRTIO_F(VIRTIO_BLK_F_RO);
	else
		features |= VIRTIO_F(VIRTIO_BLK_F_DISCARD) |
		    VIRTIO_F(VIRTIO_BLK_F_WRITE_ZEROES);

	blk = xcalloc(1, sizeof *blk);
	blk->disk = disk;
	snprintf(name, sizeof name, "virtio-blk%d", index);
	if (virtio_dev_init(&blk->dev, vmm, &blk_ops, blk, name, features, 1,
	    BLK_QUEUE_SIZE) == -1)
		goto fail;

	memset(&c, 0, sizeof c);
	c.capacity = disk->size / BLK_SECTOR;
	c.seg_max = BLK_SEG_MAX;
	c.blk_size = BLK_SECTOR;
	c.max_discard_sectors = BLK_DISCARD_SECTORS;
	c.max_discard_seg = BLK_DISCARD_SEGS;
	c.discard_sector_alignment = BLK_DISCARD_ALIGN;
	c.max_write_zeroes_sectors = BLK_DISCARD_SECTORS;
	c.max_write_zeroes_seg = BLK_DISCARD_SEGS;
	c.write_zeroes_may_unmap = 1;
	memcpy(blk->dev.config, &c, sizeof c);
	blk->dev.config_size = sizeof c;
	return &blk->dev;
fail:
	saved = errno;
	disk->ops->close(disk);
	free(blk);
	errno = saved;
	return NULL;
}
