/*
 * The runner's side of the engine protocol (lib/proto.h, 200-299); the
 * engine's side is engine/runner.c. vmtop-vm and the test runner
 * (tests/runner) both speak it through this file. The
 * hand-off is read synchronously before anything else runs: the params,
 * one fd per message by kind/index/depth, MSG_RUN_START_END. Then the
 * socket joins the event loop: pause and unpause are answered with
 * MSG_OK or MSG_ERROR, shutdown presses the power button, and the runner
 * reports ready, console bytes and statistics.
 *
 * The runner outlives its engine. Once sandboxed it listens on the
 * adoption socket the engine bound for it (RUNFD_ADOPT), so a connecting
 * engine sees the runner's own credentials. The engine hanging up drops
 * that connection only: the guest runs on, console bytes go into a ring
 * of ADOPT_RING_SIZE bytes, statistics are not queued. An engine of the
 * uid the runner was started with connects, sends MSG_RUN_ADOPT and from
 * then on is served as the first one was; while one is attached, another
 * is refused with EBUSY, so of two engines racing to adopt only one wins.
 * When the guest ends the attached engine gets MSG_RUN_EXIT and the runner
 * exits with that code; with no engine attached the runner waits for one
 * (at most ADOPT_WAIT_SECONDS), tells it the guest ended, and exits. So a
 * guest that reboots with no engine waits for the next engine, which
 * starts it again. A runner handed no adoption socket ends when its
 * engine hangs up, as nothing could adopt it.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "log.h"
#include "msg.h"
#include "handoff.h"
#include "vmcheck.h"
#include "vmm.h"
#include "xmalloc.h"

#define HANDOFF_FLUSH_SECONDS	2
#define ADOPT_BACKLOG		4
#define ADOPT_HELLO_SECONDS	5	/* for MSG_RUN_ADOPT to arrive */
#define ADOPT_WAIT_SECONDS	3600	/* an ended guest waits this long */
#define ADOPT_RING_SIZE		(1024 * 1024)

static int			 handoff_sock = RUNNER_SOCKET_FD;
static uint32_t			 handoff_id;
static char			 handoff_name[VM_NAME_SIZE];
static struct msgconn		*handoff_conn;	/* the attached engine */
static struct event_base	*handoff_base;
static const struct handoff_ops	*handoff_cbs;
static int			 handoff_serving;
static int			 handoff_exiting = -1;
static char			 handoff_why[PROTO_TEXT_SIZE];
/* Static, so that an exit before it fires leaves nothing allocated. */
static struct event		 handoff_exit_ev;

/* Who we are to an adopting engine, recorded before the sandbox. */
static int			 handoff_adopt_fd = -1;
static int			 handoff_pty = -1;
static pid_t			 handoff_outer_pid;
static uid_t			 handoff_engine_uid;
static struct timespec		 handoff_started;
static struct proto_stats	 handoff_last_stats;
static struct event		 handoff_accept_ev;
static struct msgconn		*handoff_candidate;	/* not adopted yet */
static struct event		 handoff_candidate_ev;

/* Console bytes kept while no engine reads them. */
static uint8_t			*handoff_ring;
static size_t			 handoff_ring_head;	/* oldest byte */
static size_t			 handoff_ring_len;
static uint64_t			 handoff_kept;
static uint64_t			 handoff_lost;

static int	handoff_on_pause(struct msgconn *, struct msg *, void *);
static int	handoff_on_shutdown(struct msgconn *, struct msg *, void *);

static const struct msg_handler handoff_handlers[] = {
	{ MSG_RUN_PAUSE, "pause", 0, 0, handoff_on_pause },
	{ MSG_RUN_UNPAUSE, "unpause", 0, 0, handoff_on_pause },
	{ MSG_RUN_SHUTDOWN, "shutdown", 0, 0, handoff_on_shutdown },
};

static void	handoff_send(uint32_t, const void *, size_t);

static void
handoff_fds_init(struct vmm_fds *fds)
{
	memset(fds, -1, sizeof *fds);
	handoff_adopt_fd = -1;
}

/* Where an fd of this kind/index/depth goes, or NULL if it is bad. */
static int *
handoff_fd_slot(struct vmm_fds *fds, const struct proto_run_fd *rf)
{
	int single = rf->index == 0 && rf->depth == 0;

	switch (rf->kind) {
	case RUNFD_KVM:
		return single ? &fds->kvm : NULL;
	case RUNFD_KERNEL:
		return single ? &fds->kernel : NULL;
	case RUNFD_INITRD:
		return single ? &fds->initrd : NULL;
	case RUNFD_BIOS:
		return single ? &fds->bios : NULL;
	case RUNFD_CDROM:
		return single ? &fds->cdrom : NULL;
	case RUNFD_PTY:
		return single ? &fds->pty : NULL;
	case RUNFD_SEED:
		return single ? &fds->seed : NULL;
	case RUNFD_ADOPT:
		/* handoff.c's alone: the machine never touches it. */
		return single ? &handoff_adopt_fd : NULL;
	case RUNFD_DISK:
		if (rf->index >= VM_MAX_DISKS || rf->depth != 0)
			return NULL;
		return &fds->disks[rf->index];
	case RUNFD_DISK_BASE:
		if (rf->index >= VM_MAX_DISKS || rf->depth < 1 ||
		    rf->depth > VM_MAX_BASE_IMAGES)
			return NULL;
		return &fds->bases[rf->index][rf->depth - 1];
	case RUNFD_NIC:
		if (rf->index >= VM_MAX_NICS || rf->depth != 0)
			return NULL;
		return &fds->nics[rf->index];
	}
	return NULL;
}

/* Check the params; returns NULL if they are good, else what is wrong. */
static const char *
handoff_check_params(struct proto_run_params *p)
{
	static char	why[PROTO_TEXT_SIZE];
	struct vmcheck	vc;

	p->name[sizeof p->name - 1] = '\0';
	p->cmdline[sizeof p->cmdline - 1] = '\0';
	vc.name = p->name;
	vc.memory = p->memory;
	vc.vcpus = p->vcpus;
	vc.ndisks = p->ndisks;
	vc.nnics = p->nnics;
	if (vmcheck(&vc, why, sizeof why) == -1)
		return why;
	/* KVM maps guest memory in whole pages: round up, as QEMU does. */
	p->memory = (p->memory + 0xfff) & ~0xfffULL;
	return NULL;
}

int
handoff_receive(int sock, struct proto_run_params *p, struct vmm_fds *fds,
    char *err, size_t errlen)
{
	struct proto_run_fd rf;
	struct msg m;
	const char *why;
	int have_params = 0, rv, *slot;

	handoff_sock = sock;
	/* Before any pid namespace or uid change: as the engine saw us. */
	handoff_outer_pid = getpid();
	handoff_engine_uid = getuid();
	handoff_fds_init(fds);
	for (;;) {
		if ((rv = msg_recv_sync(sock, &m)) != 1) {
			snprintf(err, errlen, "reading the hand-off: %s",
			    rv == 0 ? "the engine hung up" : strerror(errno));
			return -1;
		}
		if (have_params && m.hdr.peerid != p->id) {
			snprintf(err, errlen, "hand-off message for vm id %u",
			    m.hdr.peerid);
			goto fail;
		}
		switch (m.hdr.type) {
		case MSG_RUN_PARAMS:
			if (have_params || m.hdr.len != sizeof *p)
				goto bad;
			memcpy(p, m.data, sizeof *p);
			handoff_id = p->id;
			have_params = 1;
			if ((why = handoff_check_params(p)) != NULL) {
				snprintf(err, errlen, "%s", why);
				goto fail;
			}
			snprintf(handoff_name, sizeof handoff_name, "%s",
			    p->name);
			break;
		case MSG_RUN_FD:
			if (!have_params || m.hdr.len != sizeof rf ||
			    m.fd == -1)
				goto bad;
			memcpy(&rf, m.data, sizeof rf);
			slot = handoff_fd_slot(fds, &rf);
			if (slot == NULL || *slot != -1) {
				snprintf(err, errlen, "bad or repeated fd (kind "
				    "%u, index %u, depth %u)", rf.kind,
				    rf.index, rf.depth);
				goto fail;
			}
			*slot = m.fd;
			m.fd = -1;
			break;
		case MSG_RUN_START_END:
			if (!have_params || m.hdr.len != 0)
				goto bad;
			msg_clear(&m);
			handoff_pty = fds->pty;
			return 0;
		default:
			goto bad;
		}
		msg_clear(&m);
	}
bad:
	snprintf(err, errlen, "unexpected message %u (%u bytes) in the "
	    "hand-off", m.hdr.type, m.hdr.len);
fail:
	msg_clear(&m);
	return -1;
}

int
handoff_fd_list(const struct vmm_fds *fds, int *out, int max)
{
	const int *all = (const int *)fds;
	size_t i;
	int n = 0;

	/* struct vmm_fds is nothing but ints. */
	for (i = 0; i < sizeof *fds / sizeof(int); i++)
		if (all[i] != -1 && n < max)
			out[n++] = all[i];
	if (handoff_adopt_fd != -1 && n < max)
		out[n++] = handoff_adopt_fd;
	if (n < max)
		out[n++] = handoff_sock;
	return n;
}

int
handoff_adopt_socket(void)
{
	return handoff_adopt_fd;
}

static int
handoff_on_pause(struct msgconn *c, struct msg *m, void *arg)
{
	struct proto_error e;

	(void)arg;
	memset(&e, 0, sizeof e);
	if (handoff_cbs->pause(m->hdr.type == MSG_RUN_PAUSE, e.text,
	    sizeof e.text) == 0)
		return msgconn_send(c, MSG_OK, handoff_id, -1, NULL, 0) == -1 ?
		    -1 : 0;
	e.code = EBUSY;
	return msgconn_send(c, MSG_ERROR, handoff_id, -1, &e, sizeof e) == -1 ?
	    -1 : 0;
}

static int
handoff_on_shutdown(struct msgconn *c, struct msg *m, void *arg)
{
	(void)c;
	(void)m;
	(void)arg;
	handoff_cbs->power_button();
	return 0;
}

static int
handoff_on_msg(struct msgconn *c, struct msg *m, void *arg)
{
	if (m->hdr.peerid != handoff_id) {
		log_warnx("engine sent peer id %u, not %u", m->hdr.peerid,
		    handoff_id);
		return -1;
	}
	return msg_dispatch(handoff_handlers, sizeof handoff_handlers /
	    sizeof handoff_handlers[0], c, m, arg);
}

static void
handoff_exit_timeout(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	exit(handoff_exiting);
}

/* (Re)arm the timer that ends an exiting runner after secs. */
static void
handoff_exit_after(int secs)
{
	struct timeval tv = { secs, 0 };

	if (!event_initialized(&handoff_exit_ev))
		evtimer_assign(&handoff_exit_ev, handoff_base,
		    handoff_exit_timeout, NULL);
	evtimer_add(&handoff_exit_ev, &tv);
}

/* An exiting runner with an engine: tell it how, then go once flushed. */
static void
handoff_tell_exit(void)
{
	struct proto_run_exit x;

	memset(&x, 0, sizeof x);
	x.code = handoff_exiting;
	if (handoff_exiting == RUNNER_EXIT_ERROR)
		snprintf(x.text, sizeof x.text, "%s", handoff_why[0] != '\0' ?
		    handoff_why : "the runner failed");
	/*
	 * An engine that handed over no adoption socket predates adoption
	 * and would take MSG_RUN_EXIT for garbage; its waitpid() tells it.
	 */
	if (handoff_adopt_fd != -1)
		handoff_send(MSG_RUN_EXIT, &x, sizeof x);
	/* handoff_on_close() exits once the engine has everything. */
	msgconn_close_when_flushed(handoff_conn);
	handoff_exit_after(HANDOFF_FLUSH_SECONDS);
}

/* The engine hung up, or we finished flushing before an exit. */
static void
handoff_on_close(struct msgconn *c, void *arg)
{
	(void)arg;
	if (c != handoff_conn) {
		/* Gone before it adopted us, or refused: nothing changes. */
		if (c == handoff_candidate) {
			handoff_candidate = NULL;
			evtimer_del(&handoff_candidate_ev);
		}
		return;
	}
	handoff_conn = NULL;
	if (handoff_exiting >= 0)
		exit(handoff_exiting);
	if (handoff_adopt_fd == -1) {
		log_debug("the engine hung up");
		exit(RUNNER_EXIT_ERROR);
	}
	log_debug("the engine hung up; the guest runs on until an engine "
	    "adopts it");
}

/* Keep console bytes for the next engine; the oldest go when it is full. */
static void
handoff_ring_put(const uint8_t *p, size_t len)
{
	size_t tail, n, drop;

	if (handoff_ring == NULL)
		handoff_ring = xmalloc(ADOPT_RING_SIZE);
	if (len > ADOPT_RING_SIZE) {
		handoff_lost += len - ADOPT_RING_SIZE;
		p += len - ADOPT_RING_SIZE;
		len = ADOPT_RING_SIZE;
	}
	if (handoff_ring_len + len > ADOPT_RING_SIZE) {
		drop = handoff_ring_len + len - ADOPT_RING_SIZE;
		handoff_ring_head = (handoff_ring_head + drop) %
		    ADOPT_RING_SIZE;
		handoff_ring_len -= drop;
		handoff_lost += drop;
	}
	handoff_kept += len;
	while (len > 0) {
		tail = (handoff_ring_head + handoff_ring_len) % ADOPT_RING_SIZE;
		n = ADOPT_RING_SIZE - tail;
		if (n > len)
			n = len;
		memcpy(handoff_ring + tail, p, n);
		handoff_ring_len += n;
		p += n;
		len -= n;
	}
}

/* Hand the kept console bytes to the engine now attached, and forget them. */
static void
handoff_ring_flush(void)
{
	size_t n;

	while (handoff_ring_len > 0) {
		n = ADOPT_RING_SIZE - handoff_ring_head;
		if (n > handoff_ring_len)
			n = handoff_ring_len;
		if (n > MSG_MAX_PAYLOAD)
			n = MSG_MAX_PAYLOAD;
		handoff_send(MSG_RUN_CONSOLE, handoff_ring + handoff_ring_head,
		    n);
		handoff_ring_head = (handoff_ring_head + n) % ADOPT_RING_SIZE;
		handoff_ring_len -= n;
	}
	free(handoff_ring);
	handoff_ring = NULL;
	handoff_ring_head = 0;
	handoff_kept = handoff_lost = 0;
}

/* Refuse a connection with a sentence, then close it. */
static void
handoff_refuse(struct msgconn *c, int code, const char *fmt, ...)
{
	char text[PROTO_TEXT_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	log_warnx("refusing an adopting engine: %s", text);
	msgconn_send_error(c, handoff_id, code, "%s", text);
	msgconn_close_when_flushed(c);
}

/* The candidate said MSG_RUN_ADOPT: it is our engine from now on. */
static void
handoff_adopted(struct msgconn *c, const struct proto_run_adopt *a)
{
	struct proto_run_state st;
	struct timespec now;
	int fd = -1;

	memset(&st, 0, sizeof st);
	st.version = RUNNER_PROTOCOL_VERSION;
	snprintf(st.name, sizeof st.name, "%s", handoff_name);
	st.pid = handoff_outer_pid;
	st.old_id = handoff_id;
	clock_gettime(CLOCK_MONOTONIC, &now);
	st.uptime_ns = (uint64_t)(now.tv_sec - handoff_started.tv_sec) *
	    1000000000 + now.tv_nsec - handoff_started.tv_nsec;
	st.console_kept = handoff_kept;
	st.console_lost = handoff_lost;
	st.stats = handoff_last_stats;
	if (handoff_cbs->paused != NULL && handoff_cbs->paused())
		st.flags |= RUNSTATE_PAUSED;
	if (handoff_exiting >= 0)
		st.flags |= RUNSTATE_ENDED;
	if (handoff_pty != -1) {
		st.flags |= RUNSTATE_PTY;
		fd = handoff_pty;
	}
	log_debug("adopted by engine %u as vm id %u (was %u); %llu console "
	    "bytes kept, %llu lost", a->engine_pid, a->id, handoff_id,
	    (unsigned long long)handoff_kept,
	    (unsigned long long)handoff_lost);
	evtimer_del(&handoff_candidate_ev);
	handoff_candidate = NULL;
	handoff_conn = c;
	handoff_id = a->id;
	msgconn_set_name(c, "engine");
	msgconn_send(c, MSG_RUN_STATE, handoff_id, fd, &st, sizeof st);
	handoff_ring_flush();
	if (handoff_exiting >= 0) {
		if (handoff_exiting == RUNNER_EXIT_ERROR)
			handoff_error(handoff_why);
		handoff_tell_exit();
	}
}

/* A message on an adoption connection: the attached engine's, or ADOPT. */
static int
handoff_adopt_on_msg(struct msgconn *c, struct msg *m, void *arg)
{
	struct proto_run_adopt a;

	if (c == handoff_conn)
		return handoff_on_msg(c, m, arg);
	if (c != handoff_candidate)
		return 0;	/* refused, closing once flushed */
	if (m->hdr.type != MSG_RUN_ADOPT || m->hdr.len != sizeof a) {
		log_warnx("an adopting engine sent message %u of %u bytes, "
		    "not MSG_RUN_ADOPT", m->hdr.type, m->hdr.len);
		return -1;
	}
	memcpy(&a, m->data, sizeof a);
	if (a.version != RUNNER_PROTOCOL_VERSION) {
		handoff_candidate = NULL;
		evtimer_del(&handoff_candidate_ev);
		handoff_refuse(c, EPROTONOSUPPORT, "vm %s: its runner speaks "
		    "runner protocol version %u, the engine version %u",
		    handoff_name, RUNNER_PROTOCOL_VERSION, a.version);
		return 0;
	}
	handoff_adopted(c, &a);
	return 0;
}

/* The candidate said nothing in time. */
static void
handoff_candidate_timeout(int fd, short ev, void *arg)
{
	struct msgconn *c = handoff_candidate;

	(void)fd;
	(void)ev;
	(void)arg;
	if (c == NULL)
		return;
	log_warnx("an adopting engine said nothing in %d seconds",
	    ADOPT_HELLO_SECONDS);
	handoff_candidate = NULL;
	msgconn_free(c);
}

/* A connection on the adoption socket. */
static void
handoff_accept(int fd, short ev, void *arg)
{
	struct timeval tv = { ADOPT_HELLO_SECONDS, 0 };
	struct ucred cred;
	socklen_t len = sizeof cred;
	struct msgconn *c;
	int s;

	(void)ev;
	(void)arg;
	if ((s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("adoption socket: accept");
		return;
	}
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("adoption socket: SO_PEERCRED");
		close(s);
		return;
	}
	if (cred.uid != handoff_engine_uid) {
		log_warnx("adoption socket: refusing pid %ld of uid %u, the "
		    "runner's engine runs as uid %u", (long)cred.pid,
		    (unsigned)cred.uid, (unsigned)handoff_engine_uid);
		close(s);
		return;
	}
	if (handoff_cbs->adopting != NULL)
		handoff_cbs->adopting();
	c = msgconn_new(handoff_base, s, handoff_adopt_on_msg,
	    handoff_on_close, NULL, "adopting engine");
	if (c == NULL) {
		close(s);
		return;
	}
	if (handoff_conn != NULL || handoff_candidate != NULL) {
		handoff_refuse(c, EBUSY, "vm %s is served by another engine",
		    handoff_name);
		return;
	}
	handoff_candidate = c;
	evtimer_add(&handoff_candidate_ev, &tv);
}

/* Listen on the adoption socket; we are sandboxed, so it bears our ids. */
static void
handoff_adopt_listen(void)
{
	int flags;

	if (handoff_adopt_fd == -1)
		return;
	if ((flags = fcntl(handoff_adopt_fd, F_GETFL)) == -1 ||
	    fcntl(handoff_adopt_fd, F_SETFL, flags | O_NONBLOCK) == -1 ||
	    listen(handoff_adopt_fd, ADOPT_BACKLOG) == -1) {
		log_warn("vm %s: adoption socket: listen", handoff_name);
		close(handoff_adopt_fd);
		handoff_adopt_fd = -1;
		return;
	}
	event_assign(&handoff_accept_ev, handoff_base, handoff_adopt_fd,
	    EV_READ | EV_PERSIST, handoff_accept, NULL);
	event_add(&handoff_accept_ev, NULL);
	evtimer_assign(&handoff_candidate_ev, handoff_base,
	    handoff_candidate_timeout, NULL);
}

void
handoff_listen(struct event_base *base, const struct handoff_ops *ops)
{
	handoff_cbs = ops;
	handoff_base = base;
	clock_gettime(CLOCK_MONOTONIC, &handoff_started);
	handoff_conn = msgconn_new(base, handoff_sock, handoff_adopt_on_msg,
	    handoff_on_close, NULL, "engine");
	if (handoff_conn == NULL)
		fatal("%s: engine socket", __func__);
	handoff_serving = 1;
	handoff_adopt_listen();
}

/*
 * To the attached engine; before handoff_listen(), straight onto the
 * socket; with no engine attached, nothing (the caller keeps what counts).
 */
static void
handoff_send(uint32_t type, const void *data, size_t len)
{
	if (handoff_conn != NULL)
		msgconn_send(handoff_conn, type, handoff_id, -1, data, len);
	else if (!handoff_serving)
		msg_send_sync(handoff_sock, type, handoff_id, -1, data, len);
}

void
handoff_ready(void)
{
	handoff_send(MSG_RUN_READY, NULL, 0);
}

void
handoff_console(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t n;

	if (handoff_serving && handoff_conn == NULL) {
		handoff_ring_put(p, len);
		return;
	}
	while (len > 0) {
		n = len < MSG_MAX_PAYLOAD ? len : MSG_MAX_PAYLOAD;
		handoff_send(MSG_RUN_CONSOLE, p, n);
		p += n;
		len -= n;
	}
}

void
handoff_stats(const struct proto_stats *st)
{
	handoff_last_stats = *st;
	handoff_send(MSG_RUN_STATS, st, sizeof *st);
}

void
handoff_fail(const char *fmt, ...)
{
	struct proto_error e;
	va_list ap;

	memset(&e, 0, sizeof e);
	va_start(ap, fmt);
	vsnprintf(e.text, sizeof e.text, fmt, ap);
	va_end(ap);
	log_warnx("%s", e.text);
	msg_send_sync(handoff_sock, MSG_RUN_ERROR, handoff_id, -1, &e,
	    sizeof e);
	exit(RUNNER_EXIT_ERROR);
}

void
handoff_error(const char *text)
{
	struct proto_error e;

	memset(&e, 0, sizeof e);
	snprintf(e.text, sizeof e.text, "%s", text);
	if (text != handoff_why) {
		snprintf(handoff_why, sizeof handoff_why, "%s", text);
		log_warnx("%s", e.text);
	}
	handoff_send(MSG_RUN_ERROR, &e, sizeof e);
}

void
handoff_exit(int code)
{
	if (!handoff_serving)
		exit(code);
	if (handoff_exiting >= 0)
		return;
	handoff_exiting = code;
	if (handoff_conn != NULL) {
		handoff_tell_exit();
		return;
	}
	if (handoff_adopt_fd == -1)
		exit(code);
	log_info("the guest ended (exit %d) with no engine attached; waiting "
	    "up to %d s for one to adopt the runner", code, ADOPT_WAIT_SECONDS);
	handoff_exit_after(ADOPT_WAIT_SECONDS);
}
