/*
 * virtio-net (virtio 1.1, 5.1) over a backend that carries one Ethernet
 * frame per read and write (virtio_net.h): a tap, or the socket to
 * vmtop-slirp and the frame rings it may offer. No offloads: the 12-byte
 * header is dropped on transmit and zeroed (but for num_buffers) on
 * receive. Receive buffers may be merged. With a locked lladdr, frames
 * from any other source address are dropped.
 */
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_net.h>

#include "log.h"
#include "virtio.h"
#include "virtio_net.h"
#include "xmalloc.h"

#define NET_QUEUE_SIZE	256
#define NET_NUMBUF_OFF	10
#define NET_PCI_CLASS	0x020000	/* network, Ethernet */

static void
count(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

/*
 * Send one frame. Returns 0 when sent or dropped, -1 when the backend is
 * full (try again when its poll says so).
 */
static int
net_tx_frame(struct virtio_net *net, struct virtq_req *req)
{
	struct vmm_counters	*c = &net->dev.vmm->counters;
	uint8_t			 src[6];
	size_t			 len;
	int			 n, w;

	/* Nobody to take it (the peer hung up or broke the ring): drop. */
	if (net->rx_eof || req->out_len < NET_HDR_SIZE + NET_ETH_HLEN ||
	    req->out_len - NET_HDR_SIZE > NET_MAX_FRAME)
		return 0;
	len = req->out_len - NET_HDR_SIZE;
	if (net->locked) {
		virtq_req_read(req, NET_HDR_SIZE + 6, src, sizeof src);
		if (memcmp(src, net->mac, sizeof src) != 0)
			return 0;
	}
	n = iov_slice(req->iov, req->nout, NET_HDR_SIZE, len,
	    net->frame, VIRTQ_MAX_SEGS);
	if (n < 0)
		return 0;
	if ((w = net->be->send(net, net->frame, n, len)) != 1)
		return w == -1 ? -1 : 0;
	count(&c->net_tx_packets, 1);
	count(&c->net_tx_bytes, len);
	count(&c->nic_tx_packets[net->index], 1);
	count(&c->nic_tx_bytes[net->index], len);
	return 0;
}

static void
net_tx(struct virtio_net *net, struct virtq *vq)
{
	int	r = 0, n;

	do {
		n = 0;
		while (!net->tx_blocked &&
		    (r = virtq_pop(vq, &net->req)) == 1) {
			if (net_tx_frame(net, &net->req) == -1) {
				virtq_unpop(vq, 1);
				net->tx_blocked = 1;
				break;
			}
			virtq_push(vq, net->req.head, 0);
			n++;
		}
		if (n > 0)
			virtio_dev_signal(&net->dev, vq);
		if (n > 0 && net->be->sent != NULL)
			net->be->sent(net);
		if (r == -1 || net->tx_blocked)
			return;
	} while (virtq_enable_notify(vq));
}

/*
 * Put the frame in rxbuf into receive buffers. Returns 1 when done with
 * the frame (delivered, or dropped for a buffer too small to hold it), 0
 * when there are not enough buffers, -1 when the ring is broken.
 */
static int
net_rx_deliver(struct virtio_net *net, struct virtq *vq, const uint8_t *frame,
    size_t len)
{
	static const uint8_t	 hdr[NET_HDR_SIZE];
	struct virtq_req	*req;
	size_t			 off = 0, n, total = NET_HDR_SIZE + len, k;
	uint16_t		 nb = 0, le;
	int			 r, mrg;

	mrg = virtio_dev_has(&net->dev, VIRTIO_NET_F_MRG_RXBUF);
	while (off < total) {
		if (nb == vq->size) {
			virtq_unpop(vq, nb);
			return 0;
		}
		req = nb == 0 ? &net->first : &net->req;
		if ((r = virtq_pop(vq, req)) == -1)
			return -1;
		if (r == 0) {
			virtq_unpop(vq, nb);
			return 0;
		}
		if (nb == 0 && (req->in_len < NET_HDR_SIZE ||
		    (!mrg && req->in_len < total))) {
			/* Too small for what must fit: drop the frame. */
			virtq_unpop(vq, 1);
			return 1;
		}
		/* The header (only in the first buffer), then the frame. */
		k = off == 0 ? virtq_req_write(req, 0, hdr, NET_HDR_SIZE) : 0;
		n = k + virtq_req_write(req, k, frame + off + k - NET_HDR_SIZE,
		    total - off - k);
		virtq_fill(vq, req->head, n, nb);
		nb++;
		off += n;
	}
	le = nb;
	virtq_req_write(&net->first, NET_NUMBUF_OFF, &le, sizeof le);
	virtq_flush(vq, nb);
	return 1;
}

static void
net_rx_count(struct virtio_net *net, size_t len)
{
	struct vmm_counters	*c = &net->dev.vmm->counters;

	count(&c->net_rx_packets, 1);
	count(&c->net_rx_bytes, len);
	count(&c->nic_rx_packets[net->index], 1);
	count(&c->nic_rx_bytes[net->index], len);
}

int
virtio_net_rx_put(struct virtio_net *net, struct virtq *vq,
    const uint8_t *frame, size_t len)
{
	int	r;

	if ((r = net_rx_deliver(net, vq, frame, len)) == 1) {
		net_rx_count(net, len);
		return 1;
	}
	if (r == 0) {
		if (virtq_enable_notify(vq))
			return -2;
		net->rx_starved = 1;
	}
	return r;
}

/*
 * Frames from the fd while the guest has buffers for them.
 * Returns how many were delivered, or -1 to stop receiving.
 */
static int
net_rx_fd(struct virtio_net *net, struct virtq *vq)
{
	ssize_t	n;
	int	i, r, sent = 0;

	for (i = 0; i < NET_BUDGET && !net->rx_eof; i++) {
		if (net->rx_len == 0) {
			n = net->be->recv(net, net->rxbuf + NET_HDR_SIZE,
			    NET_MAX_FRAME);
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1 && (errno == EAGAIN ||
			    errno == EWOULDBLOCK))
				break;
			if (n == -1) {
				if (errno != 0)
					log_warn("%s: receive", net->dev.name);
				net->rx_eof = 1;
				break;
			}
			if (n == 0)
				continue;
			net->rx_len = NET_HDR_SIZE + n;
		}
		r = virtio_net_rx_put(net, vq, net->rxbuf + NET_HDR_SIZE,
		    net->rx_len - NET_HDR_SIZE);
		if (r == -2)
			continue;
		if (r != 1)
			return r == -1 ? -1 : sent;
		net->rx_len = 0;
		sent++;
	}
	return sent;
}

/*
 * Read the fd with the receive queue not usable: doorbells go, the first
 * frame waits in rxbuf (and stops the reading) for the queue.
 */
static void
net_rx_hold(struct virtio_net *net)
{
	ssize_t	n;

	while (net->rx_len == 0 && !net->rx_eof) {
		n = net->be->recv(net, net->rxbuf + NET_HDR_SIZE,
		    NET_MAX_FRAME);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				net->rx_eof = 1;
			break;
		}
		if (n > 0)
			net->rx_len = NET_HDR_SIZE + n;
	}
}

int
virtio_net_sent(struct virtio_net *net, ssize_t w)
{
	if (w != -1)
		return 1;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return -1;
	log_debug("%s: send: %s", net->dev.name, strerror(errno));
	return 0;
}

int
virtio_net_fd_io(short rev)
{
	int	io = 0;

	if (rev != 0)
		io |= NET_IO_FD;
	if (rev & POLLIN)
		io |= NET_IO_IN;
	if (rev & (POLLIN | POLLERR | POLLHUP))
		io |= NET_IO_RX;
	if (rev & (POLLOUT | POLLERR | POLLHUP))
		io |= NET_IO_TX;
	return io;
}

void
virtio_net_rx(struct virtio_net *net, struct virtq *vq, int fd)
{
	int	n, sent = 0;

	if ((fd || net->rx_len > 0) && (sent = net_rx_fd(net, vq)) == -1)
		return;
	if (net->be->rx_pull != NULL && !net->rx_eof && !net->rx_starved) {
		if ((n = net->be->rx_pull(net, vq)) == -1)
			return;
		sent += n;
	}
	if (sent > 0)
		virtio_dev_signal(&net->dev, vq);
}

static int
net_notify_reads_fd(struct virtio_net *net)
{
	return net->be->notify_reads_fd == NULL ||
	    net->be->notify_reads_fd(net);
}

static void
net_notify(struct virtio_dev *dev, struct virtq *vq)
{
	struct virtio_net	*net = dev->priv;

	if (vq->index == NET_TXQ)
		net_tx(net, vq);
	else {
		net->rx_starved = 0;
		virtio_net_rx(net, vq, net_notify_reads_fd(net));
	}
}

static int
net_io_events(struct virtio_dev *dev, struct pollfd *pfd)
{
	struct virtio_net	*net = dev->priv;

	return net->be->poll_fds(net, pfd, !net->rx_eof && !net->rx_starved &&
	    dev->vqs[NET_RXQ].ready, net->tx_blocked && !net->rx_eof);
}

static void
net_io_ready(struct virtio_dev *dev, const struct pollfd *pfd, int n)
{
	struct virtio_net	*net = dev->priv;
	int			 io;

	if ((io = net->be->ready(net, pfd, n)) & NET_IO_BROKEN) {
		net->rx_eof = 1;
		net->tx_blocked = 0;
		return;
	}
	if ((io & NET_IO_RX) && dev->vqs[NET_RXQ].ready)
		virtio_net_rx(net, &dev->vqs[NET_RXQ], (io & NET_IO_FD) != 0);
	else if (io & NET_IO_IN)
		net_rx_hold(net);
	if (io & NET_IO_TX) {
		net->tx_blocked = 0;
		if (dev->vqs[NET_TXQ].ready)
			net_tx(net, &dev->vqs[NET_TXQ]);
	}
}

static void
net_reset(struct virtio_dev *dev)
{
	struct virtio_net	*net = dev->priv;

	net->rx_len = 0;
	net->rx_starved = 0;
	net->rx_eof = 0;
	net->tx_blocked = 0;
}

static void
net_destroy(struct virtio_dev *dev)
{
	struct virtio_net	*net = dev->priv;

	net->be->destroy(net);
	close(net->fd);
	free(net);
}

static const struct virtio_ops net_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.pci_class = NET_PCI_CLASS,
	.queue_notify = net_notify,
	.io_events = net_io_events,
	.io_ready = net_io_ready,
	.reset = net_reset,
	.destroy = net_destroy,
};

/*
 * A virtio-net device for fd, over the ring backend if fd is a socket,
 * else the tap backend; it owns fd from now on (also on failure).
 * Returns the device, or NULL with errno set.
 */
struct virtio_dev *
virtio_net_create(struct vmm *vmm, int fd, const uint8_t mac[6], int locked,
    uint32_t mtu, int index)
{
	struct virtio_net	*net;
	struct virtio_net_config c;
	struct stat		 st;
	uint64_t		 features;
	char			 name[16];
	int			 fl, saved;

	net = xcalloc(1, sizeof *net);
	net->fd = fd;
	memcpy(net->mac, mac, sizeof net->mac);
	net->locked = locked;
	if (index < 0 || index >= VM_MAX_NICS) {
		errno = EINVAL;
		goto fail;
	}
	net->index = index;
	if (fstat(fd, &st) == -1 || (fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		goto fail;
	net->be = S_ISSOCK(st.st_mode) ? &virtio_net_ring_ops :
	    &virtio_net_tap_ops;
	if (net->be->init != NULL && net->be->init(net) == -1) {
		net->be = NULL;
		goto fail;
	}

	features = VIRTIO_F(VIRTIO_NET_F_MAC) | VIRTIO_F(VIRTIO_NET_F_STATUS) |
	    VIRTIO_F(VIRTIO_NET_F_MRG_RXBUF) |
	    VIRTIO_F(VIRTIO_RING_F_EVENT_IDX) |
	    VIRTIO_F(VIRTIO_RING_F_INDIRECT_DESC);
	/* The link's MTU, for the guest to take (virtio 1.1, 5.1.3). */
	if (mtu >= 68 && mtu <= NET_MAX_FRAME - NET_ETH_HLEN)
		features |= VIRTIO_F(VIRTIO_NET_F_MTU);
	snprintf(name, sizeof name, "virtio-net%d", index);
	if (virtio_dev_init(&net->dev, vmm, &net_ops, net, name, features, 2,
	    NET_QUEUE_SIZE) == -1)
		goto fail;
	memset(&c, 0, sizeof c);
	memcpy(c.mac, mac, sizeof c.mac);
	c.status = VIRTIO_NET_S_LINK_UP;
	if (features & VIRTIO_F(VIRTIO_NET_F_MTU))
		c.mtu = mtu;
	memcpy(net->dev.config, &c, sizeof c);
	net->dev.config_size = sizeof c;
	return &net->dev;
fail:
	saved = errno;
	if (net->be != NULL)
		net->be->destroy(net);
	close(fd);
	free(net);
	errno = saved;
	return NULL;
}
