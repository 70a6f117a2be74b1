/*
 * The runner's side of the engine protocol (lib/proto.h, 200-299); the
 * engine's side is engine/runner.c. vmtop-vm and the test runner
 * (tests/runner) both speak it through this file. The
 * hand-off is read synchronously before anything else runs: the params,
 * one fd per message by kind/index/depth, MSG_RUN_START_END. Then the
 * socket joins the event loop: pause and unpause are answered with
 * MSG_OK or MSG_ERROR, shutdown presses the power button, and the runner
 * reports ready, console bytes and statistics. The engine hanging up
 * ends the runner at once.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "log.h"
#include "msg.h"
#include "handoff.h"
#include "vmcheck.h"
#include "vmm.h"

#define HANDOFF_FLUSH_SECONDS	2

static int			 handoff_sock = RUNNER_SOCKET_FD;
static uint32_t			 handoff_id;
static struct msgconn		*handoff_conn;
static struct event_base	*handoff_base;
static const struct handoff_ops	*handoff_cbs;
static int			 handoff_exiting = -1;
/* Static, so that an exit before it fires leaves nothing allocated. */
static struct event		 handoff_exit_ev;

static int	handoff_on_pause(struct msgconn *, struct msg *, void *);
static int	handoff_on_shutdown(struct msgconn *, struct msg *, void *);

static const struct msg_handler handoff_handlers[] = {
	{ MSG_RUN_PAUSE, "pause", 0, 0, handoff_on_pause },
	{ MSG_RUN_UNPAUSE, "unpause", 0, 0, handoff_on_pause },
	{ MSG_RUN_SHUTDOWN, "shutdown", 0, 0, handoff_on_shutdown },
};

static void
handoff_fds_init(struct vmm_fds *fds)
{
	memset(fds, -1, sizeof *fds);
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
	if (n < max)
		out[n++] = handoff_sock;
	return n;
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

/* The engine hung up, or we finished flushing before an exit. */
static void
handoff_on_close(struct msgconn *c, void *arg)
{
	(void)c;
	(void)arg;
	if (handoff_exiting >= 0)
		exit(handoff_exiting);
	log_debug("the engine hung up");
	exit(RUNNER_EXIT_ERROR);
}

void
handoff_listen(struct event_base *base, const struct handoff_ops *ops)
{
	handoff_cbs = ops;
	handoff_base = base;
	handoff_conn = msgconn_new(base, handoff_sock, handoff_on_msg,
	    handoff_on_close, NULL, "engine");
	if (handoff_conn == NULL)
		fatal("%s: engine socket", __func__);
}

static void
handoff_send(uint32_t type, const void *data, size_t len)
{
	if (handoff_conn != NULL)
		msgconn_send(handoff_conn, type, handoff_id, -1, data, len);
	else
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
	log_warnx("%s", e.text);
	handoff_send(MSG_RUN_ERROR, &e, sizeof e);
}

static void
handoff_exit_timeout(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	exit(handoff_exiting);
}

void
handoff_exit(int code)
{
	struct timeval tv = { HANDOFF_FLUSH_SECONDS, 0 };

	if (handoff_conn == NULL)
		exit(code);
	if (handoff_exiting >= 0)
		return;
	handoff_exiting = code;
	/* handoff_on_close() exits once the engine has everything. */
	msgconn_close_when_flushed(handoff_conn);
	evtimer_assign(&handoff_exit_ev, handoff_base, handoff_exit_timeout,
	    NULL);
	evtimer_add(&handoff_exit_ev, &tv);
}
