/*
 * virtio-net's backend on one end of a SOCK_SEQPACKET socketpair (to
 * vmtop-slirp): one frame per datagram. When the peer offers shared
 * frame rings (lib/framering.h), frames go through those and the socket
 * only carries doorbells: no copy through the kernel, no system call per
 * frame (and doorbells go through the eventfds the offer brings, if it
 * does).
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "framering.h"
#include "log.h"
#include "virtio_net.h"
#include "xmalloc.h"

#define NET_RING_ROUNDS	8	/* budgets from the ring before sleeping */
#define NET_MAX_FDS	8	/* fds a datagram may bring */

struct net_ring {
	struct framering_pair	 ring;		/* once the peer offered */
	int			 on;
	int			 bells[2];	/* FRAMERING_BELL_*, or -1 */
};

static int
net_ring_init(struct virtio_net *net)
{
	struct net_ring	*nr;

	nr = xcalloc(1, sizeof *nr);
	nr->bells[0] = nr->bells[1] = -1;
	net->be_data = nr;
	return 0;
}

/* One datagram of the ring's protocol (sendmsg: the sandbox has no send). */
static ssize_t
net_ring_ctl(struct virtio_net *net, const void *buf, size_t len, int flags)
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
net_ring_doorbell(struct virtio_net *net)
{
	static const uint8_t	 bell[FRAMERING_DOORBELL];
	struct net_ring		*nr = net->be_data;

	if (nr->bells[FRAMERING_BELL_HELPER] != -1) {
		framering_bell_ring(nr->bells[FRAMERING_BELL_HELPER]);
		return;
	}
	if (net_ring_ctl(net, bell, sizeof bell, MSG_DONTWAIT) == -1 &&
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
	struct net_ring	*nr = net->be_data;
	int		 i, fl;

	for (i = 1; i < nfds; i++)
		if ((fl = fcntl(fds[i], F_GETFL)) == -1 ||
		    fcntl(fds[i], F_SETFL, fl | O_NONBLOCK) == -1)
			break;
	if (nr->on || (nfds != 1 && nfds != FRAMERING_OFFER_FDS) ||
	    i < nfds || framering_map(fds[0], FRAMERING_RUNNER,
	    &nr->ring) == -1) {
		log_warnx("%s: refused a frame ring offer", net->dev.name);
		net_close_fds(fds, nfds);
		return;
	}
	close(fds[0]);
	if (net_ring_ctl(net, FRAMERING_MAGIC, FRAMERING_CTL_SIZE, 0) !=
	    FRAMERING_CTL_SIZE) {
		log_warn("%s: accepting the frame rings", net->dev.name);
		framering_unmap(&nr->ring);
		net_close_fds(fds + 1, nfds - 1);
		return;
	}
	if (nfds == FRAMERING_OFFER_FDS)
		memcpy(nr->bells, fds + 1, sizeof nr->bells);
	nr->on = 1;
	log_debug("%s: frames go through shared rings%s", net->dev.name,
	    nfds > 1 ? ", doorbells through eventfds" : "");
}

/* A datagram that is a doorbell or a ring offer reads as 0. */
static ssize_t
net_ring_recv(struct virtio_net *net, void *buf, size_t len)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(NET_MAX_FDS * sizeof(int))];
	}		 cm;
	struct iovec	 iov = { buf, len };
	struct msghdr	 msg;
	struct cmsghdr	*c;
	ssize_t		 n;
	int		 fds[NET_MAX_FDS], nfds = 0, got, other = 0;

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

/* Into the ring once the peer offered one, else as a datagram. */
static int
net_ring_send(struct virtio_net *net, struct iovec *iov, int n, size_t len)
{
	struct net_ring	*nr = net->be_data;
	struct msghdr	 msg;
	ssize_t		 w;

	if (nr->on) {
		while ((w = framering_push(&nr->ring.tx, iov, n, len)) == 0)
			if (!framering_want_space(&nr->ring.tx, len))
				return -1;
		return w == -1 ? 0 : 1;
	}
	do {
		memset(&msg, 0, sizeof msg);
		msg.msg_iov = iov;
		msg.msg_iovlen = n;
		w = sendmsg(net->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (w == -1 && errno == EINTR);
	return virtio_net_sent(net, w);
}

/* Frames went into the ring: wake the peer if it sleeps. */
static void
net_ring_sent(struct virtio_net *net)
{
	struct net_ring	*nr = net->be_data;

	if (nr->on && framering_consumer_asleep(&nr->ring.tx))
		net_ring_doorbell(net);
}

/* Frames from the ring while the guest has buffers for them. */
static int
net_ring_rx(struct virtio_net *net, struct virtq *vq)
{
	struct net_ring	*nr = net->be_data;
	const uint8_t	*f;
	size_t		 len;
	int		 i, r = 0, sent = 0;

	if (!nr->on)
		return 0;
	for (i = 0; i < NET_BUDGET && !net->rx_starved; i++) {
		if ((f = framering_peek(&nr->ring.rx, &len)) == NULL)
			break;
		if ((r = virtio_net_rx_put(net, vq, f, len)) == -2)
			continue;
		if (r != 1)
			break;
		framering_pop(&nr->ring.rx);
		sent++;
	}
	if (framering_producer_waits(&nr->ring.rx))
		net_ring_doorbell(net);
	if (framering_broken(&nr->ring.rx) ||
	    framering_broken(&nr->ring.tx)) {
		log_warnx("%s: the peer broke the shared frame ring",
		    net->dev.name);
		net->rx_eof = 1;
	}
	return r == -1 ? -1 : sent;
}

/* Doorbells come on the socket unless the peer gave eventfds. */
static int
net_ring_notify_reads_fd(struct virtio_net *net)
{
	struct net_ring	*nr = net->be_data;

	return nr->bells[FRAMERING_BELL_RUNNER] == -1;
}

/* The socket, and the peer's doorbell if it gave one. */
static int
net_ring_poll_fds(struct virtio_net *net, struct pollfd *pfd, int rx,
    int tx_blocked)
{
	struct net_ring		*nr = net->be_data;
	struct virtio_dev	*dev = &net->dev;
	short			 ev = 0;
	int			 i, sock_bells;

	sock_bells = nr->bells[FRAMERING_BELL_RUNNER] == -1;
	/*
	 * The ring: sleep only once the peer was asked to ring. A guest
	 * that breaks its queue stops this (the device is no longer live);
	 * past the bound, the thread comes straight back for the rest.
	 */
	for (i = 0; nr->on && !net->rx_eof && !net->rx_starved &&
	    dev->vqs[NET_RXQ].ready && virtio_dev_live(dev) &&
	    framering_want_frames(&nr->ring.rx); i++) {
		if (i == NET_RING_ROUNDS) {
			virtio_dev_wake(dev);
			break;
		}
		virtio_net_rx(net, &dev->vqs[NET_RXQ], sock_bells);
	}
	/* The ring may have run out of buffers or broken meanwhile. */
	if (rx && !net->rx_eof && !net->rx_starved)
		ev |= POLLIN;
	/* A full ring waits for the peer's doorbell, a full fd for room. */
	if (tx_blocked && !net->rx_eof)
		ev |= nr->on ? (net->rx_len == 0 ? POLLIN : 0) : POLLOUT;
	pfd[0].fd = net->fd;
	pfd[0].events = ev;
	if (sock_bells)
		return 1;
	pfd[1].fd = nr->bells[FRAMERING_BELL_RUNNER];
	pfd[1].events = ev & POLLIN;
	return 2;
}

static int
net_ring_ready(struct virtio_net *net, const struct pollfd *pfd, int n)
{
	struct net_ring	*nr = net->be_data;
	short		 rev = pfd[0].revents;
	short		 bell = n > 1 ? pfd[1].revents : 0;
	int		 io;

	/* An eventfd never hangs up: a doorbell that does is broken. */
	if ((rev & POLLNVAL) || (bell & (POLLNVAL | POLLERR | POLLHUP))) {
		if (bell != 0)
			log_warnx("%s: the peer's doorbell is broken",
			    net->dev.name);
		return NET_IO_BROKEN;
	}
	if (bell & POLLIN)
		framering_bell_take(nr->bells[FRAMERING_BELL_RUNNER]);
	/* The peer's doorbell: frames in the ring, or room in it. */
	io = virtio_net_fd_io(rev);
	if (bell & POLLIN)
		io |= NET_IO_RX;
	if (((rev | bell) & POLLIN) && nr->on)
		io |= NET_IO_TX;
	return io;
}

static void
net_ring_destroy(struct virtio_net *net)
{
	struct net_ring	*nr = net->be_data;

	if (nr == NULL)
		return;
	if (nr->bells[0] != -1)
		net_close_fds(nr->bells, 2);
	framering_unmap(&nr->ring);
	free(nr);
	net->be_data = NULL;
}

const struct net_backend_ops virtio_net_ring_ops = {
	.name = "socket",
	.init = net_ring_init,
	.recv = net_ring_recv,
	.send = net_ring_send,
	.sent = net_ring_sent,
	.rx_pull = net_ring_rx,
	.notify_reads_fd = net_ring_notify_reads_fd,
	.poll_fds = net_ring_poll_fds,
	.ready = net_ring_ready,
	.destroy = net_ring_destroy,
};
