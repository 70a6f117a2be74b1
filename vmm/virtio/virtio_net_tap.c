/*
 * virtio-net's backend on a tap (IFF_TAP | IFF_NO_PI): one frame per
 * read and write, poll for room when the tap is full.
 */
#include <sys/uio.h>

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "virtio_net.h"

/* Anything shorter than an Ethernet header reads as no frame. */
static ssize_t
net_tap_recv(struct virtio_net *net, void *buf, size_t len)
{
	ssize_t	n;

	n = read(net->fd, buf, len);
	return n < NET_ETH_HLEN && n >= 0 ? 0 : n;
}

static int
net_tap_send(struct virtio_net *net, struct iovec *iov, int n, size_t len)
{
	ssize_t	w;

	(void)len;
	do
		w = writev(net->fd, iov, n);
	while (w == -1 && errno == EINTR);
	return virtio_net_sent(net, w);
}

static int
net_tap_poll_fds(struct virtio_net *net, struct pollfd *pfd, int rx,
    int tx_blocked)
{
	pfd[0].fd = net->fd;
	pfd[0].events = (rx ? POLLIN : 0) | (tx_blocked ? POLLOUT : 0);
	return 1;
}

static int
net_tap_ready(struct virtio_net *net, const struct pollfd *pfd, int n)
{
	(void)net;
	(void)n;
	if (pfd[0].revents & POLLNVAL)
		return NET_IO_BROKEN;
	return virtio_net_fd_io(pfd[0].revents);
}

static void
net_tap_destroy(struct virtio_net *net)
{
	(void)net;
}

const struct net_backend_ops virtio_net_tap_ops = {
	.name = "tap",
	.recv = net_tap_recv,
	.send = net_tap_send,
	.poll_fds = net_tap_poll_fds,
	.ready = net_tap_ready,
	.destroy = net_tap_destroy,
};
