/*
 * The message layer: framing, fd passing and size checks for every
 * socket between vmtop processes. Fds travel as SCM_RIGHTS on the first
 * byte of their message; the reader keeps them in arrival order and hands
 * each to the message whose header says it carries one.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "msg.h"
#include "proto.h"
#include "xmalloc.h"

#define MSG_HDR_SIZE	sizeof(struct msg_hdr)
#define MSG_MAX_FDS	16
#define MSG_INBUF_SIZE	(2 * (MSG_HDR_SIZE + MSG_MAX_PAYLOAD))
#define MSG_INBUF_MIN	4096
#define MSG_IOV_MAX	64
/* Payloads hold 64-bit fields: handlers get them at this alignment. */
#define MSG_ALIGN	8

struct msgout {
	TAILQ_ENTRY(msgout)	 entry;
	uint8_t			*buf;
	size_t			 len;
	size_t			 off;
	int			 fd;
};

struct msgconn {
	int			 fd;
	char			 name[64];
	struct event		*rev;
	struct event		*wev;
	msg_cb			 cb;
	msg_close_cb		 close_cb;
	void			*arg;

	uint8_t			*in;
	size_t			 inlen;
	size_t			 incap;
	int			 infds[MSG_MAX_FDS];
	int			 ninfds;

	TAILQ_HEAD(, msgout)	 out;
	size_t			 queued;
	size_t			 max_queued;
	msg_drain_cb		 drain_cb;	/* once the output is written */

	int			 paused;	/* no messages handed out */
	int			 pending;	/* paused with input buffered */

	int			 closing;	/* close once flushed */
	int			 corked;
	int			 dead;		/* drop at next chance */
	int			 in_cb;
	int			 freed;
};

static void	msgconn_read(int, short, void *);
static void	msgconn_write(int, short, void *);

static const char *
msgconn_label(struct msgconn *c)
{
	return c->name[0] != '\0' ? c->name : "peer";
}

struct msgconn *
msgconn_new(struct event_base *base, int fd, msg_cb cb, msg_close_cb close_cb,
    void *arg, const char *name)
{
	struct msgconn *c;
	int flags;

	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		return NULL;
	c = xcalloc(1, sizeof *c);
	c->fd = fd;
	c->cb = cb;
	c->close_cb = close_cb;
	c->arg = arg;
	msgconn_set_name(c, name);
	c->max_queued = MSG_MAX_QUEUED;
	c->incap = MSG_INBUF_MIN;
	c->in = xmalloc(c->incap);
	TAILQ_INIT(&c->out);
	c->rev = event_new(base, fd, EV_READ | EV_PERSIST, msgconn_read, c);
	c->wev = event_new(base, fd, EV_WRITE, msgconn_write, c);
	if (c->rev == NULL || c->wev == NULL)
		fatalx("%s: event_new", __func__);
	event_add(c->rev, NULL);
	return c;
}

static void
msgconn_destroy(struct msgconn *c)
{
	struct msgout *o;
	int i;

	event_free(c->rev);
	event_free(c->wev);
	while ((o = TAILQ_FIRST(&c->out)) != NULL) {
		TAILQ_REMOVE(&c->out, o, entry);
		if (o->fd != -1)
			close(o->fd);
		free(o->buf);
		free(o);
	}
	for (i = 0; i < c->ninfds; i++)
		close(c->infds[i]);
	close(c->fd);
	free(c->in);
	free(c);
}

/* Free the connection and close its socket; safe inside its own callback. */
void
msgconn_free(struct msgconn *c)
{
	if (c == NULL)
		return;
	if (c->in_cb) {
		c->freed = 1;
		return;
	}
	msgconn_destroy(c);
}

int
msgconn_fd(struct msgconn *c)
{
	return c->fd;
}

const char *
msgconn_name(struct msgconn *c)
{
	return msgconn_label(c);
}

void
msgconn_set_name(struct msgconn *c, const char *name)
{
	snprintf(c->name, sizeof c->name, "%s", name != NULL ? name : "");
}

void
msgconn_set_arg(struct msgconn *c, void *arg)
{
	c->arg = arg;
}

size_t
msgconn_queued(struct msgconn *c)
{
	return c->queued;
}

void
msgconn_set_max_queued(struct msgconn *c, size_t max)
{
	c->max_queued = max;
}

void
msgconn_on_drain(struct msgconn *c, msg_drain_cb fn)
{
	c->drain_cb = fn;
}

/* Hand out no more messages (and read no more) until resumed. */
void
msgconn_pause(struct msgconn *c)
{
	if (c->paused)
		return;
	c->paused = 1;
	event_del(c->rev);
}

/* Read again; messages that arrived before the pause come first. */
void
msgconn_resume(struct msgconn *c)
{
	if (!c->paused)
		return;
	c->paused = 0;
	event_add(c->rev, NULL);
	if (c->pending)
		event_active(c->rev, EV_READ, 0);
}

/* Schedule a drop from the event loop, never from inside a caller. */
static void
msgconn_kill(struct msgconn *c)
{
	c->dead = 1;
	event_active(c->rev, EV_READ, 0);
}

/* Drop the peer: tell the owner, then free. */
static void
msgconn_drop(struct msgconn *c)
{
	c->in_cb = 1;
	if (c->close_cb != NULL)
		c->close_cb(c, c->arg);
	c->in_cb = 0;
	msgconn_destroy(c);
}

static ssize_t
msg_sendmsg(int sock, struct iovec *iov, int iovcnt, int fd)
{
	struct msghdr mh;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct cmsghdr *cmsg;

	memset(&mh, 0, sizeof mh);
	mh.msg_iov = iov;
	mh.msg_iovlen = iovcnt;
	if (fd != -1) {
		memset(&cmsgbuf, 0, sizeof cmsgbuf);
		mh.msg_control = cmsgbuf.buf;
		mh.msg_controllen = sizeof cmsgbuf.buf;
		cmsg = CMSG_FIRSTHDR(&mh);
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cmsg), &fd, sizeof fd);
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL);
}

static ssize_t
msg_send_buf(int sock, const uint8_t *buf, size_t len, int fd)
{
	struct iovec iov = { (void *)buf, len };

	return msg_sendmsg(sock, &iov, 1, fd);
}

/*
 * Write what the socket takes, many messages per system call: a batch
 * starts with at most one fd (its first message's) and ends before the
 * next message that carries one. Returns -1 on a hard error.
 */
static int
msgconn_flush(struct msgconn *c)
{
	struct iovec iov[MSG_IOV_MAX];
	struct msgout *o, *first;
	ssize_t n;
	int niov;

	if (c->corked)
		return 0;
	while ((first = TAILQ_FIRST(&c->out)) != NULL) {
		niov = 0;
		for (o = first; o != NULL && niov < MSG_IOV_MAX;
		    o = TAILQ_NEXT(o, entry)) {
			if (o != first && o->fd != -1)
				break;
			iov[niov].iov_base = o->buf + o->off;
			iov[niov++].iov_len = o->len - o->off;
		}
		n = msg_sendmsg(c->fd, iov, niov,
		    first->off == 0 ? first->fd : -1);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				event_add(c->wev, NULL);
				return 0;
			}
			return -1;
		}
		if (first->fd != -1) {
			close(first->fd);
			first->fd = -1;
		}
		c->queued -= n;
		while (n > 0 && (o = TAILQ_FIRST(&c->out)) != NULL) {
			size_t take = o->len - o->off;

			if ((size_t)n < take)
				take = n;
			o->off += take;
			n -= take;
			if (o->off < o->len)
				break;
			TAILQ_REMOVE(&c->out, o, entry);
			free(o->buf);
			free(o);
		}
	}
	if (c->closing)
		msgconn_kill(c);
	return 0;
}

/* Hold output back (cork) so a burst of messages leaves in few writes. */
void
msgconn_cork(struct msgconn *c)
{
	c->corked = 1;
}

void
msgconn_uncork(struct msgconn *c)
{
	c->corked = 0;
	if (msgconn_flush(c) == -1) {
		log_debug("%s: %s: write: %s", __func__, msgconn_label(c),
		    strerror(errno));
		msgconn_kill(c);
	}
}

static void
msgconn_write(int fd, short events, void *arg)
{
	struct msgconn *c = arg;

	msg_drain_cb fn;

	(void)fd;
	(void)events;
	if (msgconn_flush(c) == -1) {
		log_debug("%s: %s: write: %s", __func__, msgconn_label(c),
		    strerror(errno));
		msgconn_kill(c);
		return;
	}
	if (TAILQ_EMPTY(&c->out) && !c->dead && (fn = c->drain_cb) != NULL) {
		c->drain_cb = NULL;
		fn(c, c->arg);
	}
}

/* Build one framed message (header + payload) in a new buffer. */
static uint8_t *
msg_frame(uint32_t type, uint32_t peerid, int withfd, const void *data,
    size_t len)
{
	struct msg_hdr hdr;
	uint8_t *buf;

	memset(&hdr, 0, sizeof hdr);
	hdr.type = type;
	hdr.len = len;
	hdr.peerid = peerid;
	hdr.flags = withfd ? MSG_F_FD : 0;
	buf = xmalloc(MSG_HDR_SIZE + len);
	memcpy(buf, &hdr, sizeof hdr);
	if (len > 0)
		memcpy(buf + MSG_HDR_SIZE, data, len);
	return buf;
}

int
msgconn_send_verror(struct msgconn *c, uint32_t peerid, int code,
    const char *fmt, va_list ap)
{
	struct proto_error e;

	memset(&e, 0, sizeof e);
	e.code = code;
	vsnprintf(e.text, sizeof e.text, fmt, ap);
	return msgconn_send(c, MSG_ERROR, peerid, -1, &e, sizeof e);
}

int
msgconn_send_error(struct msgconn *c, uint32_t peerid, int code,
    const char *fmt, ...)
{
	va_list ap;
	int rv;

	va_start(ap, fmt);
	rv = msgconn_send_verror(c, peerid, code, fmt, ap);
	va_end(ap);
	return rv;
}

int
msgconn_send(struct msgconn *c, uint32_t type, uint32_t peerid, int fd,
    const void *data, size_t len)
{
	struct msgout *o;

	if (len > MSG_MAX_PAYLOAD) {
		errno = EMSGSIZE;
		return -1;
	}
	if (c->dead) {
		errno = EPIPE;
		return -1;
	}
	if (c->queued + MSG_HDR_SIZE + len > c->max_queued) {
		log_warnx("%s: dropping %s: it does not read its messages "
		    "(%zu bytes unsent)", __func__, msgconn_label(c),
		    c->queued);
		msgconn_kill(c);
		errno = ENOBUFS;
		return -1;
	}
	o = xcalloc(1, sizeof *o);
	o->fd = -1;
	if (fd != -1 && (o->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) == -1) {
		free(o);
		return -1;
	}
	o->len = MSG_HDR_SIZE + len;
	o->buf = msg_frame(type, peerid, fd != -1, data, len);
	c->queued += o->len;
	TAILQ_INSERT_TAIL(&c->out, o, entry);
	if (TAILQ_FIRST(&c->out) == o && msgconn_flush(c) == -1) {
		log_debug("%s: %s: write: %s", __func__, msgconn_label(c),
		    strerror(errno));
		msgconn_kill(c);
	}
	return 0;
}

void
msgconn_close_when_flushed(struct msgconn *c)
{
	c->closing = 1;
	if (TAILQ_EMPTY(&c->out))
		msgconn_kill(c);
}

/* Keep the fds of an SCM_RIGHTS message; returns -1 if too many arrive. */
static int
msg_take_fds(struct msghdr *mh, int *fds, int *nfds, int maxfds)
{
	struct cmsghdr *cmsg;
	int i, n, fd, error = 0;

	for (cmsg = CMSG_FIRSTHDR(mh); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(mh, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int),
			    sizeof fd);
			if (*nfds < maxfds)
				fds[(*nfds)++] = fd;
			else {
				close(fd);
				error = -1;
			}
		}
	}
	if (mh->msg_flags & MSG_CTRUNC)
		error = -1;
	return error;
}

static ssize_t
msg_recvmsg(int sock, void *buf, size_t len, int *fds, int *nfds, int maxfds,
    int *fderr)
{
	struct msghdr mh;
	struct iovec iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * MSG_MAX_FDS)];
	} cmsgbuf;
	ssize_t n;

	memset(&mh, 0, sizeof mh);
	iov.iov_base = buf;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cmsgbuf.buf;
	mh.msg_controllen = sizeof cmsgbuf.buf;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n == -1 && errno == EINTR);
	if (n > 0 && msg_take_fds(&mh, fds, nfds, maxfds) == -1)
		*fderr = 1;
	return n;
}

/* Check a header; returns NULL if it is good, else what is wrong. */
static const char *
msg_check_hdr(const struct msg_hdr *hdr)
{
	if (hdr->len > MSG_MAX_PAYLOAD)
		return "payload too long";
	if (hdr->flags & ~MSG_F_FD)
		return "unknown flags";
	return NULL;
}

/* Hand out whole messages from the input buffer; -1 drops the peer. */
static int
msgconn_parse(struct msgconn *c)
{
	struct msg m;
	const char *why;
	size_t off = 0, pad;
	int rv = 0;

	c->pending = 0;
	while (rv == 0 && !c->freed && !c->dead &&
	    c->inlen - off >= MSG_HDR_SIZE) {
		if (c->paused) {
			c->pending = 1;
			break;
		}
		memcpy(&m.hdr, c->in + off, sizeof m.hdr);
		if ((why = msg_check_hdr(&m.hdr)) != NULL) {
			log_warnx("%s: dropping %s: message type %u: %s",
			    __func__, msgconn_label(c), m.hdr.type, why);
			return -1;
		}
		if (c->inlen - off < MSG_HDR_SIZE + m.hdr.len)
			break;
		m.fd = -1;
		if (m.hdr.flags & MSG_F_FD) {
			if (c->ninfds == 0) {
				log_warnx("%s: dropping %s: message type %u "
				    "lacks its fd", __func__, msgconn_label(c),
				    m.hdr.type);
				return -1;
			}
			m.fd = c->infds[0];
			memmove(c->infds, c->infds + 1,
			    --c->ninfds * sizeof(int));
		}
		/*
		 * A message after an odd-sized one starts unaligned: move its
		 * payload back over its own header, which m.hdr now holds.
		 */
		m.data = c->in + off + MSG_HDR_SIZE;
		if ((pad = off % MSG_ALIGN) != 0) {
			memmove((uint8_t *)m.data - pad, m.data, m.hdr.len);
			m.data = (uint8_t *)m.data - pad;
		}
		off += MSG_HDR_SIZE + m.hdr.len;
		c->in_cb = 1;
		rv = c->cb(c, &m, c->arg);
		c->in_cb = 0;
		if (m.fd != -1)
			close(m.fd);
	}
	memmove(c->in, c->in + off, c->inlen - off);
	c->inlen -= off;
	/* An idle peer keeps only a small buffer. */
	if (c->inlen == 0 && c->incap > MSG_INBUF_MIN) {
		free(c->in);
		c->incap = MSG_INBUF_MIN;
		c->in = xmalloc(c->incap);
	}
	return rv;
}

static void
msgconn_read(int fd, short events, void *arg)
{
	struct msgconn *c = arg;
	ssize_t n;
	int fderr = 0;

	(void)events;
	if (c->dead) {
		msgconn_drop(c);
		return;
	}
	if (c->paused)
		return;
	if (c->pending)
		goto parse;
	/* Grow the buffer while a burst or a large message needs room. */
	if (c->incap - c->inlen < MSG_INBUF_MIN && c->incap < MSG_INBUF_SIZE) {
		c->incap = c->incap * 2 > MSG_INBUF_SIZE ? MSG_INBUF_SIZE :
		    c->incap * 2;
		c->in = xreallocarray(c->in, 1, c->incap);
	}
	n = msg_recvmsg(fd, c->in + c->inlen, c->incap - c->inlen,
	    c->infds, &c->ninfds, MSG_MAX_FDS, &fderr);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		if (n == -1)
			log_debug("%s: %s: read: %s", __func__,
			    msgconn_label(c), strerror(errno));
		msgconn_drop(c);
		return;
	}
	if (fderr) {
		log_warnx("%s: dropping %s: too many fds", __func__,
		    msgconn_label(c));
		msgconn_drop(c);
		return;
	}
	c->inlen += n;
parse:
	if (msgconn_parse(c) == -1 || c->dead) {
		if (c->freed)
			msgconn_destroy(c);
		else
			msgconn_drop(c);
		return;
	}
	if (c->freed)
		msgconn_destroy(c);
}

int
msg_send_sync(int sock, uint32_t type, uint32_t peerid, int fd,
    const void *data, size_t len)
{
	uint8_t *buf;
	size_t off = 0, total = MSG_HDR_SIZE + len;
	ssize_t n;

	if (len > MSG_MAX_PAYLOAD) {
		errno = EMSGSIZE;
		return -1;
	}
	buf = msg_frame(type, peerid, fd != -1, data, len);
	while (off < total) {
		n = msg_send_buf(sock, buf + off, total - off,
		    off == 0 ? fd : -1);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				usleep(1000);
				continue;
			}
			free(buf);
			return -1;
		}
		off += n;
	}
	free(buf);
	return 0;
}

/* Read exactly len bytes, keeping any fds; returns bytes read (0 at EOF). */
static ssize_t
msg_read_exact(int sock, void *buf, size_t len, int *fds, int *nfds,
    int *fderr)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = msg_recvmsg(sock, (uint8_t *)buf + off, len - off, fds,
		    nfds, MSG_MAX_FDS, fderr);
		if (n == -1 && errno == EAGAIN) {
			usleep(1000);
			continue;
		}
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		off += n;
	}
	return off;
}

int
msg_recv_sync(int sock, struct msg *m)
{
	int fds[MSG_MAX_FDS], nfds = 0, fderr = 0, i;
	ssize_t n;

	memset(m, 0, sizeof *m);
	m->fd = -1;
	n = msg_read_exact(sock, &m->hdr, MSG_HDR_SIZE, fds, &nfds, &fderr);
	if (n == 0)
		return 0;
	if (n == -1)
		goto fail;
	if ((size_t)n < MSG_HDR_SIZE || msg_check_hdr(&m->hdr) != NULL ||
	    fderr || nfds > 1 ||
	    (nfds == 1) != ((m->hdr.flags & MSG_F_FD) != 0)) {
		errno = EBADMSG;
		goto fail;
	}
	m->data = xmalloc(m->hdr.len + 1);
	((uint8_t *)m->data)[m->hdr.len] = '\0';
	n = msg_read_exact(sock, m->data, m->hdr.len, fds, &nfds, &fderr);
	if (n == -1)
		goto fail;
	if ((size_t)n < m->hdr.len || nfds > 1 || fderr) {
		errno = n < (ssize_t)m->hdr.len ? ECONNRESET : EBADMSG;
		goto fail;
	}
	if (nfds == 1)
		m->fd = fds[0];
	return 1;
fail:
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	free(m->data);
	m->data = NULL;
	m->fd = -1;
	return -1;
}

void
msg_clear(struct msg *m)
{
	free(m->data);
	m->data = NULL;
	if (m->fd != -1)
		close(m->fd);
	m->fd = -1;
}

const struct msg_handler *
msg_lookup(const struct msg_handler *tab, size_t n, const struct msg *m,
    char *why, size_t whylen)
{
	return msg_lookup_entry(tab, n, sizeof *tab, m, why, whylen);
}

const void *
msg_lookup_entry(const void *tab, size_t n, size_t entsize,
    const struct msg *m, char *why, size_t whylen)
{
	const struct msg_handler *h;
	size_t i, len = m->hdr.len;

	for (i = 0; i < n; i++) {
		h = (const struct msg_handler *)((const char *)tab +
		    i * entsize);
		if (h->type != m->hdr.type)
			continue;
		if (h->maxsize == 0 ? len == h->size :
		    (len >= h->size && len <= h->maxsize))
			return h;
		if (h->maxsize == 0)
			snprintf(why, whylen, "%s message of %zu bytes "
			    "(expected %zu)", h->name, len, h->size);
		else
			snprintf(why, whylen, "%s message of %zu bytes "
			    "(expected %zu to %zu)", h->name, len, h->size,
			    h->maxsize);
		errno = EBADMSG;
		return NULL;
	}
	snprintf(why, whylen, "unknown message type %u", m->hdr.type);
	errno = ENOMSG;
	return NULL;
}

int
msg_dispatch(const struct msg_handler *tab, size_t n, struct msgconn *c,
    struct msg *m, void *arg)
{
	const struct msg_handler *h;
	char why[128];

	if ((h = msg_lookup(tab, n, m, why, sizeof why)) == NULL) {
		log_warnx("%s: dropping %s: %s", __func__, msgconn_name(c),
		    why);
		return -1;
	}
	return h->fn(c, m, arg);
}
