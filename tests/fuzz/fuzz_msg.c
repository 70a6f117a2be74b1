/*
 * Fuzz the message layer's reader: the input is written into one end of a
 * socketpair in chunks of varying size, so that the reader sees partial
 * frames, and a msgconn on the other end dispatches it over a table like
 * the engine's. Handlers reply, close when flushed and free the
 * connection from inside their callback.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "msg.h"
#include "proto.h"

struct fuzz {
	struct event_base	*base;
	struct msgconn		*c;
	struct event		*wev;
	struct event		*rev;
	int			 wfd;
	const uint8_t		*data;
	size_t			 size;
	size_t			 off;
	size_t			 maxchunk;
	uint32_t		 rnd;
	int			 closed;	/* the msgconn is gone */
	int			 written;	/* the writer side is done */
	uint64_t		 sum;
};

static uint32_t
fuzz_random(struct fuzz *fz)
{
	fz->rnd ^= fz->rnd << 13;
	fz->rnd ^= fz->rnd >> 17;
	fz->rnd ^= fz->rnd << 5;
	return fz->rnd;
}

static void
fuzz_reply(struct msgconn *c, struct msg *m, uint32_t type, const void *data,
    size_t len)
{
	msgconn_send(c, type, m->hdr.peerid, -1, data, len);
}

static int
fuzz_hello(struct msgconn *c, struct msg *m, void *arg)
{
	const struct proto_hello	*hello = m->data;
	struct proto_hello		 reply;

	(void)arg;
	if (hello->version != PROTOCOL_VERSION)
		return -1;
	memset(&reply, 0, sizeof reply);
	reply.version = PROTOCOL_VERSION;
	reply.pid = hello->pid;
	fuzz_reply(c, m, MSG_HELLO, &reply, sizeof reply);
	return 0;
}

static int
fuzz_ok(struct msgconn *c, struct msg *m, void *arg)
{
	(void)c;
	(void)m;
	(void)arg;
	return 0;
}

static int
fuzz_error(struct msgconn *c, struct msg *m, void *arg)
{
	const struct proto_error	*error = m->data;
	struct fuzz			*fz = arg;

	(void)c;
	fz->sum += error->code + strnlen(error->text, sizeof error->text);
	return m->hdr.type == MSG_RUN_ERROR ? -1 : 0;
}

static int
fuzz_list(struct msgconn *c, struct msg *m, void *arg)
{
	const struct proto_name	*name = m->data;
	struct proto_vm_info	 info;

	(void)arg;
	memset(&info, 0, sizeof info);
	memcpy(info.name, name->name, sizeof info.name);
	info.name[sizeof info.name - 1] = '\0';
	fuzz_reply(c, m, MSG_VM_INFO, &info, sizeof info);
	fuzz_reply(c, m, MSG_END, NULL, 0);
	return 0;
}

static int
fuzz_kill(struct msgconn *c, struct msg *m, void *arg)
{
	(void)arg;
	fuzz_reply(c, m, MSG_OK, NULL, 0);
	msgconn_close_when_flushed(c);
	return 0;
}

static int
fuzz_shutdown(struct msgconn *c, struct msg *m, void *arg)
{
	struct fuzz	*fz = arg;

	(void)m;
	msgconn_free(c);
	fz->c = NULL;
	fz->closed = 1;
	return 0;
}

static int
fuzz_bytes(struct msgconn *c, struct msg *m, void *arg)
{
	const uint8_t	*p = m->data;
	struct fuzz	*fz = arg;
	size_t		 i;

	(void)c;
	for (i = 0; i < m->hdr.len; i++)
		fz->sum += p[i];
	return 0;
}

static int
fuzz_run_fd(struct msgconn *c, struct msg *m, void *arg)
{
	const struct proto_run_fd	*rfd = m->data;

	(void)c;
	(void)arg;
	if (m->fd == -1 || rfd->kind == 0 || rfd->kind >= RUNFD_KIND_COUNT)
		return -1;
	return 0;
}

static int
fuzz_stats(struct msgconn *c, struct msg *m, void *arg)
{
	const struct proto_stats	*st = m->data;
	struct fuzz			*fz = arg;

	(void)c;
	/* In place, as the engine reads them. */
	fz->sum += st->cpu_ns + st->exits + st->rss_bytes;
	return 0;
}

static const struct msg_handler fuzz_table[] = {
	{ MSG_HELLO, "hello", sizeof(struct proto_hello), 0, fuzz_hello },
	{ MSG_OK, "ok", 0, 0, fuzz_ok },
	{ MSG_ERROR, "error", sizeof(struct proto_error), 0, fuzz_error },
	{ MSG_END, "end", 0, 0, fuzz_ok },
	{ MSG_CMD_LIST, "list", sizeof(struct proto_name), 0, fuzz_list },
	{ MSG_CMD_KILL, "kill", 0, 0, fuzz_kill },
	{ MSG_CAPTURE_DATA, "capture data", 0, MSG_MAX_PAYLOAD, fuzz_bytes },
	{ MSG_RUN_FD, "run fd", sizeof(struct proto_run_fd), 0, fuzz_run_fd },
	{ MSG_RUN_ERROR, "run error", sizeof(struct proto_error), 0,
	    fuzz_error },
	{ MSG_RUN_SHUTDOWN, "shutdown", 0, 0, fuzz_shutdown },
	{ MSG_RUN_CONSOLE, "console", 1, 4096, fuzz_bytes },
	{ MSG_RUN_STATS, "stats", sizeof(struct proto_stats), 0, fuzz_stats },
};

static int
fuzz_msg(struct msgconn *c, struct msg *m, void *arg)
{
	return msg_dispatch(fuzz_table,
	    sizeof fuzz_table / sizeof fuzz_table[0], c, m, arg);
}

static void
fuzz_close(struct msgconn *c, void *arg)
{
	struct fuzz	*fz = arg;

	(void)c;
	fz->c = NULL;
	fz->closed = 1;
}

/* Write the next chunk of the input; shut down once it is all out. */
static void
fuzz_write(int fd, short events, void *arg)
{
	struct fuzz	*fz = arg;
	size_t		 len;
	ssize_t		 n;

	(void)events;
	while (fz->off < fz->size) {
		len = 1 + fuzz_random(fz) % fz->maxchunk;
		if (len > fz->size - fz->off)
			len = fz->size - fz->off;
		n = send(fd, fz->data + fz->off, len, MSG_NOSIGNAL);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n == -1)
			break;		/* the reader has gone */
		fz->off += n;
		/* Let the reader see this chunk on its own now and then. */
		if (fuzz_random(fz) % 4 == 0)
			return;
	}
	shutdown(fd, SHUT_WR);
	event_del(fz->wev);
	fz->written = 1;
}

/* Throw away the replies. */
static void
fuzz_drain(int fd, short events, void *arg)
{
	struct fuzz	*fz = arg;
	char		 buf[4096];
	ssize_t		 n;

	(void)events;
	n = recv(fd, buf, sizeof buf, 0);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
		event_del(fz->rev);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Keep the dropped-peer warnings out of the fuzzer's output. */
	log_init("fuzz_msg", 0, 0);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t	 chunks[] = { 1, 3, 16, 61, 4096, 70000 };
	struct fuzz		 fz;
	int			 sv[2];

	memset(&fz, 0, sizeof fz);
	fz.data = data;
	fz.size = size;
	fz.rnd = 0x9e3779b9 ^ (size > 0 ? data[0] : 0);
	fz.maxchunk = chunks[(size > 0 ? data[0] : 0) % 6];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		abort();
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1)
		abort();
	if ((fz.base = event_base_new()) == NULL)
		abort();
	fz.wfd = sv[0];
	fz.c = msgconn_new(fz.base, sv[1], fuzz_msg, fuzz_close, &fz, "fuzz");
	if (fz.c == NULL)
		abort();
	fz.wev = event_new(fz.base, sv[0], EV_WRITE | EV_PERSIST, fuzz_write,
	    &fz);
	fz.rev = event_new(fz.base, sv[0], EV_READ | EV_PERSIST, fuzz_drain,
	    &fz);
	if (fz.wev == NULL || fz.rev == NULL)
		abort();
	event_add(fz.wev, NULL);
	event_add(fz.rev, NULL);

	/* Until the input is all written and the reader has gone. */
	while (!fz.written || !fz.closed) {
		if (event_base_loop(fz.base, EVLOOP_ONCE) != 0)
			abort();	/* nothing left to wait for */
	}

	msgconn_free(fz.c);
	event_free(fz.wev);
	event_free(fz.rev);
	close(sv[0]);
	event_base_free(fz.base);
	return 0;
}
