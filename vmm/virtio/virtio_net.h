/*
 * virtio-net inside: the device (virtio_net.c) moves frames between the
 * virtqueues and a backend that carries one Ethernet frame per read and
 * write, behind struct net_backend_ops: a tap (virtio_net_tap.c) or the
 * SOCK_SEQPACKET socket to vmtop-slirp with the shared frame rings it
 * may offer (virtio_net_ring.c).
 */
#ifndef VIRTIO_NET_H
#define VIRTIO_NET_H

#include <sys/types.h>
#include <sys/uio.h>

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio.h"

#define NET_RXQ		0
#define NET_TXQ		1
#define NET_HDR_SIZE	12	/* struct virtio_net_hdr_mrg_rxbuf */
#define NET_ETH_HLEN	14
#define NET_MAX_FRAME	65535
#define NET_BUDGET	256	/* frames per wake-up, each way */

/* What poll said, as the backend reads its fds' revents. */
#define NET_IO_BROKEN	0x01	/* an fd is broken: the peer is gone */
#define NET_IO_FD	0x02	/* the fd had an event: read it */
#define NET_IO_IN	0x04	/* the fd is readable */
#define NET_IO_RX	0x08	/* frames may wait for the guest */
#define NET_IO_TX	0x10	/* there may be room to send again */

struct virtio_net;

/* A backend's ops; called on the device's I/O thread, dev->lock held. */
struct net_backend_ops {
	const char	*name;
	/* Set up the backend's state for net->fd; 0, or -1 with errno. */
	int	(*init)(struct virtio_net *);
	/*
	 * Read one datagram from the fd into buf (len bytes of room).
	 * Returns its length; 0 for a datagram that was not a frame; -1
	 * with errno set, and errno 0 for the peer's hang-up.
	 */
	ssize_t	(*recv)(struct virtio_net *, void *buf, size_t len);
	/*
	 * Send the len-byte frame in iov[0..n). Returns 1 when sent, 0 when
	 * dropped, -1 when full (the backend's poll says when to retry).
	 */
	int	(*send)(struct virtio_net *, struct iovec *iov, int n,
		    size_t len);
	/* Optional: after a batch of frames was sent. */
	void	(*sent)(struct virtio_net *);
	/*
	 * Optional: frames that come by another way than the fd, put to
	 * the guest with virtio_net_rx_put(); how many, or -1 to stop.
	 */
	int	(*rx_pull)(struct virtio_net *, struct virtq *);
	/* Whether a queue notify must read the fd (for doorbells on it). */
	int	(*notify_reads_fd)(struct virtio_net *);
	/*
	 * The fds to poll (the fd first; at most VIRTIO_IO_FDS): rx says
	 * the guest takes frames, tx_blocked that a frame waits for room.
	 * Returns how many.
	 */
	int	(*poll_fds)(struct virtio_net *, struct pollfd *, int rx,
		    int tx_blocked);
	/* What the revents of poll_fds' fds mean: NET_IO_* bits. */
	int	(*ready)(struct virtio_net *, const struct pollfd *, int n);
	/* Free the backend's state (net->fd is closed by the device). */
	void	(*destroy)(struct virtio_net *);
};

extern const struct net_backend_ops virtio_net_tap_ops;
extern const struct net_backend_ops virtio_net_ring_ops;

struct virtio_net {
	struct virtio_dev		 dev;
	const struct net_backend_ops	*be;
	void				*be_data;
	int				 fd;
	uint8_t				 mac[6];
	int				 locked;
	int				 index;	/* the NIC's, for counters */
	int				 rx_eof;	/* the peer is gone */
	int				 rx_starved;	/* waits for buffers */
	size_t				 rx_len;	/* header + frame */
	int				 tx_blocked;	/* fd or ring full */
	struct virtq_req		 req;
	struct virtq_req		 first;		/* RX: has the header */
	struct iovec			 frame[VIRTQ_MAX_SEGS];
	uint8_t				 rxbuf[NET_HDR_SIZE + NET_MAX_FRAME];
};

/*
 * Receive frames while the guest has buffers for them: a frame held
 * back, the fd's when fd says so, then the backend's rx_pull.
 */
void	virtio_net_rx(struct virtio_net *, struct virtq *, int fd);
/*
 * Put one frame to the guest: 1 go on, 0 stop (no buffers: a kick was
 * asked for), -2 look again (buffers came meanwhile), -1 broken.
 */
int	virtio_net_rx_put(struct virtio_net *, struct virtq *,
	    const uint8_t *frame, size_t len);
/* A backend's send answer for w, what its write or sendmsg returned. */
int	virtio_net_sent(struct virtio_net *, ssize_t w);
/* The NET_IO_* bits the fd's revents mean. */
int	virtio_net_fd_io(short revents);

#endif
