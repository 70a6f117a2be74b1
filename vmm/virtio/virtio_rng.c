/*
 * virtio-rng (virtio 1.1, 5.4): one queue whose writable buffers are
 * filled from getrandom().
 */
#include <sys/random.h>

#include <errno.h>
#include <stdlib.h>

#include "log.h"
#include "virtio.h"
#include "xmalloc.h"

#define RNG_QUEUE_SIZE	64
#define RNG_MAX_REQ	65536	/* bytes filled per request at most */
#define RNG_PCI_CLASS	0x00ff00	/* unclassified */

struct virtio_rng {
	struct virtio_dev	dev;
	struct virtq_req	req;
};

/* Fill the request's writable buffers; the bytes written. */
static uint32_t
rng_fill(struct virtq_req *req)
{
	struct iovec	*iov = req->iov + req->nout;
	size_t		 done = 0, want;
	ssize_t		 n;
	int		 i;

	for (i = 0; i < req->nin && done < RNG_MAX_REQ; i++) {
		want = iov[i].iov_len;
		if (want > RNG_MAX_REQ - done)
			want = RNG_MAX_REQ - done;
		n = getrandom(iov[i].iov_base, want, 0);
		if (n == -1 && errno == EINTR)
			n = getrandom(iov[i].iov_base, want, 0);
		if (n == -1) {
			log_warn("%s: getrandom", __func__);
			break;
		}
		done += n;
		if ((size_t)n < want)
			break;
	}
	return done;
}

static void
rng_notify(struct virtio_dev *dev, struct virtq *vq)
{
	struct virtio_rng	*rng = dev->priv;
	int			 r, n;

	do {
		n = 0;
		while ((r = virtq_pop(vq, &rng->req)) == 1) {
			virtq_push(vq, rng->req.head, rng_fill(&rng->req));
			n++;
		}
		if (n > 0)
			virtio_dev_signal(dev, vq);
		if (r == -1)
			return;
	} while (virtq_enable_notify(vq));
}

static void
rng_destroy(struct virtio_dev *dev)
{
	free(dev->priv);
}

static const struct virtio_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.pci_class = RNG_PCI_CLASS,
	.queue_notify = rng_notify,
	.destroy = rng_destroy,
};

/* A virtio-rng device; NULL with errno set. */
struct virtio_dev *
virtio_rng_create(struct vmm *vmm)
{
	struct virtio_rng	*rng;
	int			 saved;

	rng = xcalloc(1, sizeof *rng);
	if (virtio_dev_init(&rng->dev, vmm, &rng_ops, rng, "virtio-rng",
	    VIRTIO_F(VIRTIO_RING_F_EVENT_IDX) |
	    VIRTIO_F(VIRTIO_RING_F_INDIRECT_DESC), 1, RNG_QUEUE_SIZE) == -1)
		goto fail;
	return &rng->dev;
fail:
	saved = errno;
	free(rng);
	errno = saved;
	return NULL;
}
