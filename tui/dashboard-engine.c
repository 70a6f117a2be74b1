/*
 * The dashboard's subscription: a connection of its own on which the
 * engine pushes MSG_ENGINE_INFO, every VM and MSG_END each interval, and
 * a VM whenever its state changes. It never starts an engine: when the
 * engine goes away it says so and looks for a new one every second.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "tui.h"
#include "log.h"
#include "msg.h"

void
dashboard_engine_retry(int fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	dashboard_engine_subscribe(arg);
}

static int
dashboard_engine_ok(struct msgconn *c, struct msg *m, void *arg)
{
	(void)c;
	(void)m;
	(void)arg;
	return 0;
}

static int
dashboard_engine_error(struct msgconn *c, struct msg *m, void *arg)
{
	struct dashboard *dash = arg;
	char err[PROTO_TEXT_SIZE + 64];

	(void)c;
	client_error_text(m, err, sizeof err);
	dashboard_message(dash, 1, "%s", err);
	return 0;
}

/* The first message of a tick: the engine's own numbers. */
static int
dashboard_engine_info(struct msgconn *c, struct msg *m, void *arg)
{
	struct dashboard *dash = arg;

	(void)c;
	memcpy(&dash->engine, m->data, sizeof dash->engine);
	dash->have_engine = 1;
	dash->tick++;
	dash->in_tick = 1;
	dashboard_header_sample(&dash->host);
	return 0;
}

/* A VM, in a tick or when its state changes. */
static int
dashboard_engine_vm(struct msgconn *c, struct msg *m, void *arg)
{
	struct dashboard *dash = arg;
	struct proto_vm_info info;

	(void)c;
	memcpy(&info, m->data, sizeof info);
	cmd_list_sanitize(&info);
	dashboard_table_update(&dash->table, &info, dash->tick);
	if (!dash->in_tick)
		dashboard_dirty(dash);
	return 0;
}

/* The end of a tick: VMs it did not list are gone. */
static int
dashboard_engine_end(struct msgconn *c, struct msg *m, void *arg)
{
	struct dashboard *dash = arg;

	(void)c;
	(void)m;
	if (dash->in_tick)
		dashboard_table_expire(&dash->table, dash->tick);
	dash->in_tick = 0;
	dashboard_dirty(dash);
	return 0;
}

/* What the engine pushes on the subscription. */
static const struct msg_handler dashboard_engine_handlers[] = {
	{ MSG_OK, "ok", 0, 0, dashboard_engine_ok },
	{ MSG_ERROR, "error", sizeof(struct proto_error), 0,
	    dashboard_engine_error },
	{ MSG_ENGINE_INFO, "engine info", sizeof(struct proto_engine_info), 0,
	    dashboard_engine_info },
	{ MSG_VM_INFO, "vm info", sizeof(struct proto_vm_info), 0,
	    dashboard_engine_vm },
	{ MSG_END, "end", 0, 0, dashboard_engine_end },
};

/* A message pushed by the engine; one that breaks the protocol drops it. */
static int
dashboard_engine_msg(struct msgconn *c, struct msg *m, void *arg)
{
	struct dashboard *dash = arg;
	const struct msg_handler *h;
	char why[128];

	h = msg_lookup(dashboard_engine_handlers,
	    sizeof dashboard_engine_handlers /
	    sizeof dashboard_engine_handlers[0], m, why, sizeof why);
	if (h != NULL)
		return h->fn(c, m, arg);
	log_debug("%s: %s", __func__, why);
	dashboard_message(dash, 1, "malformed update from the engine: %s",
	    why);
	dash->sub_broken = 1;
	return -1;
}

static void
dashboard_engine_closed(struct msgconn *c, void *arg)
{
	struct dashboard *dash = arg;
	struct timeval tv = { 1, 0 };

	(void)c;
	dash->sub = NULL;
	dash->connected = 0;
	dash->have_engine = 0;
	dash->in_tick = 0;
	dashboard_table_clear(&dash->table);
	/* Dropped for a malformed update, the engine may well be there. */
	if (!dash->sub_broken) {
		dash->lost = 1;
		dashboard_message(dash, 1, "the engine went away; its VMs run "
		    "on for the next engine (q quits, any command starts one)");
	}
	dash->sub_broken = 0;
	evtimer_add(dash->retry_ev, &tv);
}

/* Connect the subscription (never starting an engine) and subscribe. */
void
dashboard_engine_subscribe(struct dashboard *dash)
{
	struct client_opts o;
	struct client_conn *conn;
	struct proto_subscribe s;
	struct timeval tv = { 1, 0 };
	char err[CMD_ERROR_SIZE];
	int fd;

	if (dash->sub != NULL || dash->suspended)
		return;
	memset(&o, 0, sizeof o);
	o.socket = dash->ctx->socket;
	if (client_connect(&o, &conn, err, sizeof err) == -1) {
		if (errno != ESRCH && !dash->message_error)
			dashboard_message(dash, 1, "%s", err);
		evtimer_add(dash->retry_ev, &tv);
		return;
	}
	fd = conn->fd;
	conn->fd = -1;
	client_close(conn);
	dash->sub = msgconn_new(dash->base, fd, dashboard_engine_msg,
	    dashboard_engine_closed, dash, "engine subscription");
	if (dash->sub == NULL) {
		close(fd);
		evtimer_add(dash->retry_ev, &tv);
		return;
	}
	memset(&s, 0, sizeof s);
	s.interval_ms = dash->interval_ms;
	msgconn_send(dash->sub, MSG_CMD_SUBSCRIBE, 0, -1, &s, sizeof s);
	if (dash->lost) {
		dash->message[0] = '\0';
		dash->lost = 0;
	}
	dash->connected = 1;
	dashboard_dirty(dash);
}
