/*
 * virtio-net (virtio 1.1, 5.1) over an fd that carries one Ethernet
 * frame per read and write: a tap (IFF_TAP | IFF_NO_PI) or one end of a
 * SOCK_SEQPACKET socketpair. No offloads: the 12-byte header is dropped
 * on transmit and zeroed (but for num_buffers) on receive. Receive
 * buffers may be merged. With a locked lladdr, frames from any other
 * source address are dropped.
 */
#include <sys/socket.h>
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
#include "xmalloc.h"

#define NET_QUEUE_SIZE	256
#define NET_RXQ		0
#define NET_TXQ		1
#define NET_HDR_SIZE	12	/* struct virtio_net_hdr_mrg_rxbuf */
#define NET_NUMBUF_OFF	10
#define NET_ETH_HLEN	14
#define NET_MAX_FRAME	65535
#define NET_BUDGET	256	/* frames per wake-up, each way */
#define NET_PCI_CLASS	0x020000	/* network, Ethernet */

struct virtio_net {
	struct virtio_dev	 dev;
	int			 fd;
	int			 is_socket;
	uint8_t			 mac[6];
	int			 locked;
	int			 index;		/* the NIC's number, for counters */
	int			 rx_eof;	/* the fd's peer is gone */
	int			 rx_starved;	/* waits for buffers */
	size_t			 rx_len;	/* header + frame */
	int			 tx_blocked;	/* the fd is full */
	struct virtq_req	 req;
	struct virtq_req	 first;		/* RX: has the header */
	struct iovec		 frame[VIRTQ_MAX_SEGS];
	uint8_t			 rxbuf[NET_HDR_SIZE + NET_MAX_FRAME];
};

static void
count(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

/*
 * Send one frame. Returns 0 when sent or dropped, -1 when the fd is full
 * (try again on POLLOUT).
 */
static int
net_tx_frame(struct virtio_net *net, struct virtq_req *req)
{
	struct vmm_counters	*c = &net->dev.vmm->counters;
	struct msghdr		 msg;
	uint8_t			 src[6];
	size_t			 len;
	ssize_t			 w;
	int			 n;

	if (req->out_len < NET_HDR_SIZE + NET_ETH_HLEN ||
	    req->out_len - NET_HDR_SIZE > NET_MAX_FRAME)
		return 0;
	len = req->out_len - NET_HDR_SIZE;
	if (net->locked) {
		virtq_req_read(req, NET_HDR_SIZE + 6, src, sizeof src);
		if (memcmp(src, net->mac, sizeof src) != 0)
			return 0;
	}
	n = virtq_iov_slice(req->iov, req->nout, NET_HDR_SIZE, len,
	    net->frame, VIRTQ_MAX_SEGS);
	if (n < 0)
		return 0;
	do {
		if (net->is_socket) {
			memset(&msg, 0, sizeof msg);
			msg.msg_iov = net->frame;
			msg.msg_iovlen = n;
			w = sendmsg(net->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		} else
			w = writev(net->fd, net->frame, n);
	} while (w == -1 && errno == EINTR);
	if (w == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -1;
		log_debug("%s: send: %s", net->dev.name, strerror(errno));
		return 0;
	}
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
net_rx_deliver(struct virtio_net *net, struct virtq *vq)
{
	struct virtq_req	*req;
	size_t			 off = 0, n;
	uint16_t		 nb = 0, le;
	int			 r, mrg;

	mrg = virtio_dev_has(&net->dev, VIRTIO_NET_F_MRG_RXBUF);
	while (off < net->rx_len) {
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
		    (!mrg && req->in_len < net->rx_len))) {
			/* Too small for what must fit: drop the frame. */
			virtq_unpop(vq, 1);
			return 1;
		}
		n = virtq_req_write(req, 0, net->rxbuf + off,
		    net->rx_len - off);
		virtq_fill(vq, req->head, n, nb);
		nb++;
		off += n;
	}
	le = nb;
	virtq_req_write(&net->first, NET_NUMBUF_OFF, &le, sizeof le);
	virtq_flush(vq, nb);
	return 1;
}

/* Receive frames from the fd while the guest has buffers for them. */
static void
net_rx(struct virtio_net *net, struct virtq *vq)
{
	struct vmm_counters	*c = &net->dev.vmm->counters;
	ssize_t			 n;
	int			 i, r, sent = 0;

	for (i = 0; i < NET_BUDGET && !net->rx_eof; i++) {
		if (net->rx_len == 0) {
			n = read(net->fd, net->rxbuf + NET_HDR_SIZE,
			    NET_MAX_FRAME);
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1 && (errno == EAGAIN ||
			    errno == EWOULDBLOCK))
				break;
			if (n == -1 || (n == 0 && net->is_socket)) {
				if (n == -1)
					log_warn("%s: receive", net->dev.name);
				net->rx_eof = 1;
				break;
			}
			if (n < NET_ETH_HLEN)
				continue;
			memset(net->rxbuf, 0, NET_HDR_SIZE);
			net->rx_len = NET_HDR_SIZE + n;
		}
		if ((r = net_rx_deliver(net, vq)) == -1)
			return;
		if (r == 0) {
			/* Ask for a kick when buffers come, then look again. */
			if (virtq_enable_notify(vq))
				continue;
			net->rx_starved = 1;
			break;
		}
		count(&c->net_rx_packets, 1);
		count(&c->net_rx_bytes, net->rx_len - NET_HDR_SIZE);
		count(&c->nic_rx_packets[net->index], 1);
		count(&c->nic_rx_bytes[net->index],
		    net->rx_len - NET_HDR_SIZE);
		net->rx_len = 0;
		sent++;
	}
	if (sent > 0)
		virtio_dev_signal(&net->dev, vq);
}

static void
net_notify(struct virtio_dev *dev, struct virtq *vq)
{
	struct virtio_net	*net = dev->priv;

	if (vq->index == NET_TXQ)
		net_tx(net, vq);
	else {
		net->rx_starved = 0;
		net_rx(net, vq);
	}
}

static short
net_io_events(struct virtio_dev *dev, int *fd)
{
	struct virtio_net	*net = dev->priv;
	short			 ev = 0;

	*fd = net->fd;
	if (!net->rx_eof && !net->rx_starved && dev->vqs[NET_RXQ].ready)
		ev |= POLLIN;
	if (net->tx_blocked)
		ev |= POLLOUT;
	return ev;
}

static void
net_io_ready(struct virtio_dev *dev, short revents)
{
	struct virtio_net	*net = dev->priv;

	if (revents & POLLNVAL) {
		net->rx_eof = 1;
		net->tx_blocked = 0;
		return;
	}
	if (revents & (POLLOUT | POLLERR | POLLHUP)) {
		net->tx_blocked = 0;
		if (dev->vqs[NET_TXQ].ready)
			net_tx(net, &dev->vqs[NET_TXQ]);
	}
	if ((revents & (POLLIN | POLLERR | POLLHUP)) && dev->vqs[NET_RXQ].ready)
		net_rx(net, &dev->vqs[NET_RXQ]);
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
 * A virtio-net device on the PCI bus for fd; it owns fd from now on
 * (also on failure). Returns the device, or NULL with errno set.
 */
struct virtio_dev *
virtio_net_create(struct vmm *vmm, struct pci *pci, int fd,
    const uint8_t mac[6], int locked, int index)
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
	net->is_socket = S_ISSOCK(st.st_mode);

	features = VIRTIO_F(VIRTIO_NET_F_MAC) | VIRTIO_F(VIRTIO_NET_F_STATUS) |
	    VIRTIO_F(VIRTIO_NET_F_MRG_RXBUF) |
	    VIRTIO_F(VIRTIO_RING_F_EVENT_IDX) |
	    VIRTIO_F(VIRTIO_RING_F_INDIRECT_DESC);
	snprintf(name, sizeof name, "virtio-net%d", index);
	if (virtio_dev_init(&net->dev, vmm, &net_ops, net, name, features, 2,
	    NET_QUEUE_SIZE) == -1)
		goto fail;
	memset(&c, 0, sizeof c);
	memcpy(c.mac, mac, sizeof c.mac);
	c.status = VIRTIO_NET_S_LINK_UP;
	memcpy(net->dev.config, &c, sizeof c);
	net->dev.config_size = sizeof c;

	if (virtio_pci_create(pci, &net->dev) == -1) {
		saved = errno;
		virtio_dev_free(&net->dev);
		errno = saved;
		goto fail;
	}
	return &net->dev;
fail:
	saved = errno;
	close(fd);
	free(net);
	errno = saved;
	return NULL;
}
