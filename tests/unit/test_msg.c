/*
 * Unit tests for lib/msg.c: framing, fd passing, size checks and the
 * lifetime of a msgconn, over real socketpairs and a libevent loop. Every
 * test checks that it leaves no fd open behind it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "msg.h"

#define T_FIXED		10	/* exactly 8 bytes */
#define T_TAIL		11	/* 4 to 16 bytes */
#define T_EMPTY		12	/* no payload */
#define T_FAIL		13	/* 4 bytes; the handler refuses it */
#define T_STATS		14	/* struct test_stats */
#define T_UNKNOWN	99

#define LOOP_TIMEOUT	10	/* seconds before a wait fails */

/* A payload with 64-bit fields, like struct proto_stats. */
struct test_stats {
	uint64_t	a;
	uint64_t	b;
	int64_t		c;
};

struct fixture {
	struct event_base	*base;
	struct event		*tick;
	struct timespec		 deadline;
	int			 nfds;
};

/* One message as a peer saw it. */
struct rec {
	uint32_t	 type;
	uint32_t	 peerid;
	size_t		 len;
	uint8_t		*data;
	int		 hadfd;
	ino_t		 ino;
	int		 fd;		/* kept when the peer keeps fds */
	int		 aligned;	/* m->data was 8-byte aligned */
};

/* One end of a connection, driven by a msgconn. */
struct peer {
	struct msgconn			*c;
	struct rec			*recs;
	size_t				 nrecs;
	int				 nclose;
	int				 keepfds;
	size_t				 free_at;	/* msgconn_free there */
	size_t				 close_at;	/* close_when_flushed */
	size_t				 fail_at;	/* return -1 there */
	int				 free_in_close;
	const struct msg_handler	*tab;
	size_t				 ntab;
	int				 nhandled;
	uint32_t			 handled[16];
};

/* Count this process's open fds. */
static int
count_fds(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	d = opendir("/proc/self/fd");
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.')
			n++;
	}
	closedir(d);
	return n;
}

static void
tick_cb(int fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	(void)arg;
}

static int
setup(void **state)
{
	struct fixture	*f;
	struct timeval	 tv = { 0, 5000 };

	f = calloc(1, sizeof *f);
	if (f == NULL)
		return -1;
	f->nfds = count_fds();
	f->base = event_base_new();
	if (f->base == NULL)
		return -1;
	/* Wake the loop often so that a wait can time out. */
	f->tick = event_new(f->base, -1, EV_PERSIST, tick_cb, NULL);
	if (f->tick == NULL || event_add(f->tick, &tv) == -1)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	int		 n;

	event_free(f->tick);
	event_base_free(f->base);
	n = count_fds();
	if (n != f->nfds) {
		print_error("%d fds open before the test, %d after\n",
		    f->nfds, n);
		free(f);
		return -1;
	}
	free(f);
	return 0;
}

static void
loop_start(struct fixture *f)
{
	clock_gettime(CLOCK_MONOTONIC, &f->deadline);
	f->deadline.tv_sec += LOOP_TIMEOUT;
}

static void
loop_step(struct fixture *f)
{
	struct timespec	now;

	event_base_loop(f->base, EVLOOP_ONCE);
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec > f->deadline.tv_sec ||
	    (now.tv_sec == f->deadline.tv_sec &&
	    now.tv_nsec > f->deadline.tv_nsec))
		fail_msg("timed out waiting for the event loop");
}

/* Run the event loop until cond holds. */
#define loop_until(f, cond) do {					\
	loop_start(f);							\
	while (!(cond))							\
		loop_step(f);						\
} while (0)

/* Run the event loop for ms milliseconds. */
static void
loop_for(struct fixture *f, int ms)
{
	struct timespec	end, now;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_nsec += (long)ms * 1000000;
	end.tv_sec += end.tv_nsec / 1000000000;
	end.tv_nsec %= 1000000000;
	for (;;) {
		event_base_loop(f->base, EVLOOP_ONCE);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec ||
		    (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
			break;
	}
}

static void
make_pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
}

static void
make_pipe(int p[2])
{
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
}

static ino_t
fd_ino(int fd)
{
	struct stat	sb;

	assert_int_equal(fstat(fd, &sb), 0);
	return sb.st_ino;
}

/* Fill buf with bytes that depend on seed and position. */
static void
pattern(uint8_t *buf, size_t len, uint32_t seed)
{
	size_t	i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

static void
check_pattern(const uint8_t *buf, size_t len, uint32_t seed)
{
	uint8_t	*want;

	want = malloc(len + 1);
	assert_non_null(want);
	pattern(want, len, seed);
	assert_memory_equal(buf, want, len);
	free(want);
}

static void
write_all(int fd, const void *buf, size_t len)
{
	const uint8_t	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		assert_true(n > 0);
		p += n;
		len -= n;
	}
}

/* Write a raw header, good or bad, with no fd. */
static void
write_hdr(int fd, uint32_t type, uint32_t len, uint32_t peerid,
    uint32_t flags)
{
	struct msg_hdr	hdr;

	memset(&hdr, 0, sizeof hdr);
	hdr.type = type;
	hdr.len = len;
	hdr.peerid = peerid;
	hdr.flags = flags;
	write_all(fd, &hdr, sizeof hdr);
}

/* Send buf with nfds copies of fd as SCM_RIGHTS on its first byte. */
static void
send_fds(int sock, const void *buf, size_t len, int fd, int nfds)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*cmsg;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 32)];
	} cmsgbuf;
	int		 i;

	assert_true(nfds > 0 && nfds <= 32);
	memset(&mh, 0, sizeof mh);
	memset(&cmsgbuf, 0, sizeof cmsgbuf);
	iov.iov_base = (void *)buf;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cmsgbuf.buf;
	mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
	cmsg = CMSG_FIRSTHDR(&mh);
	cmsg->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	for (i = 0; i < nfds; i++)
		memcpy(CMSG_DATA(cmsg) + i * sizeof(int), &fd, sizeof fd);
	assert_int_equal(sendmsg(sock, &mh, MSG_NOSIGNAL), (ssize_t)len);
}

/* The other end of fd has closed: a read sees end of file or a reset. */
static void
assert_hung_up(int fd)
{
	char	c;
	ssize_t	n;
	int	flags;

	flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	while ((n = read(fd, &c, 1)) == 1)
		;
	assert_true(n == 0 || (n == -1 && errno == ECONNRESET));
	fcntl(fd, F_SETFL, flags);
}

static int
peer_cb(struct msgconn *c, struct msg *m, void *arg)
{
	struct peer	*p = arg;
	struct rec	*r;
	size_t		 n;

	assert_ptr_equal(c, p->c);
	p->recs = reallocarray(p->recs, p->nrecs + 1, sizeof *p->recs);
	assert_non_null(p->recs);
	r = &p->recs[p->nrecs++];
	memset(r, 0, sizeof *r);
	r->type = m->hdr.type;
	r->peerid = m->hdr.peerid;
	r->len = m->hdr.len;
	r->data = malloc(r->len + 1);
	assert_non_null(r->data);
	memcpy(r->data, m->data, r->len);
	r->aligned = ((uintptr_t)m->data % 8) == 0;
	r->fd = -1;
	if (m->fd != -1) {
		r->hadfd = 1;
		r->ino = fd_ino(m->fd);
		assert_true(fcntl(m->fd, F_GETFD) & FD_CLOEXEC);
		if (p->keepfds) {
			r->fd = m->fd;
			m->fd = -1;
		}
	}
	n = p->nrecs;
	if (n == p->close_at)
		msgconn_close_when_flushed(c);
	if (n == p->free_at) {
		msgconn_free(c);
		p->c = NULL;
	}
	if (p->tab != NULL)
		return msg_dispatch(p->tab, p->ntab, c, m, p);
	return n == p->fail_at ? -1 : 0;
}

static void
peer_close(struct msgconn *c, void *arg)
{
	struct peer	*p = arg;

	assert_ptr_equal(c, p->c);
	p->nclose++;
	if (p->free_in_close)
		msgconn_free(c);
	p->c = NULL;
}

static void
peer_init(struct peer *p, struct fixture *f, int fd, const char *name)
{
	memset(p, 0, sizeof *p);
	p->c = msgconn_new(f->base, fd, peer_cb, peer_close, p, name);
	assert_non_null(p->c);
}

static void
peer_free(struct peer *p)
{
	size_t	i;

	for (i = 0; i < p->nrecs; i++) {
		free(p->recs[i].data);
		if (p->recs[i].fd != -1)
			close(p->recs[i].fd);
	}
	free(p->recs);
	msgconn_free(p->c);
	memset(p, 0, sizeof *p);
}

static void
check_rec(const struct rec *r, uint32_t type, uint32_t peerid,
    const void *data, size_t len)
{
	assert_int_equal(r->type, type);
	assert_int_equal(r->peerid, peerid);
	assert_int_equal(r->len, len);
	if (len > 0)
		assert_memory_equal(r->data, data, len);
	assert_true(r->aligned);
}

/* msg_send_sync and msg_recv_sync: a payload, an empty one, errors. */
static void
test_sync_roundtrip(void **state)
{
	struct msg	m;
	int		sv[2];
	uint8_t		big[MSG_MAX_PAYLOAD + 1];

	(void)state;
	make_pair(sv);
	assert_int_equal(msg_send_sync(sv[0], 7, 42, -1, "hello", 5), 0);
	assert_int_equal(msg_send_sync(sv[0], 8, 0xffffffff, -1, NULL, 0), 0);

	assert_int_equal(msg_recv_sync(sv[1], &m), 1);
	assert_int_equal(m.hdr.type, 7);
	assert_int_equal(m.hdr.peerid, 42);
	assert_int_equal(m.hdr.len, 5);
	assert_int_equal(m.hdr.flags, 0);
	assert_int_equal(m.fd, -1);
	assert_memory_equal(m.data, "hello", 5);
	assert_int_equal(((char *)m.data)[5], '\0');
	msg_clear(&m);
	assert_null(m.data);
	assert_int_equal(m.fd, -1);

	assert_int_equal(msg_recv_sync(sv[1], &m), 1);
	assert_int_equal(m.hdr.type, 8);
	assert_int_equal(m.hdr.peerid, 0xffffffff);
	assert_int_equal(m.hdr.len, 0);
	assert_int_equal(m.fd, -1);
	msg_clear(&m);

	/* Too long to send: nothing goes out. */
	memset(big, 0, sizeof big);
	errno = 0;
	assert_int_equal(msg_send_sync(sv[0], 9, 0, -1, big, sizeof big), -1);
	assert_int_equal(errno, EMSGSIZE);

	close(sv[0]);
	assert_int_equal(msg_recv_sync(sv[1], &m), 0);
	close(sv[1]);
}

/* A payload of exactly MSG_MAX_PAYLOAD bytes, from another process. */
static void
test_sync_max_payload(void **state)
{
	struct msg	 m;
	uint8_t		*buf;
	pid_t		 pid;
	int		 sv[2], status;

	(void)state;
	make_pair(sv);
	buf = malloc(MSG_MAX_PAYLOAD);
	assert_non_null(buf);
	pattern(buf, MSG_MAX_PAYLOAD, 3);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		close(sv[1]);
		if (msg_send_sync(sv[0], 20, 1, -1, buf, MSG_MAX_PAYLOAD) ||
		    msg_send_sync(sv[0], 21, 2, -1, buf, MSG_MAX_PAYLOAD))
			_exit(1);
		_exit(0);
	}
	close(sv[0]);
	assert_int_equal(msg_recv_sync(sv[1], &m), 1);
	assert_int_equal(m.hdr.type, 20);
	assert_int_equal(m.hdr.len, MSG_MAX_PAYLOAD);
	check_pattern(m.data, MSG_MAX_PAYLOAD, 3);
	msg_clear(&m);
	assert_int_equal(msg_recv_sync(sv[1], &m), 1);
	assert_int_equal(m.hdr.type, 21);
	assert_int_equal(m.hdr.peerid, 2);
	check_pattern(m.data, MSG_MAX_PAYLOAD, 3);
	msg_clear(&m);
	assert_int_equal(msg_recv_sync(sv[1], &m), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(sv[1]);
	free(buf);
}

/* An fd through the sync calls: write through the copy, read the pipe. */
static void
test_sync_fd(void **state)
{
	struct msg	m;
	int		sv[2], pp[2];
	char		buf[8];

	(void)state;
	make_pair(sv);
	make_pipe(pp);
	assert_int_equal(msg_send_sync(sv[0], 30, 5, pp[1], "fd", 2), 0);
	close(pp[1]);

	assert_int_equal(msg_recv_sync(sv[1], &m), 1);
	assert_int_equal(m.hdr.type, 30);
	assert_int_equal(m.hdr.peerid, 5);
	assert_int_equal(m.hdr.flags, MSG_F_FD);
	assert_memory_equal(m.data, "fd", 2);
	assert_true(m.fd >= 0);
	assert_true(fcntl(m.fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(write(m.fd, "ping", 4), 4);
	assert_int_equal(read(pp[0], buf, sizeof buf), 4);
	assert_memory_equal(buf, "ping", 4);

	/* msg_clear closes it: the last write end is gone. */
	msg_clear(&m);
	assert_int_equal(read(pp[0], buf, sizeof buf), 0);
	close(pp[0]);
	close(sv[0]);
	close(sv[1]);
}

/* Which of the interleaved messages carry an fd. */
static const int interleave[] = { 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0 };
#define NINTERLEAVE	(sizeof interleave / sizeof interleave[0])

/* Interleaved messages with and without fds, sync to sync. */
static void
test_sync_fd_interleaved(void **state)
{
	struct msg	m;
	int		sv[2], pipes[NINTERLEAVE][2];
	ino_t		ino[NINTERLEAVE];
	size_t		i;
	uint8_t		buf[64];

	(void)state;
	make_pair(sv);
	for (i = 0; i < NINTERLEAVE; i++) {
		make_pipe(pipes[i]);
		ino[i] = fd_ino(pipes[i][1]);
		pattern(buf, i + 1, i);
		assert_int_equal(msg_send_sync(sv[0], 40, i,
		    interleave[i] ? pipes[i][1] : -1, buf, i + 1), 0);
	}
	for (i = 0; i < NINTERLEAVE; i++) {
		assert_int_equal(msg_recv_sync(sv[1], &m), 1);
		assert_int_equal(m.hdr.peerid, i);
		assert_int_equal(m.hdr.len, i + 1);
		check_pattern(m.data, i + 1, i);
		if (interleave[i]) {
			assert_true(m.fd >= 0);
			assert_int_equal(fd_ino(m.fd), ino[i]);
		} else
			assert_int_equal(m.fd, -1);
		msg_clear(&m);
	}
	for (i = 0; i < NINTERLEAVE; i++) {
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
	close(sv[0]);
	close(sv[1]);
}

/* msg_recv_sync refuses a header of len and flags with EBADMSG. */
static void
recv_sync_refuses(uint32_t len, uint32_t flags)
{
	struct msg	m;
	int		sv[2];

	make_pair(sv);
	write_hdr(sv[0], 1, len, 0, flags);
	errno = 0;
	assert_int_equal(msg_recv_sync(sv[1], &m), -1);
	assert_int_equal(errno, EBADMSG);
	close(sv[0]);
	close(sv[1]);
}

/* msg_recv_sync: end of file, truncated and bad messages. */
static void
test_sync_recv_errors(void **state)
{
	struct msg	m;
	int		sv[2], pp[2];
	char		c;

	(void)state;

	/* End of file before a message. */
	make_pair(sv);
	close(sv[0]);
	assert_int_equal(msg_recv_sync(sv[1], &m), 0);
	assert_null(m.data);
	assert_int_equal(m.fd, -1);
	close(sv[1]);

	/* A truncated header. */
	make_pair(sv);
	write_all(sv[0], "12345", 5);
	close(sv[0]);
	errno = 0;
	assert_int_equal(msg_recv_sync(sv[1], &m), -1);
	assert_int_equal(errno, EBADMSG);
	assert_null(m.data);
	close(sv[1]);

	/* A truncated payload. */
	make_pair(sv);
	write_hdr(sv[0], 1, 10, 0, 0);
	write_all(sv[0], "abc", 3);
	close(sv[0]);
	errno = 0;
	assert_int_equal(msg_recv_sync(sv[1], &m), -1);
	assert_int_equal(errno, ECONNRESET);
	assert_null(m.data);
	assert_int_equal(m.fd, -1);
	close(sv[1]);

	/* A payload that is too long, unknown flags. */
	recv_sync_refuses(MSG_MAX_PAYLOAD + 1, 0);
	recv_sync_refuses(0, 0x10);

	/* MSG_F_FD without an fd. */
	recv_sync_refuses(0, MSG_F_FD);

	/* An fd without MSG_F_FD: refused, and the fd is not kept. */
	make_pair(sv);
	make_pipe(pp);
	{
		struct msg_hdr	hdr;

		memset(&hdr, 0, sizeof hdr);
		hdr.type = 1;
		send_fds(sv[0], &hdr, sizeof hdr, pp[1], 1);
	}
	close(pp[1]);
	errno = 0;
	assert_int_equal(msg_recv_sync(sv[1], &m), -1);
	assert_int_equal(errno, EBADMSG);
	assert_int_equal(m.fd, -1);
	assert_int_equal(read(pp[0], &c, 1), 0);
	close(pp[0]);
	close(sv[0]);
	close(sv[1]);
}

/* msgconn to msgconn: payloads, an empty one, the largest ones. */
static void
test_conn_roundtrip(void **state)
{
	struct fixture	*f = *state;
	struct peer	 a, b;
	uint8_t		*big;
	int		 sv[2];

	make_pair(sv);
	peer_init(&a, f, sv[0], "a");
	peer_init(&b, f, sv[1], "b");
	big = malloc(MSG_MAX_PAYLOAD + 1);
	assert_non_null(big);
	pattern(big, MSG_MAX_PAYLOAD, 9);

	assert_int_equal(msgconn_send(a.c, 1, 100, -1, "abc", 3), 0);
	assert_int_equal(msgconn_send(a.c, 2, 101, -1, NULL, 0), 0);
	assert_int_equal(msgconn_send(a.c, 3, 102, -1, big, MSG_MAX_PAYLOAD),
	    0);
	assert_int_equal(msgconn_send(a.c, 4, 103, -1, big, MSG_MAX_PAYLOAD),
	    0);
	assert_int_equal(msgconn_send(a.c, 5, 104, -1, "z", 1), 0);
	errno = 0;
	assert_int_equal(msgconn_send(a.c, 6, 105, -1, big,
	    MSG_MAX_PAYLOAD + 1), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_int_equal(msgconn_send(b.c, 7, 200, -1, "back", 4), 0);

	loop_until(f, b.nrecs == 5 && a.nrecs == 1);
	check_rec(&b.recs[0], 1, 100, "abc", 3);
	check_rec(&b.recs[1], 2, 101, NULL, 0);
	check_rec(&b.recs[2], 3, 102, big, MSG_MAX_PAYLOAD);
	check_rec(&b.recs[3], 4, 103, big, MSG_MAX_PAYLOAD);
	check_rec(&b.recs[4], 5, 104, "z", 1);
	check_rec(&a.recs[0], 7, 200, "back", 4);
	assert_int_equal(msgconn_queued(a.c), 0);
	assert_int_equal(a.nclose + b.nclose, 0);

	peer_free(&a);
	peer_free(&b);
	free(big);
}

/* Messages from msg_send_sync arrive through a msgconn and back. */
static void
test_conn_sync_mixed(void **state)
{
	struct fixture	*f = *state;
	struct peer	 b;
	struct msg	 m;
	int		 sv[2];

	make_pair(sv);
	peer_init(&b, f, sv[1], "b");
	assert_int_equal(msg_send_sync(sv[0], 1, 1, -1, "one", 3), 0);
	assert_int_equal(msg_send_sync(sv[0], 2, 2, -1, NULL, 0), 0);
	loop_until(f, b.nrecs == 2);
	check_rec(&b.recs[0], 1, 1, "one", 3);
	check_rec(&b.recs[1], 2, 2, NULL, 0);

	assert_int_equal(msgconn_send(b.c, 3, 3, -1, "three", 5), 0);
	assert_int_equal(msg_recv_sync(sv[0], &m), 1);
	assert_int_equal(m.hdr.type, 3);
	assert_int_equal(m.hdr.peerid, 3);
	assert_memory_equal(m.data, "three", 5);
	msg_clear(&m);

	peer_free(&b);
	close(sv[0]);
}

/* An fd through a msgconn each way; the sender's copy is its own. */
static void
test_conn_fd(void **state)
{
	struct fixture	*f = *state;
	struct peer	 a, b;
	struct msg	 m;
	int		 sv[2], pp[2];
	char		 buf[8];

	make_pair(sv);
	make_pipe(pp);
	peer_init(&a, f, sv[0], "a");
	peer_init(&b, f, sv[1], "b");
	b.keepfds = 1;

	/* The fd is duplicated: closing ours at once is fine. */
	assert_int_equal(msgconn_send(a.c, 1, 9, pp[1], "x", 1), 0);
	close(pp[1]);
	loop_until(f, b.nrecs == 1);
	check_rec(&b.recs[0], 1, 9, "x", 1);
	assert_true(b.recs[0].hadfd);
	assert_int_equal(write(b.recs[0].fd, "conn", 4), 4);
	assert_int_equal(read(pp[0], buf, sizeof buf), 4);
	assert_memory_equal(buf, "conn", 4);
	close(b.recs[0].fd);
	b.recs[0].fd = -1;
	/* No other copy of the write end is left anywhere. */
	assert_int_equal(read(pp[0], buf, sizeof buf), 0);
	close(pp[0]);

	peer_free(&a);
	peer_free(&b);

	/* From a msgconn to msg_recv_sync. */
	make_pair(sv);
	make_pipe(pp);
	peer_init(&a, f, sv[0], "a");
	assert_int_equal(msgconn_send(a.c, 2, 10, pp[1], NULL, 0), 0);
	close(pp[1]);
	assert_int_equal(msg_recv_sync(sv[1], &m), 1);
	assert_int_equal(m.hdr.type, 2);
	assert_true(m.fd >= 0);
	assert_int_equal(write(m.fd, "s", 1), 1);
	assert_int_equal(read(pp[0], buf, sizeof buf), 1);
	msg_clear(&m);
	assert_int_equal(read(pp[0], buf, sizeof buf), 0);
	close(pp[0]);

	peer_free(&a);
	close(sv[1]);
}

/* Interleaved messages with and without fds through msgconns. */
static void
test_conn_fd_interleaved(void **state)
{
	struct fixture	*f = *state;
	struct peer	 a, b;
	int		 sv[2], pipes[NINTERLEAVE][2], round;
	ino_t		 ino[NINTERLEAVE];
	size_t		 i, base;
	uint8_t		 buf[64];

	make_pair(sv);
	peer_init(&a, f, sv[0], "a");
	peer_init(&b, f, sv[1], "b");
	for (i = 0; i < NINTERLEAVE; i++) {
		make_pipe(pipes[i]);
		ino[i] = fd_ino(pipes[i][1]);
	}

	/*
	 * Round 0 from a msgconn, round 1 from msg_send_sync, all before
	 * the reader runs, so that several arrive in one read.
	 */
	for (round = 0; round < 2; round++) {
		for (i = 0; i < NINTERLEAVE; i++) {
			pattern(buf, i + 1, i);
			if (round == 0)
				assert_int_equal(msgconn_send(a.c, 50, i,
				    interleave[i] ? pipes[i][1] : -1, buf,
				    i + 1), 0);
			else
				assert_int_equal(msg_send_sync(sv[0], 50, i,
				    interleave[i] ? pipes[i][1] : -1, buf,
				    i + 1), 0);
		}
		loop_until(f, b.nrecs == (round + 1) * NINTERLEAVE);
	}
	for (i = 0; i < b.nrecs; i++) {
		base = i % NINTERLEAVE;
		assert_int_equal(b.recs[i].peerid, base);
		assert_int_equal(b.recs[i].len, base + 1);
		check_pattern(b.recs[i].data, base + 1, base);
		assert_int_equal(b.recs[i].hadfd, interleave[base]);
		if (interleave[base])
			assert_int_equal(b.recs[i].ino, ino[base]);
	}
	for (i = 0; i < NINTERLEAVE; i++) {
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
	peer_free(&a);
	peer_free(&b);
}

/* Far more than the socket holds, queued at once: all arrive in order. */
static void
test_conn_queued(void **state)
{
	struct fixture	*f = *state;
	struct peer	 a, b;
	uint8_t		*buf;
	size_t		 i, len, n = 2000, total = 0;
	int		 sv[2], pp[2];

	make_pair(sv);
	make_pipe(pp);
	peer_init(&a, f, sv[0], "a");
	peer_init(&b, f, sv[1], "b");
	buf = malloc(4096);
	assert_non_null(buf);
	for (i = 0; i < n; i++) {
		len = (i * 37) % 4000;
		pattern(buf, len, i);
		assert_int_equal(msgconn_send(a.c, 60, i,
		    i % 97 == 5 ? pp[1] : -1, buf, len), 0);
		total += sizeof(struct msg_hdr) + len;
	}
	/* The socket took some; the rest waits for EV_WRITE. */
	assert_true(msgconn_queued(a.c) > 0);
	assert_true(msgconn_queued(a.c) < total);

	loop_until(f, b.nrecs == n);
	for (i = 0; i < n; i++) {
		len = (i * 37) % 4000;
		assert_int_equal(b.recs[i].type, 60);
		assert_int_equal(b.recs[i].peerid, i);
		assert_int_equal(b.recs[i].len, len);
		check_pattern(b.recs[i].data, len, i);
		assert_int_equal(b.recs[i].hadfd, i % 97 == 5);
	}
	assert_int_equal(msgconn_queued(a.c), 0);
	assert_int_equal(a.nclose + b.nclose, 0);
	close(pp[0]);
	close(pp[1]);
	peer_free(&a);
	peer_free(&b);
	free(buf);
}

/*
 * A connection (a, on sv[0]) with 32 full messages queued that nobody
 * reads yet; returns the payload buffer to free.
 */
static uint8_t *
fill_unread(struct fixture *f, struct peer *a, int sv[2])
{
	uint8_t	*buf;
	int	 i;

	make_pair(sv);
	peer_init(a, f, sv[0], "a");
	buf = calloc(1, MSG_MAX_PAYLOAD);
	assert_non_null(buf);
	for (i = 0; i < 32; i++)
		assert_int_equal(msgconn_send(a->c, 1, i, -1, buf,
		    MSG_MAX_PAYLOAD), 0);
	assert_true(msgconn_queued(a->c) > 0);
	return buf;
}

/* A peer that hangs up while output is queued: one close, no crash. */
static void
test_conn_hangup_writing(void **state)
{
	struct fixture	*f = *state;
	struct peer	 a;
	uint8_t		*buf;
	int		 sv[2];

	buf = fill_unread(f, &a, sv);
	close(sv[1]);
	loop_until(f, a.nclose == 1);
	loop_for(f, 10);
	assert_int_equal(a.nclose, 1);
	assert_null(a.c);
	free(buf);
}

/* A peer that does not read is dropped once MSG_MAX_QUEUED is reached. */
static void
test_conn_queue_limit(void **state)
{
	struct fixture	*f = *state;
	struct peer	 a;
	uint8_t		*buf;
	size_t		 i;
	int		 sv[2];

	make_pair(sv);
	peer_init(&a, f, sv[0], "a");
	buf = calloc(1, MSG_MAX_PAYLOAD);
	assert_non_null(buf);
	for (i = 0; i < 2 * MSG_MAX_QUEUED / MSG_MAX_PAYLOAD; i++) {
		if (msgconn_send(a.c, 1, 0, -1, buf, MSG_MAX_PAYLOAD) == -1)
			break;
		assert_true(msgconn_queued(a.c) <= MSG_MAX_QUEUED);
	}
	assert_int_equal(errno, ENOBUFS);
	assert_true(i > MSG_MAX_QUEUED / (2 * MSG_MAX_PAYLOAD));
	errno = 0;
	assert_int_equal(msgconn_send(a.c, 1, 0, -1, "x", 1), -1);
	assert_int_equal(errno, EPIPE);
	loop_until(f, a.nclose == 1);
	assert_hung_up(sv[1]);
	close(sv[1]);
	free(buf);
}

/* A connection's own limit, set below the default, drops it sooner. */
static void
test_conn_queue_limit_set(void **state)
{
	struct fixture	*f = *state;
	struct peer	 a;
	uint8_t		*buf;
	size_t		 i, max = 128 * 1024;
	int		 sv[2];

	make_pair(sv);
	peer_init(&a, f, sv[0], "a");
	msgconn_set_max_queued(a.c, max);
	buf = calloc(1, MSG_MAX_PAYLOAD);
	assert_non_null(buf);
	for (i = 0; i < MSG_MAX_QUEUED / MSG_MAX_PAYLOAD; i++) {
		if (msgconn_send(a.c, 1, 0, -1, buf, MSG_MAX_PAYLOAD) == -1)
			break;
		assert_true(msgconn_queued(a.c) <= max);
	}
	assert_int_equal(errno, ENOBUFS);
	loop_until(f, a.nclose == 1);
	assert_hung_up(sv[1]);
	close(sv[1]);
	free(buf);
}

static int	ndrained;

static void
drained(struct msgconn *c, void *arg)
{
	(void)arg;
	assert_int_equal(msgconn_queued(c), 0);
	ndrained++;
}

/* The drain callback runs once, when output that waited is all written. */
static void
test_conn_drain(void **state)
{
	struct fixture	*f = *state;
	struct peer	 a, b;
	uint8_t		*buf;
	int		 sv[2], i;

	buf = fill_unread(f, &a, sv);
	ndrained = 0;
	msgconn_on_drain(a.c, drained);
	loop_for(f, 20);
	assert_int_equal(ndrained, 0);		/* nobody reads yet */
	peer_init(&b, f, sv[1], "b");
	loop_until(f, ndrained == 1 && b.nrecs == 32);
	assert_int_equal(b.recs[31].peerid, 31);
	/* Once only: more output that drains calls nothing. */
	for (i = 0; i < 32; i++)
		assert_int_equal(msgconn_send(a.c, 2, i, -1, buf,
		    MSG_MAX_PAYLOAD), 0);
	loop_until(f, b.nrecs == 64);
	assert_int_equal(ndrained, 1);
	peer_free(&a);
	peer_free(&b);
	free(buf);
}

static int	npaused;

/* A handler that stops the messages after each one. */
static int
pause_cb(struct msgconn *c, struct msg *m, void *arg)
{
	uint32_t	*seen = arg;

	seen[npaused++] = m->hdr.peerid;
	msgconn_pause(c);
	return 0;
}

/*
 * A paused connection hands out nothing; resumed, it hands out what it
 * had already read, in order, before reading more.
 */
static void
test_conn_pause(void **state)
{
	struct fixture	*f = *state;
	struct msgconn	*c;
	uint32_t	 seen[4];
	int		 sv[2], i;

	make_pair(sv);
	npaused = 0;
	c = msgconn_new(f->base, sv[1], pause_cb, NULL, seen, "paused");
	assert_non_null(c);
	/* Three messages in one write: all in the first read. */
	for (i = 0; i < 3; i++)
		assert_int_equal(msg_send_sync(sv[0], 1, 10 + i, -1, NULL, 0),
		    0);
	loop_until(f, npaused == 1);
	loop_for(f, 20);
	assert_int_equal(npaused, 1);
	msgconn_resume(c);
	loop_until(f, npaused == 2);
	loop_for(f, 20);
	assert_int_equal(npaused, 2);
	assert_int_equal(msg_send_sync(sv[0], 1, 13, -1, NULL, 0), 0);
	msgconn_resume(c);
	loop_until(f, npaused == 3);
	msgconn_resume(c);
	loop_until(f, npaused == 4);
	for (i = 0; i < 4; i++)
		assert_int_equal(seen[i], 10 + i);
	msgconn_free(c);
	close(sv[0]);
}

static int
h_count(struct msgconn *c, struct msg *m, void *arg)
{
	struct peer	*p = arg;

	(void)c;
	if (p->nhandled < 16)
		p->handled[p->nhandled] = m->hdr.type;
	p->nhandled++;
	return 0;
}

static int
h_stats(struct msgconn *c, struct msg *m, void *arg)
{
	const struct test_stats	*st = m->data;

	/* Read the fields in place, as the engine's handlers do. */
	assert_true(st->a == 0x0102030405060708ULL && st->c == -2);
	return h_count(c, m, arg);
}

static int
h_fail(struct msgconn *c, struct msg *m, void *arg)
{
	h_count(c, m, arg);
	return -1;
}

static const struct msg_handler test_tab[] = {
	{ T_FIXED, "fixed", 8, 0, h_count },
	{ T_TAIL, "tail", 4, 16, h_count },
	{ T_EMPTY, "empty", 0, 0, h_count },
	{ T_FAIL, "fail", 4, 0, h_fail },
	{ T_STATS, "stats", sizeof(struct test_stats), 0, h_stats },
};
#define NTEST_TAB	(sizeof test_tab / sizeof test_tab[0])

/* Payloads come out 8-byte aligned whatever came before them. */
static void
test_conn_aligned(void **state)
{
	struct fixture		*f = *state;
	struct peer		 b;
	struct test_stats	 st;
	int			 sv[2];
	size_t			 i;

	make_pair(sv);
	peer_init(&b, f, sv[1], "b");
	b.tab = test_tab;
	b.ntab = NTEST_TAB;
	st.a = 0x0102030405060708ULL;
	st.b = 1;
	st.c = -2;
	for (i = 0; i < 8; i++) {
		assert_int_equal(msg_send_sync(sv[0], T_TAIL, i, -1,
		    "0123456789ab", i + 5), 0);
		assert_int_equal(msg_send_sync(sv[0], T_STATS, i, -1, &st,
		    sizeof st), 0);
	}
	loop_until(f, b.nhandled == 16);
	assert_int_equal(b.nclose, 0);
	for (i = 0; i < 16; i += 2) {
		check_rec(&b.recs[i], T_TAIL, i / 2, "0123456789ab",
		    i / 2 + 5);
		check_rec(&b.recs[i + 1], T_STATS, i / 2, &st, sizeof st);
	}
	peer_free(&b);
	close(sv[0]);
}

/* msg_dispatch called directly: sizes and types. */
static void
test_dispatch_direct(void **state)
{
	static const struct {
		uint32_t	type;
		size_t		len;
		int		rv;
	} cases[] = {
		{ T_FIXED, 8, 0 },
		{ T_FIXED, 7, -1 },
		{ T_FIXED, 9, -1 },
		{ T_FIXED, 0, -1 },
		{ T_TAIL, 3, -1 },
		{ T_TAIL, 4, 0 },
		{ T_TAIL, 10, 0 },
		{ T_TAIL, 16, 0 },
		{ T_TAIL, 17, -1 },
		{ T_EMPTY, 0, 0 },
		{ T_EMPTY, 1, -1 },
		{ T_FAIL, 4, -1 },
		{ T_UNKNOWN, 0, -1 },
		{ 0, 0, -1 },
	};
	struct fixture	*f = *state;
	struct peer	 p;
	struct msg	 m;
	uint8_t		 buf[32];
	size_t		 i;
	int		 sv[2], called;

	make_pair(sv);
	peer_init(&p, f, sv[0], "direct");
	memset(buf, 0, sizeof buf);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&m, 0, sizeof m);
		m.hdr.type = cases[i].type;
		m.hdr.len = cases[i].len;
		m.fd = -1;
		m.data = buf;
		called = p.nhandled;
		assert_int_equal(msg_dispatch(test_tab, NTEST_TAB, p.c, &m,
		    &p), cases[i].rv);
		/* A handler runs only for a good size. */
		if (cases[i].rv == 0 || cases[i].type == T_FAIL)
			assert_int_equal(p.nhandled, called + 1);
		else
			assert_int_equal(p.nhandled, called);
	}
	/* An empty table knows nothing. */
	m.hdr.type = T_FIXED;
	m.hdr.len = 8;
	assert_int_equal(msg_dispatch(test_tab, 0, p.c, &m, &p), -1);
	peer_free(&p);
	close(sv[1]);
}

/* msg_lookup_entry: tables of larger entries that start with a handler. */
static void
test_lookup_entry(void **state)
{
	static const struct {
		struct msg_handler	h;
		int			flags;
	} tab[] = {
		{ { T_FIXED, "fixed", 8, 0, h_count }, 1 },
		{ { T_TAIL, "tail", 4, 16, h_count }, 2 },
		{ { T_EMPTY, "empty", 0, 0, h_count }, 3 },
	};
	const typeof(tab[0]) *e;
	struct msg	 m;
	char		 why[128];

	(void)state;
	memset(&m, 0, sizeof m);
	m.fd = -1;
	m.hdr.type = T_TAIL;
	m.hdr.len = 10;
	e = msg_lookup_entry(tab, 3, sizeof tab[0], &m, why, sizeof why);
	assert_ptr_equal(e, &tab[1]);
	assert_int_equal(e->flags, 2);
	m.hdr.type = T_EMPTY;
	m.hdr.len = 0;
	e = msg_lookup_entry(tab, 3, sizeof tab[0], &m, why, sizeof why);
	assert_ptr_equal(e, &tab[2]);
	m.hdr.type = T_FIXED;
	m.hdr.len = 9;
	errno = 0;
	assert_null(msg_lookup_entry(tab, 3, sizeof tab[0], &m, why,
	    sizeof why));
	assert_int_equal(errno, EBADMSG);
	assert_string_equal(why, "fixed message of 9 bytes (expected 8)");
	m.hdr.type = T_TAIL;
	m.hdr.len = 17;
	assert_null(msg_lookup_entry(tab, 3, sizeof tab[0], &m, why,
	    sizeof why));
	assert_string_equal(why, "tail message of 17 bytes (expected 4 to "
	    "16)");
	m.hdr.type = T_UNKNOWN;
	assert_null(msg_lookup_entry(tab, 3, sizeof tab[0], &m, why,
	    sizeof why));
	assert_int_equal(errno, ENOMSG);
	assert_int_equal(strncmp(why, "unknown message type ", 21), 0);
	/* msg_lookup is the same walk over plain handlers. */
	m.hdr.type = T_FIXED;
	m.hdr.len = 8;
	assert_ptr_equal(msg_lookup(test_tab, NTEST_TAB, &m, why, sizeof why),
	    &test_tab[0]);
}

/* msg_dispatch on a connection: a bad message drops the peer. */
static void
test_dispatch_conn(void **state)
{
	static const struct {
		uint32_t	type;
		size_t		len;
		int		ok;
	} cases[] = {
		{ T_FIXED, 8, 1 },
		{ T_FIXED, 4, 0 },
		{ T_FIXED, 12, 0 },
		{ T_TAIL, 4, 1 },
		{ T_TAIL, 16, 1 },
		{ T_TAIL, 2, 0 },
		{ T_TAIL, 17, 0 },
		{ T_EMPTY, 0, 1 },
		{ T_EMPTY, 8, 0 },
		{ T_FAIL, 4, 0 },
		{ T_UNKNOWN, 8, 0 },
	};
	struct fixture	*f = *state;
	struct peer	 p;
	uint8_t		 buf[32];
	size_t		 i;
	int		 sv[2];

	memset(buf, 'q', sizeof buf);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		make_pair(sv);
		peer_init(&p, f, sv[1], "dispatch");
		p.tab = test_tab;
		p.ntab = NTEST_TAB;

		/* A good message, the case, then another good one. */
		assert_int_equal(msg_send_sync(sv[0], T_FIXED, 1, -1, buf, 8),
		    0);
		assert_int_equal(msg_send_sync(sv[0], cases[i].type, 2, -1,
		    buf, cases[i].len), 0);
		assert_int_equal(msg_send_sync(sv[0], T_EMPTY, 3, -1, NULL, 0),
		    0);
		if (cases[i].ok) {
			loop_until(f, p.nhandled == 3);
			assert_int_equal(p.handled[1], cases[i].type);
			assert_int_equal(p.nclose, 0);
		} else {
			loop_until(f, p.nclose == 1);
			loop_for(f, 10);
			assert_int_equal(p.nclose, 1);
			/* Only h_fail saw its message; none ran after it. */
			assert_int_equal(p.nhandled,
			    cases[i].type == T_FAIL ? 2 : 1);
			assert_int_equal(p.nrecs, 2);
			assert_null(p.c);
			assert_hung_up(sv[0]);
		}
		peer_free(&p);
		close(sv[0]);
	}
}

/* A bad header drops its connection; another on the same base goes on. */
static void
test_bad_header(void **state)
{
	static const struct {
		uint32_t	len;
		uint32_t	flags;
	} cases[] = {
		{ MSG_MAX_PAYLOAD + 1, 0 },
		{ 0xffffffff, 0 },
		{ 4, 0x2 },
		{ 0, 0x80000000 },
		{ 4, MSG_F_FD },
		{ 0, MSG_F_FD },
	};
	struct fixture	*f = *state;
	struct peer	 bad, good;
	size_t		 i;
	int		 sv[2], sg[2];

	make_pair(sg);
	peer_init(&good, f, sg[1], "good");
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		make_pair(sv);
		peer_init(&bad, f, sv[1], "bad");
		assert_int_equal(msg_send_sync(sv[0], 1, 0, -1, "ok", 2), 0);
		write_hdr(sv[0], 2, cases[i].len, 0, cases[i].flags);
		if (cases[i].len <= MSG_MAX_PAYLOAD)
			write_all(sv[0], "abcd", cases[i].len);
		loop_until(f, bad.nclose == 1);
		assert_int_equal(bad.nrecs, 1);
		assert_null(bad.c);
		assert_hung_up(sv[0]);

		/* The other connection still works. */
		assert_int_equal(msg_send_sync(sg[0], 3, i, -1, "good", 4), 0);
		loop_until(f, good.nrecs == i + 1);
		check_rec(&good.recs[i], 3, i, "good", 4);
		assert_int_equal(good.nclose, 0);

		peer_free(&bad);
		close(sv[0]);
	}
	peer_free(&good);
	close(sg[0]);
}

/* More fds than a message may carry drop the peer; none leak. */
static void
test_too_many_fds(void **state)
{
	struct fixture	*f = *state;
	struct peer	 p;
	struct msg_hdr	 hdr;
	int		 sv[2], pp[2];
	char		 c;

	make_pair(sv);
	make_pipe(pp);
	peer_init(&p, f, sv[1], "fds");
	memset(&hdr, 0, sizeof hdr);
	hdr.type = 1;
	hdr.flags = MSG_F_FD;
	send_fds(sv[0], &hdr, sizeof hdr, pp[1], 20);
	close(pp[1]);
	loop_until(f, p.nclose == 1);
	assert_int_equal(p.nrecs, 0);
	assert_int_equal(read(pp[0], &c, 1), 0);
	close(pp[0]);
	peer_free(&p);
	close(sv[0]);
}

/* A peer that hangs up mid-message: the close callback runs once. */
static void
test_hangup_mid_message(void **state)
{
	struct fixture	*f = *state;
	struct peer	 p;
	int		 sv[2], pp[2], i;
	char		 c;

	for (i = 0; i < 4; i++) {
		make_pair(sv);
		make_pipe(pp);
		peer_init(&p, f, sv[1], "hangup");
		assert_int_equal(msg_send_sync(sv[0], 1, 0, -1, "whole", 5),
		    0);
		switch (i) {
		case 0:		/* half a header */
			write_all(sv[0], "12345678", 8);
			break;
		case 1:		/* a header and part of its payload */
			write_hdr(sv[0], 2, 100, 0, 0);
			write_all(sv[0], "0123456789", 10);
			break;
		case 2:		/* the same with its fd */
			{
				struct msg_hdr	hdr;

				memset(&hdr, 0, sizeof hdr);
				hdr.type = 2;
				hdr.len = 100;
				hdr.flags = MSG_F_FD;
				send_fds(sv[0], &hdr, sizeof hdr, pp[1], 1);
			}
			write_all(sv[0], "0123456789", 10);
			break;
		case 3:		/* between two messages */
			break;
		}
		close(pp[1]);
		close(sv[0]);
		loop_until(f, p.nclose == 1);
		loop_for(f, 20);
		assert_int_equal(p.nclose, 1);
		assert_int_equal(p.nrecs, 1);
		check_rec(&p.recs[0], 1, 0, "whole", 5);
		/* The fd of the half message was closed with it. */
		assert_int_equal(read(pp[0], &c, 1), 0);
		close(pp[0]);
		peer_free(&p);
	}
}

/* msgconn_free from inside the message callback, with more queued. */
static void
test_free_in_callback(void **state)
{
	struct fixture	*f = *state;
	struct peer	 p;
	int		 sv[2], pp[2], i;
	char		 c;

	for (i = 0; i < 3; i++) {
		make_pair(sv);
		make_pipe(pp);
		peer_init(&p, f, sv[1], "free");
		p.free_at = 2;
		if (i == 1)
			p.fail_at = 2;	/* and return -1 */
		if (i == 2)
			p.keepfds = 1;
		assert_int_equal(msg_send_sync(sv[0], 1, 1, -1, "a", 1), 0);
		assert_int_equal(msg_send_sync(sv[0], 2, 2, pp[1], "b", 1), 0);
		assert_int_equal(msg_send_sync(sv[0], 3, 3, -1, "c", 1), 0);
		assert_int_equal(msg_send_sync(sv[0], 4, 4, pp[1], "d", 1), 0);
		close(pp[1]);
		loop_until(f, p.nrecs == 2);
		loop_for(f, 20);
		/* Nothing more arrives; the owner freed it: no close. */
		assert_int_equal(p.nrecs, 2);
		assert_int_equal(p.nclose, 0);
		assert_null(p.c);
		assert_hung_up(sv[0]);
		if (p.keepfds) {
			assert_true(p.recs[1].fd >= 0);
			close(p.recs[1].fd);
			p.recs[1].fd = -1;
		}
		assert_int_equal(read(pp[0], &c, 1), 0);
		close(pp[0]);
		peer_free(&p);
		close(sv[0]);
	}
}

/* msgconn_free from the close callback, and before a pending drop. */
static void
test_free_in_close(void **state)
{
	struct fixture	*f = *state;
	struct peer	 p;
	int		 sv[2];

	make_pair(sv);
	peer_init(&p, f, sv[1], "close");
	p.free_in_close = 1;
	close(sv[0]);
	loop_until(f, p.nclose == 1);
	loop_for(f, 10);
	assert_int_equal(p.nclose, 1);
	peer_free(&p);

	/* Freed while its drop is scheduled: no callback, no crash. */
	make_pair(sv);
	peer_init(&p, f, sv[1], "pending");
	msgconn_close_when_flushed(p.c);
	peer_free(&p);
	loop_for(f, 10);
	assert_hung_up(sv[0]);
	close(sv[0]);
}

/* msgconn_close_when_flushed: the queued messages arrive, then EOF. */
static void
test_close_when_flushed(void **state)
{
	struct fixture	*f = *state;
	struct peer	 a, b;
	struct msg	 m;
	uint8_t		*buf;
	size_t		 i, n = 300;
	int		 sv[2];

	/* One message, read with msg_recv_sync after the close. */
	make_pair(sv);
	peer_init(&a, f, sv[0], "a");
	assert_int_equal(msgconn_send(a.c, 1, 7, -1, "bye", 3), 0);
	msgconn_close_when_flushed(a.c);
	loop_until(f, a.nclose == 1);
	assert_int_equal(msg_recv_sync(sv[1], &m), 1);
	assert_int_equal(m.hdr.type, 1);
	assert_int_equal(m.hdr.peerid, 7);
	assert_memory_equal(m.data, "bye", 3);
	msg_clear(&m);
	assert_int_equal(msg_recv_sync(sv[1], &m), 0);
	peer_free(&a);
	close(sv[1]);

	/* More than the socket holds: EV_WRITE flushes it all first. */
	make_pair(sv);
	peer_init(&a, f, sv[0], "a");
	peer_init(&b, f, sv[1], "b");
	buf = malloc(8192);
	assert_non_null(buf);
	for (i = 0; i < n; i++) {
		pattern(buf, 8192, i);
		assert_int_equal(msgconn_send(a.c, 2, i, -1, buf, 8192), 0);
	}
	assert_true(msgconn_queued(a.c) > 0);
	msgconn_close_when_flushed(a.c);
	loop_until(f, b.nclose == 1);
	assert_int_equal(a.nclose, 1);
	assert_int_equal(b.nrecs, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(b.recs[i].peerid, i);
		check_pattern(b.recs[i].data, 8192, i);
	}
	peer_free(&a);
	peer_free(&b);
	free(buf);
}

/* Closing from inside the callback stops the messages after it. */
static void
test_close_in_callback(void **state)
{
	struct fixture	*f = *state;
	struct peer	 p;
	int		 sv[2];

	make_pair(sv);
	peer_init(&p, f, sv[1], "p");
	p.close_at = 1;
	assert_int_equal(msg_send_sync(sv[0], 1, 1, -1, "a", 1), 0);
	assert_int_equal(msg_send_sync(sv[0], 2, 2, -1, "b", 1), 0);
	assert_int_equal(msg_send_sync(sv[0], 3, 3, -1, "c", 1), 0);
	loop_until(f, p.nclose == 1);
	assert_int_equal(p.nrecs, 1);
	assert_hung_up(sv[0]);
	peer_free(&p);
	close(sv[0]);
}

/* The small accessors. */
static void
test_accessors(void **state)
{
	struct fixture	*f = *state;
	struct peer	 p, q;
	int		 sv[2];

	make_pair(sv);
	peer_init(&p, f, sv[0], NULL);
	assert_string_equal(msgconn_name(p.c), "peer");
	assert_int_equal(msgconn_fd(p.c), sv[0]);
	assert_true(fcntl(sv[0], F_GETFL) & O_NONBLOCK);
	msgconn_set_name(p.c, "vm 3");
	assert_string_equal(msgconn_name(p.c), "vm 3");
	msgconn_set_name(p.c, "");
	assert_string_equal(msgconn_name(p.c), "peer");
	assert_int_equal(msgconn_queued(p.c), 0);

	/* An fd that is not open cannot be sent; nothing is queued. */
	errno = 0;
	assert_int_equal(msgconn_send(p.c, 1, 1, 1000, "x", 1), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(msgconn_queued(p.c), 0);

	/* msgconn_set_arg: the callbacks get the new argument. */
	memset(&q, 0, sizeof q);
	q.c = p.c;
	msgconn_set_arg(p.c, &q);
	assert_int_equal(msg_send_sync(sv[1], 1, 1, -1, "x", 1), 0);
	loop_until(f, q.nrecs == 1);
	assert_int_equal(p.nrecs, 0);
	peer_free(&q);
	p.c = NULL;
	peer_free(&p);
	close(sv[1]);

	/* A bad fd is refused. */
	assert_null(msgconn_new(f->base, -1, peer_cb, peer_close, NULL,
	    "bad"));
	msgconn_free(NULL);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		T(test_sync_roundtrip),
		T(test_sync_max_payload),
		T(test_sync_fd),
		T(test_sync_fd_interleaved),
		T(test_sync_recv_errors),
		T(test_conn_roundtrip),
		T(test_conn_sync_mixed),
		T(test_conn_fd),
		T(test_conn_fd_interleaved),
		T(test_conn_queued),
		T(test_conn_hangup_writing),
		T(test_conn_queue_limit),
		T(test_conn_queue_limit_set),
		T(test_conn_drain),
		T(test_conn_pause),
		T(test_conn_aligned),
		T(test_dispatch_direct),
		T(test_lookup_entry),
		T(test_dispatch_conn),
		T(test_bad_header),
		T(test_too_many_fds),
		T(test_hangup_mid_message),
		T(test_free_in_callback),
		T(test_free_in_close),
		T(test_close_when_flushed),
		T(test_close_in_callback),
		T(test_accessors),
	};

	log_init("test_msg", 1, 0);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
