/*
 * virtio-net (virtio 1.1, 5.1) over an fd that carries one Ethernet
 * frame per read and write: a tap (IFF_TAP | IFF_NO_PI) or one end of a
 * SOCK_SEQPACKET socketpair. When the socket's peer (vmtop-slirp) offers
 * shared frame rings (lib/framering.h), frames go through those and the
 * socket only carries doorbells: no copy through the kernel, no system
 * call per frame (and doorbells go through the eventfds the offer brings,
 * if it does). No offloads: the 12-byte header is dropped on transmit
 * and zeroed (but for num_buffers) on receive. Receive buffers may be
 * merged. With a locked lladdr, frames from any other source address are
 * dropped.
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

#include "framering.h"
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
#define NET_RING_ROUNDS	8	/* budgets from the ring before sleeping */
#define NET_MAX_FDS	8	/* fds a datagram may bring */
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
	int			 tx_blocked;	/* the fd or ring is full */
	struct framering_pair	 ring;		/* once the peer offered */
	int			 ring_on;
	int			 bells[2];	/* FRAMERING_BELL_*, or -1 */
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

/* One datagram of the ring's protocol (sendmsg: the sandbox has no send). */
static ssize_t
net_send_ctl(struct virtio_net *net, const void *buf, size_t len, int flags)
{
	struct iovec	iov = { (void *)buf, len };
	struct msghdr	msg;

	memset(&msg, 0, sizeof msg);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	return sendmsg(net->fd, &msg, flags | MSG_NOSIGNAL);
}

/* Wake the ring's peer: its eventfd, or a datagram too short to be a frame. */
static void
net_doorbell(struct virtio_net *net)
{
	static const uint8_t	bell[FRAMERING_DOORBELL];

	if (net->bells[FRAMERING_BELL_HELPER] != -1) {
		framering_bell_ring(net->bells[FRAMERING_BELL_HELPER]);
		return;
	}
	if (net_send_ctl(net, bell, sizeof bell, MSG_DONTWAIT) == -1 &&
	    errno != EAGAIN && errno != EWOULDBLOCK)
		log_debug("%s: doorbell: %s", net->dev.name, strerror(errno));
}

static void
net_close_fds(int *fds, int n)
{
	int	i;

	for (i = 0; i < n; i++)
		close(fds[i]);
}

/*
 * The peer offered frame rings in fds[0] (and its doorbells in the two
 * after it, if nfds is 3): map them and say yes, after which frames go
 * through them (the socket's frames before the offer are all sent). An
 * fd that is not a ring is refused and the socket stays. Takes the fds.
 */
static void
net_ring_offer(struct virtio_net *net, int *fds, int nfds)
{
	int	i, fl;

	for (i = 1; i < nfds; i++)
		if ((fl = fcntl(fds[i], F_GETFL)) == -1 ||
		    fcntl(fds[i], F_SETFL, fl | O_NONBLOCK) == -1)
			break;
	if (net->ring_on || (nfds != 1 && nfds != FRAMERING_OFFER_FDS) ||
	    i < nfds || framering_map(fds[0], FRAMERING_RUNNER,
	    &net->ring) == -1) {
		log_warnx("%s: refused a frame ring offer", net->dev.name);
		net_close_fds(fds, nfds);
		return;
	}
	close(fds[0]);
	if (net_send_ctl(net, FRAMERING_MAGIC, FRAMERING_CTL_SIZE, 0) !=
	    FRAMERING_CTL_SIZE) {
		log_warn("%s: accepting the frame rings", net->dev.name);
		framering_unmap(&net->ring);
		net_close_fds(fds + 1, nfds - 1);
		return;
	}
	if (nfds == FRAMERING_OFFER_FDS)
		memcpy(net->bells, fds + 1, sizeof net->bells);
	net->ring_on = 1;
	log_debug("%s: frames go through shared rings%s", net->dev.name,
	    nfds > 1 ? ", doorbells through eventfds" : "");
}

/*
 * Read one datagram into rxbuf after the header room. Returns its
 * length; 0 for a datagram that was not a frame (a doorbell, a ring
 * offer); -1 with errno set, and errno 0 for the peer's hang-up.
 */
static ssize_t
net_recv(struct virtio_net *net)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(NET_MAX_FDS * sizeof(int))];
	}		 cm;
	struct iovec	 iov = { net->rxbuf + NET_HDR_SIZE, NET_MAX_FRAME };
	struct msghdr	 msg;
	struct cmsghdr	*c;
	ssize_t		 n;
	int		 fds[NET_MAX_FDS], nfds = 0, got, other = 0;

	if (!net->is_socket) {
		n = read(net->fd, iov.iov_base, iov.iov_len);
		return n < NET_ETH_HLEN && n >= 0 ? 0 : n;
	}
	memset(&msg, 0, sizeof msg);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof cm.buf;
	if ((n = recvmsg(net->fd, &msg, MSG_CMSG_CLOEXEC)) == -1)
		return -1;
	if (n == 0) {
		errno = 0;
		return -1;
	}
	/*
	 * Any control data makes the datagram not a frame. Every fd that
	 * came is closed, but for those of a well-formed offer (one
	 * SCM_RIGHTS message, nothing else).
	 */
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0)) {
			other++;
			continue;
		}
		got = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (got > NET_MAX_FDS - nfds)
			got = NET_MAX_FDS - nfds;
		memcpy(fds + nfds, CMSG_DATA(c), got * sizeof(int));
		nfds += got;
		other += 2;	/* a second one makes it no offer */
	}
	if (other == 2 && n == FRAMERING_CTL_SIZE && !(msg.msg_flags &
	    MSG_CTRUNC) && memcmp(iov.iov_base, FRAMERING_MAGIC,
	    FRAMERING_CTL_SIZE) == 0)
		net_ring_offer(net, fds, nfds);
	else
		net_close_fds(fds, nfds);
	if (other > 0 || (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)))
		return 0;
	return n < NET_ETH_HLEN ? 0 : n;
}

/*
 * Send one frame. Returns 0 when sent or dropped, -1 when the fd or ring
 * is full (try again on POLLOUT, or the peer's doorbell).
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
	n = virtq_iov_slice(req->iov, req->nout, NET_HDR_SIZE, len,
	    net->frame, VIRTQ_MAX_SEGS);
	if (n < 0)
		return 0;
	if (net->ring_on) {
		while ((w = framering_push(&net->ring.tx, net->frame, n,
		    len)) == 0)
			if (!framering_want_space(&net->ring.tx, len))
				return -1;
		if (w == -1)
			return 0;
		goto sent;
	}
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
sent:
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
		if (n > 0 && net->ring_on &&
		    framering_consumer_asleep(&net->ring.tx))
			net_doorbell(net);
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

/*
 * net_rx_deliver's answer on a frame: 1 go on, 0 stop (no buffers: ask
 * for a kick, or look again when one came meanwhile: -2), -1 broken.
 */
static int
net_rx_put(struct virtio_net *net, struct virtq *vq, const uint8_t *frame,
    size_t len)
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
 * Frames from the socket (or tap) while the guest has buffers for them.
 * Returns how many were delivered, or -1 to stop receiving.
 */
static int
net_rx_fd(struct virtio_net *net, struct virtq *vq)
{
	ssize_t	n;
	int	i, r, sent = 0;

	for (i = 0; i < NET_BUDGET && !net->rx_eof; i++) {
		if (net->rx_len == 0) {
			n = net_recv(net);
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
		r = net_rx_put(net, vq, net->rxbuf + NET_HDR_SIZE,
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
 * Read the socket with the receive queue not usable: doorbells go, the
 * first frame waits in rxbuf (and stops the reading) for the queue.
 */
static void
net_rx_hold(struct virtio_net *net)
{
	ssize_t	n;

	while (net->rx_len == 0 && !net->rx_eof) {
		if ((n = net_recv(net)) == -1 && errno == EINTR)
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

/* Frames from the ring while the guest has buffers for them. */
static int
net_rx_ring(struct virtio_net *net, struct virtq *vq)
{
	const uint8_t	*f;
	size_t		 len;
	int		 i, r = 0, sent = 0;

	for (i = 0; i < NET_BUDGET && !net->rx_starved; i++) {
		if ((f = framering_peek(&net->ring.rx, &len)) == NULL)
			break;
		if ((r = net_rx_put(net, vq, f, len)) == -2)
			continue;
		if (r != 1)
			break;
		framering_pop(&net->ring.rx);
		sent++;
	}
	if (framering_producer_waits(&net->ring.rx))
		net_doorbell(net);
	if (framering_broken(&net->ring.rx) ||
	    framering_broken(&net->ring.tx)) {
		log_warnx("%s: the peer broke the shared frame ring",
		    net->dev.name);
		net->rx_eof = 1;
	}
	return r == -1 ? -1 : sent;
}

/*
 * Receive frames while the guest has buffers for them: a frame held
 * back, the socket's when sock says so, then the ring's.
 */
static void
net_rx(struct virtio_net *net, struct virtq *vq, int sock)
{
	int	n, sent = 0;

	if ((sock || net->rx_len > 0) && (sent = net_rx_fd(net, vq)) == -1)
		return;
	if (net->ring_on && !net->rx_eof && !net->rx_starved) {
		if ((n = net_rx_ring(net, vq)) == -1)
			return;
		sent += n;
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
		net_rx(net, vq, net->bells[FRAMERING_BELL_RUNNER] == -1);
	}
}

/* The socket, and the peer's doorbell if it gave one. */
static int
net_io_events(struct virtio_dev *dev, struct pollfd *pfd)
{
	struct virtio_net	*net = dev->priv;
	short			 ev = 0;
	int			 i, sock_bells;

	sock_bells = net->bells[FRAMERING_BELL_RUNNER] == -1;
	/*
	 * The ring: sleep only once the peer was asked to ring. A guest
	 * that breaks its queue stops this (the device is no longer live);
	 * past the bound, the thread comes straight back for the rest.
	 */
	for (i = 0; net->ring_on && !net->rx_eof && !net->rx_starved &&
	    dev->vqs[NET_RXQ].ready && virtio_dev_live(dev) &&
	    framering_want_frames(&net->ring.rx); i++) {
		if (i == NET_RING_ROUNDS) {
			virtio_dev_wake(dev);
			break;
		}
		net_rx(net, &dev->vqs[NET_RXQ], sock_bells);
	}
	if (!net->rx_eof && !net->rx_starved && dev->vqs[NET_RXQ].ready)
		ev |= POLLIN;
	/* A full ring waits for the peer's doorbell, a full fd for room. */
	if (net->tx_blocked && !net->rx_eof)
		ev |= net->ring_on ? (net->rx_len == 0 ? POLLIN : 0) : POLLOUT;
	pfd[0].fd = net->fd;
	pfd[0].events = ev;
	if (sock_bells)
		return 1;
	pfd[1].fd = net->bells[FRAMERING_BELL_RUNNER];
	pfd[1].events = ev & POLLIN;
	return 2;
}

static void
net_io_ready(struct virtio_dev *dev, const struct pollfd *pfd, int n)
{
	struct virtio_net	*net = dev->priv;
	short			 rev = pfd[0].revents;
	short			 bell = n > 1 ? pfd[1].revents : 0;

	/* An eventfd never hangs up: a doorbell that does is broken. */
	if ((rev & POLLNVAL) || (bell & (POLLNVAL | POLLERR | POLLHUP))) {
		if (bell != 0)
			log_warnx("%s: the peer's doorbell is broken",
			    net->dev.name);
		net->rx_eof = 1;
		net->tx_blocked = 0;
		return;
	}
	if (bell & POLLIN)
		framering_bell_take(net->bells[FRAMERING_BELL_RUNNER]);
	if (((rev & (POLLIN | POLLERR | POLLHUP)) || (bell & POLLIN)) &&
	    dev->vqs[NET_RXQ].ready)
		net_rx(net, &dev->vqs[NET_RXQ], rev != 0);
	else if (rev & POLLIN)
		net_rx_hold(net);
	if ((rev & (POLLOUT | POLLERR | POLLHUP)) ||
	    (((rev | bell) & POLLIN) && net->ring_on)) {
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

	close(net->fd);
	if (net->bells[0] != -1)
		net_close_fds(net->bells, 2);
	framering_unmap(&net->ring);
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
    const uint8_t mac[6], int locked, uint32_t mtu, int index)
{
	struct virtio_net	*net;
	struct virtio_net_config c;
	struct stat		 st;
	uint64_t		 features;
	char			 name[16];
	int			 fl, saved;

	net = xcalloc(1, sizeof *net);
	net->fd = fd;
	net->bells[0] = net->bells[1] = -1;
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
