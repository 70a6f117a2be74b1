/*
 * libslirp glue and vmtop-slirp's poll loop. One poll() covers the frame
 * socket and libslirp's own sockets; frames from the runner are read in
 * batches (recvmmsg), filtered by guard.c and fed to slirp_input(); the
 * frames libslirp emits are queued and written in batches (sendmmsg) at
 * the end of each round, or when the queue fills. When the runner cannot
 * take more, the queue waits for POLLOUT; past its bound, frames are
 * dropped, which libslirp allows (TCP sends them again). The engine's
 * control socket is polled too: rules it adds or removes while the
 * guest runs are bound (as the sandboxed helper) and answered at once.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <slirp/libslirp.h>

#include "framering.h"
#include "hostfwd.h"
#include "log.h"
#include "msg.h"
#include "slirpmsg.h"
#include "usernet.h"
#include "xmalloc.h"

#define UN_RX_BATCH	32		/* frames read per recvmmsg */
#define UN_RX_FRAME	65536		/* a runner's largest frame */
#define UN_TX_BYTES	(4 << 20)	/* the queue towards the runner */
#define UN_TX_MIN	64		/* frames */
#define UN_TX_MAX	1024
#define UN_TX_BATCH	64		/* frames per sendmmsg */
#define UN_TIMERS	8
#define UN_RING_NOW	16384		/* frames worth a doorbell at once */
#define UN_SOCKBUF	(4 * 1024 * 1024)

struct un_timer {
	int		  used;
	int64_t		  expire_ms;	/* -1: not armed */
	SlirpTimerCb	  cb;
	void		 *arg;
};

struct usernet {
	Slirp		 *slirp;
	int		  sock;
	int		  ctl;		/* the engine's control socket, or -1 */
	size_t		  ctl_pfd;	/* where it is in pfds */
	uint32_t	  nlive;	/* rules added on it */
	struct proto_slirp_config sc;
	struct guard	  guard;

	/* From the runner. */
	uint8_t		 *rxbuf;
	struct mmsghdr	  rxmsg[UN_RX_BATCH];
	struct iovec	  rxiov[UN_RX_BATCH];

	/* To the runner: a ring of tx_slots frames of tx_size bytes. */
	uint8_t		 *txbuf;
	size_t		  tx_size;
	size_t		  tx_slots;
	size_t		  tx_head;	/* oldest queued */
	size_t		  tx_count;
	size_t		 *tx_len;

	/* The shared frame rings, once the runner accepted them. */
	struct framering_pair ring;
	int		  ring_fd;	/* until offered */
	int		  ring_on;
	int		  bells[2];	/* FRAMERING_BELL_*, or -1 */
	int		  unrung;	/* frames pushed since the last ring */
	size_t		  bell_pfd;	/* where bells[HELPER] is in pfds */
	uint8_t		 *ringbuf;	/* a private copy of a runner's frame */

	struct pollfd	 *pfds;
	size_t		  npfds;
	size_t		  maxpfds;
	struct un_timer	  timers[UN_TIMERS];

	int64_t		  now_ns;	/* read once per round, see un_clock */
	uint64_t	  rx_frames;
	uint64_t	  tx_frames;
	uint64_t	  filtered;
	uint64_t	  dropped;
};

/*
 * Read the clock for this round. libslirp asks for the time for every
 * frame it sends; where the clock source is not in the vDSO (HPET),
 * each ask is a system call, so the loop reads it once per round and
 * libslirp gets that (its timers count in milliseconds).
 */
static void
un_clock(struct usernet *un)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	un->now_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Wake the runner: its eventfd, or a datagram too short to be a frame. */
static void
un_doorbell(struct usernet *un)
{
	static const uint8_t	bell[FRAMERING_DOORBELL];

	if (un->bells[FRAMERING_BELL_RUNNER] != -1) {
		framering_bell_ring(un->bells[FRAMERING_BELL_RUNNER]);
		return;
	}
	if (send(un->sock, bell, sizeof bell, MSG_DONTWAIT | MSG_NOSIGNAL) ==
	    -1 && errno != EAGAIN && errno != EWOULDBLOCK)
		log_debug("%s: %s", __func__, strerror(errno));
}

/* Ring the runner if it sleeps and frames came since it was last rung. */
static void
un_ring_runner(struct usernet *un)
{
	if (un->unrung && framering_consumer_asleep(&un->ring.tx))
		un_doorbell(un);
	un->unrung = 0;
}

/*
 * Put one frame in the ring: 1 done (or dropped), 0 no room. For a large
 * frame a sleeping runner is rung at once, so it copies the frame into
 * the guest while libslirp makes the next; small ones wait for the end of
 * the round (un_flush), one doorbell for the lot.
 */
static int
un_ring_push(struct usernet *un, const void *buf, size_t len)
{
	struct iovec	iov = { (void *)buf, len };
	int		r;

	while ((r = framering_push(&un->ring.tx, &iov, 1, len)) == 0)
		if (!framering_want_space(&un->ring.tx, len))
			return 0;
	if (r == -1) {
		un->dropped++;
		return 1;
	}
	un->tx_frames++;
	un->unrung = 1;
	if (len >= UN_RING_NOW)
		un_ring_runner(un);
	return 1;
}

/*
 * Move queued frames into the ring until the queue is empty or the ring
 * is full (the runner rings when it makes room).
 */
static void
un_flush_ring(struct usernet *un)
{
	size_t	slot;

	while (un->tx_count > 0) {
		slot = un->tx_head;
		if (!un_ring_push(un, un->txbuf + slot * un->tx_size,
		    un->tx_len[slot]))
			break;
		un->tx_head = (un->tx_head + 1) % un->tx_slots;
		un->tx_count--;
	}
}

/*
 * Write queued frames in batches until the queue is empty or the runner
 * takes no more. Returns 0, or -1 when the runner is gone.
 */
static int
un_flush(struct usernet *un)
{
	if (un->ring_on) {
		un_flush_ring(un);
		un_ring_runner(un);
		return 0;
	}
	struct mmsghdr	msgs[UN_TX_BATCH];
	struct iovec	iov[UN_TX_BATCH];
	size_t		i, n, slot;
	int		sent;

	while (un->tx_count > 0) {
		n = un->tx_count < UN_TX_BATCH ? un->tx_count : UN_TX_BATCH;
		/* A batch stops at the end of the ring. */
		if (un->tx_head + n > un->tx_slots)
			n = un->tx_slots - un->tx_head;
		memset(msgs, 0, n * sizeof msgs[0]);
		for (i = 0; i < n; i++) {
			slot = un->tx_head + i;
			iov[i].iov_base = un->txbuf + slot * un->tx_size;
			iov[i].iov_len = un->tx_len[slot];
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		sent = sendmmsg(un->sock, msgs, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (sent == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == ENOBUFS)
				return 0;
			if (errno == EPIPE || errno == ECONNRESET ||
			    errno == ENOTCONN)
				return -1;
			/* A frame the socket refuses (too long): skip it. */
			log_debug("%s: send: %s", __func__, strerror(errno));
			un->dropped++;
			sent = 1;
		} else
			un->tx_frames += sent;
		un->tx_head = (un->tx_head + sent) % un->tx_slots;
		un->tx_count -= sent;
	}
	return 0;
}

/* libslirp has a frame for the guest: queue it. */
static ssize_t
un_send_packet(const void *buf, size_t len, void *arg)
{
	struct usernet	*un = arg;
	size_t		 slot;

	if (len > un->tx_size) {
		un->dropped++;
		return len;
	}
	/* Straight into the ring when nothing waits before this frame. */
	if (un->ring_on && un->tx_count == 0 && un_ring_push(un, buf, len))
		return len;
	if (un->tx_count == un->tx_slots) {
		un_flush(un);
		if (un->tx_count == un->tx_slots) {
			un->dropped++;
			return len;
		}
	}
	slot = (un->tx_head + un->tx_count) % un->tx_slots;
	memcpy(un->txbuf + slot * un->tx_size, buf, len);
	un->tx_len[slot] = len;
	un->tx_count++;
	if (un->tx_count >= UN_TX_BATCH)
		un_flush(un);
	return len;
}

static void
un_guest_error(const char *msg, void *arg)
{
	(void)arg;
	log_debug("guest error: %s", msg);
}

static int64_t
un_clock_get_ns(void *arg)
{
	struct usernet	*un = arg;

	return un->now_ns;
}

static void *
un_timer_new(SlirpTimerCb cb, void *cb_arg, void *arg)
{
	struct usernet	*un = arg;
	struct un_timer	*t;
	int		 i;

	for (i = 0; i < UN_TIMERS; i++) {
		t = &un->timers[i];
		if (t->used)
			continue;
		t->used = 1;
		t->expire_ms = -1;
		t->cb = cb;
		t->arg = cb_arg;
		return t;
	}
	fatalx("%s: more than %d timers", __func__, UN_TIMERS);
}

static void
un_timer_free(void *timer, void *arg)
{
	struct un_timer	*t = timer;

	(void)arg;
	memset(t, 0, sizeof *t);
}

static void
un_timer_mod(void *timer, int64_t expire_ms, void *arg)
{
	struct un_timer	*t = timer;

	(void)arg;
	t->expire_ms = expire_ms;
}

static void
un_poll_fd(int fd, void *arg)
{
	(void)fd;
	(void)arg;
}

static void
un_notify(void *arg)
{
	(void)arg;
}

static const SlirpCb un_callbacks = {
	.send_packet = un_send_packet,
	.guest_error = un_guest_error,
	.clock_get_ns = un_clock_get_ns,
	.timer_new = un_timer_new,
	.timer_free = un_timer_free,
	.timer_mod = un_timer_mod,
	.register_poll_fd = un_poll_fd,
	.unregister_poll_fd = un_poll_fd,
	.notify = un_notify,
};

struct usernet *
usernet_new(int sock, int ctl, const struct proto_slirp_config *sc,
    char *err, size_t errlen)
{
	struct usernet	*un;
	SlirpConfig	 cfg;
	size_t		 i;
	int		 size = UN_SOCKBUF;

	un = xcalloc(1, sizeof *un);
	un->sock = sock;
	un->ctl = ctl;
	un->sc = *sc;
	un_clock(un);
	guard_init(&un->guard, sc);
	setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
	setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);

	un->rxbuf = xreallocarray(NULL, UN_RX_BATCH, UN_RX_FRAME);
	for (i = 0; i < UN_RX_BATCH; i++) {
		un->rxiov[i].iov_base = un->rxbuf + i * UN_RX_FRAME;
		un->rxiov[i].iov_len = UN_RX_FRAME;
	}
	un->tx_size = sc->mtu + 14;
	un->tx_slots = UN_TX_BYTES / un->tx_size;
	if (un->tx_slots < UN_TX_MIN)
		un->tx_slots = UN_TX_MIN;
	if (un->tx_slots > UN_TX_MAX)
		un->tx_slots = UN_TX_MAX;
	un->txbuf = xreallocarray(NULL, un->tx_slots, un->tx_size);
	un->tx_len = xreallocarray(NULL, un->tx_slots, sizeof *un->tx_len);

	/* The rings, offered to the runner once we run (usernet_offer). */
	un->ring_fd = framering_create();
	if (un->ring_fd == -1 ||
	    framering_map(un->ring_fd, FRAMERING_HELPER, &un->ring) == -1) {
		log_warn("shared frame rings (frames go through the socket)");
		if (un->ring_fd != -1)
			close(un->ring_fd);
		un->ring_fd = -1;
	}
	/* Without eventfds, doorbells go through the socket. */
	if (un->ring_fd == -1 || framering_bells_create(un->bells) == -1)
		un->bells[0] = un->bells[1] = -1;
	un->ringbuf = xmalloc(FRAMERING_MAX_FRAME);

	memset(&cfg, 0, sizeof cfg);
	cfg.version = 4;
	cfg.restricted = 0;	/* guard.c restricts, see there */
	cfg.in_enabled = true;
	cfg.vnetwork.s_addr = sc->network;
	cfg.vnetmask.s_addr = sc->netmask;
	cfg.vhost.s_addr = sc->host;
	cfg.vdhcp_start.s_addr = sc->dhcp_start;
	cfg.vnameserver.s_addr = sc->dns;
	cfg.in6_enabled = false;
	cfg.if_mtu = sc->mtu;
	cfg.if_mru = sc->mtu;
	cfg.disable_host_loopback = false;
	cfg.enable_emu = false;
	/* DNS goes out to the host's resolvers: not when restricted. */
	cfg.disable_dns = (sc->flags & SLIRPF_RESTRICTED) != 0;
	if ((un->slirp = slirp_new(&cfg, &un_callbacks, un)) == NULL) {
		snprintf(err, errlen, "libslirp refused the configuration");
		free(un->rxbuf);
		free(un->txbuf);
		free(un->tx_len);
		free(un);
		return NULL;
	}
	return un;
}

/* Parse rule into hf; 0, or -1 with a sentence naming it in err. */
static int
un_rule(const char *rule, struct hostfwd *hf, char *err, size_t errlen)
{
	const char	*why;

	if ((why = hostfwd_parse(rule, hf)) == NULL)
		return 0;
	snprintf(err, errlen, "invalid hostfwd rule \"%s\": %s", rule, why);
	return -1;
}

int
usernet_hostfwd(struct usernet *un, const char *rule, char *err,
    size_t errlen)
{
	struct hostfwd	 hf;

	if (un_rule(rule, &hf, err, errlen) == -1)
		return -1;
	errno = 0;
	if (slirp_add_hostfwd(un->slirp, hf.udp, hf.host_addr, hf.host_port,
	    hf.guest_addr, hf.guest_port) == -1) {
		snprintf(err, errlen, "hostfwd \"%s\": %s", rule,
		    errno != 0 ? strerror(errno) : "refused by libslirp");
		return -1;
	}
	log_debug("hostfwd %s", rule);
	return 0;
}

int
usernet_unhostfwd(struct usernet *un, const char *rule, char *err,
    size_t errlen)
{
	struct hostfwd	 hf;

	if (un_rule(rule, &hf, err, errlen) == -1)
		return -1;
	if (slirp_remove_hostfwd(un->slirp, hf.udp, hf.host_addr,
	    hf.host_port) == -1) {
		snprintf(err, errlen, "hostfwd \"%s\": no such rule", rule);
		return -1;
	}
	log_debug("hostfwd %s removed", rule);
	return 0;
}

/* Add or remove the rule of one checked control request. */
static int
un_change(struct usernet *un, uint32_t type, const char *rule,
    const struct hostfwd *hf, char *err, size_t errlen)
{
	if (type == MSG_SLIRP_HOSTFWD_REMOVE) {
		if (usernet_unhostfwd(un, rule, err, errlen) == -1)
			return -1;
		if (un->nlive > 0)
			un->nlive--;
		if (hf->udp)
			guard_udp(&un->guard, hf->guest_port, 0);
		return 0;
	}
	if (un->nlive >= VM_MAX_FORWARDS) {
		snprintf(err, errlen, "hostfwd \"%s\": %d rules were added "
		    "already, the most there may be", rule, VM_MAX_FORWARDS);
		return -1;
	}
	if (slirpmsg_check_guest(&un->sc, hf, rule, err, errlen) == -1 ||
	    usernet_hostfwd(un, rule, err, errlen) == -1)
		return -1;
	un->nlive++;
	if (hf->udp)
		guard_udp(&un->guard, hf->guest_port, 1);
	return 0;
}

/*
 * One request on the control socket, answered there. The engine going
 * away (a restart leaves the helper running) only closes the socket.
 */
static void
un_control_request(struct usernet *un)
{
	struct proto_slirp_hostfwd	ph;
	struct proto_error		e;
	struct hostfwd			hf;
	struct msg_hdr			hdr;
	uint8_t				buf[sizeof hdr + sizeof ph + 1];
	uint32_t			type;
	ssize_t				n;
	int				rv;

	memset(&e, 0, sizeof e);
	n = recv(un->ctl, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n <= 0) {
		log_debug("the engine closed the control socket");
		close(un->ctl);
		un->ctl = -1;
		return;
	}
	memset(&hdr, 0, sizeof hdr);
	memcpy(&hdr, buf, (size_t)n < sizeof hdr ? (size_t)n : sizeof hdr);
	if ((size_t)n > sizeof buf)
		n = sizeof buf;		/* too long: refused below */
	rv = slirpmsg_parse_hostfwd(buf, n, &type, &ph, &hf, e.text,
	    sizeof e.text);
	if (rv == 0)
		rv = un_change(un, type, ph.rule, &hf, e.text, sizeof e.text);
	if (rv == -1)
		log_debug("%s", e.text);
	if ((rv == 0 ? slirpmsg_send(un->ctl, MSG_OK, hdr.peerid, NULL, 0) :
	    slirpmsg_send(un->ctl, MSG_ERROR, hdr.peerid, &e, sizeof e)) ==
	    -1)
		log_warn("%s: answering the engine", __func__);
}

/* libslirp's poll events and poll(2)'s, bit for bit. */
static const struct {
	int	slirp;
	short	poll;
} un_poll_bits[] = {
	{ SLIRP_POLL_IN, POLLIN },
	{ SLIRP_POLL_OUT, POLLOUT },
	{ SLIRP_POLL_PRI, POLLPRI },
	{ SLIRP_POLL_ERR, POLLERR },
	{ SLIRP_POLL_HUP, POLLHUP },
};

static short
un_poll_events(int events)
{
	short	e = 0;
	size_t	i;

	for (i = 0; i < sizeof un_poll_bits / sizeof un_poll_bits[0]; i++)
		if (events & un_poll_bits[i].slirp)
			e |= un_poll_bits[i].poll;
	return e;
}

/* libslirp wants fd polled for events: add it to the set. */
static int
un_add_poll(int fd, int events, void *arg)
{
	struct usernet	*un = arg;

	if (un->npfds == un->maxpfds) {
		un->maxpfds = un->maxpfds == 0 ? 16 : un->maxpfds * 2;
		un->pfds = xreallocarray(un->pfds, un->maxpfds,
		    sizeof *un->pfds);
	}
	un->pfds[un->npfds].fd = fd;
	un->pfds[un->npfds].events = un_poll_events(events);
	un->pfds[un->npfds].revents = 0;
	return un->npfds++;
}

static int
un_get_revents(int idx, void *arg)
{
	struct usernet	*un = arg;
	short		 r;
	int		 e = 0;
	size_t		 i;

	if (idx < 0 || (size_t)idx >= un->npfds)
		return 0;
	r = un->pfds[idx].revents;
	for (i = 0; i < sizeof un_poll_bits / sizeof un_poll_bits[0]; i++)
		if (r & un_poll_bits[i].poll)
			e |= un_poll_bits[i].slirp;
	return e;
}

/* Fire the timers that are due; returns ms to the next one, or -1. */
static int
un_timers(struct usernet *un)
{
	struct un_timer	*t;
	int64_t		 now = un->now_ns / 1000000, next = -1, left;
	int		 i;

	for (i = 0; i < UN_TIMERS; i++) {
		t = &un->timers[i];
		if (!t->used || t->expire_ms < 0)
			continue;
		if (t->expire_ms <= now) {
			t->expire_ms = -1;
			t->cb(t->arg);
		}
	}
	for (i = 0; i < UN_TIMERS; i++) {
		t = &un->timers[i];
		if (!t->used || t->expire_ms < 0)
			continue;
		left = t->expire_ms > now ? t->expire_ms - now : 0;
		if (next == -1 || left < next)
			next = left;
	}
	return next > INT32_MAX ? INT32_MAX : (int)next;
}

/* One frame from the guest, past the guard, into libslirp. */
static void
un_input(struct usernet *un, const uint8_t *frame, size_t len)
{
	un->rx_frames++;
	if (!guard_pass(&un->guard, frame, len)) {
		un->filtered++;
		return;
	}
	slirp_input(un->slirp, frame, len);
}

/*
 * A datagram that is not a frame: a doorbell (the ring is read every
 * round anyway) or the runner's acceptance of the rings. Returns 1 when
 * it was one of those.
 */
static int
un_control(struct usernet *un, const uint8_t *buf, size_t len)
{
	if (len < 14)
		return 1;
	if (len != FRAMERING_CTL_SIZE ||
	    memcmp(buf, FRAMERING_MAGIC, FRAMERING_CTL_SIZE) != 0)
		return 0;
	if (un->ring.map != NULL && !un->ring_on) {
		un->ring_on = 1;
		log_debug("the runner takes frames through shared rings");
	}
	return 1;
}

/*
 * Frames the runner put in its ring, each copied out of the shared
 * memory first: libslirp reads a frame more than once, and the runner
 * could change it in between. Returns 0, or -1 when the runner broke
 * the ring.
 */
static int
un_receive_ring(struct usernet *un)
{
	const uint8_t	*f;
	size_t		 len;
	int		 n = 0;

	while (n++ < UN_RX_BATCH * 8 &&
	    (f = framering_peek(&un->ring.rx, &len)) != NULL) {
		memcpy(un->ringbuf, f, len);
		framering_pop(&un->ring.rx);
		un_input(un, un->ringbuf, len);
	}
	if (framering_producer_waits(&un->ring.rx))
		un_doorbell(un);
	if (framering_broken(&un->ring.rx) || framering_broken(&un->ring.tx)) {
		log_warnx("the runner broke the shared frame ring");
		return -1;
	}
	return 0;
}

/*
 * Read what the runner sent, a batch at a time, into libslirp. Returns
 * 0, or -1 when the runner has hung up.
 */
static int
un_receive(struct usernet *un)
{
	int	n, i, round;

	for (round = 0; round < 8; round++) {
		for (i = 0; i < UN_RX_BATCH; i++) {
			memset(&un->rxmsg[i], 0, sizeof un->rxmsg[i]);
			un->rxmsg[i].msg_hdr.msg_iov = &un->rxiov[i];
			un->rxmsg[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(un->sock, un->rxmsg, UN_RX_BATCH, MSG_DONTWAIT,
		    NULL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			log_warn("%s: receive", __func__);
			return -1;
		}
		for (i = 0; i < n; i++) {
			/* A datagram of 0 bytes: the runner has gone. */
			if (un->rxmsg[i].msg_len == 0)
				return -1;
			if (un->rxmsg[i].msg_hdr.msg_flags & MSG_TRUNC) {
				un->dropped++;
				continue;
			}
			if (un_control(un, un->rxiov[i].iov_base,
			    un->rxmsg[i].msg_len))
				continue;
			un_input(un, un->rxiov[i].iov_base,
			    un->rxmsg[i].msg_len);
		}
		if (n < UN_RX_BATCH)
			return 0;
	}
	return 0;
}

/*
 * Offer the rings to the runner: the first datagram after the engine's
 * answer, so it comes before any frame. A runner that takes them says
 * so; until then (and for a peer that never does) frames go through
 * the socket.
 */
static void
usernet_offer(struct usernet *un)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(FRAMERING_OFFER_FDS * sizeof(int))];
	}		 cm;
	struct msghdr	 msg;
	struct cmsghdr	*c;
	struct iovec	 iov = { FRAMERING_MAGIC, FRAMERING_CTL_SIZE };
	int		 fds[FRAMERING_OFFER_FDS], nfds = 1;

	if (un->ring_fd == -1)
		return;
	fds[0] = un->ring_fd;
	if (un->bells[0] != -1) {
		memcpy(fds + 1, un->bells, sizeof un->bells);
		nfds = FRAMERING_OFFER_FDS;
	}
	memset(&msg, 0, sizeof msg);
	memset(&cm, 0, sizeof cm);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
	memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	if (sendmsg(un->sock, &msg, MSG_NOSIGNAL) == -1 && errno != EPIPE)
		log_warn("%s: offering the frame rings", __func__);
	close(un->ring_fd);
	un->ring_fd = -1;
}

int
usernet_run(struct usernet *un)
{
	uint32_t	timeout;
	int		n, next, gone = 0;
	short		sockev;

	usernet_offer(un);
	while (!gone) {
		un->npfds = 0;
		un_add_poll(un->sock, SLIRP_POLL_IN, un);
		if (un->tx_count > 0 && !un->ring_on)
			un->pfds[0].events |= POLLOUT;
		un->pfds[0].events |= POLLRDHUP;
		if (un->ring_on && un->bells[0] != -1) {
			un->bell_pfd = un->npfds;
			un_add_poll(un->bells[FRAMERING_BELL_HELPER],
			    SLIRP_POLL_IN, un);
		}
		if (un->ctl != -1)
			un->ctl_pfd = un_add_poll(un->ctl, SLIRP_POLL_IN, un);
		timeout = UINT32_MAX;
		slirp_pollfds_fill(un->slirp, &timeout, un_add_poll, un);
		if ((next = un_timers(un)) >= 0 && (uint32_t)next < timeout)
			timeout = next;
		/* Sleep only with the runner asked to ring for its frames. */
		if (un->ring_on && framering_want_frames(&un->ring.rx))
			timeout = 0;
		n = poll(un->pfds, un->npfds,
		    timeout == UINT32_MAX ? -1 : (int)timeout);
		if (n == -1 && errno != EINTR)
			fatal("%s: poll", __func__);
		un_clock(un);
		/*
		 * The guest's frames first: an ACK lets libslirp send what it
		 * already holds, before the host's sockets are read.
		 */
		sockev = n > 0 ? un->pfds[0].revents : 0;
		if ((sockev & POLLIN) && un_receive(un) == -1)
			gone = 1;
		else if ((sockev & (POLLHUP | POLLRDHUP | POLLERR)) &&
		    !(sockev & POLLIN))
			gone = 1;
		if (un->ring_on && un->bells[0] != -1 && n > 0 &&
		    un->pfds[un->bell_pfd].revents != 0)
			framering_bell_take(un->bells[FRAMERING_BELL_HELPER]);
		if (un->ring_on && un_receive_ring(un) == -1)
			gone = 1;
		if (un->ctl != -1 && n > 0 && un->pfds[un->ctl_pfd].revents != 0)
			un_control_request(un);
		slirp_pollfds_poll(un->slirp, n == -1, un_get_revents, un);
		un_timers(un);
		if (un_flush(un) == -1)
			gone = 1;
	}
	log_debug("the runner hung up: %llu frames in (%llu filtered), "
	    "%llu out, %llu dropped", (unsigned long long)un->rx_frames,
	    (unsigned long long)un->filtered,
	    (unsigned long long)un->tx_frames,
	    (unsigned long long)un->dropped);
	return 0;
}
