/*
 * The dashboard's subscription: a connection of its own on which the
 * engine pushes MSG_ENGINE_INFO, every VM and MSG_END each interval, and
 * a VM whenever its state changes. It never starts an engine: when the
 * engine goes away it says so and looks for a new one every second.
 * Restarts wait here for their VM to stop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "client.h"
#include "cmd.h"
#include "dashboard.h"
#include "log.h"
#include "msg.h"
#include "split.h"
#include "xmalloc.h"

/* Start name once the engine reports it stopped (restart). */
void
dashboard_engine_restart(struct dashboard *dash, const char *name)
{
	dash->restarts = xreallocarray(dash->restarts, dash->nrestarts + 1,
	    sizeof *dash->restarts);
	dash->restarts[dash->nrestarts++] = xstrdup(name);
	dashboard_message(dash, 0, "restarting %s: it starts again once it "
	    "has stopped", name);
}

/* Start a VM waiting for a restart if info says it has stopped. */
static void
dashboard_engine_restart_check(struct dashboard *dash,
    const struct proto_vm_info *info)
{
	char *text, *q;
	size_t i;

	if (info->state != VM_STOPPED && info->state != VM_FAILED)
		return;
	for (i = 0; i < dash->nrestarts; i++) {
		if (strcmp(dash->restarts[i], info->name) != 0)
			continue;
		q = split_quote(dash->restarts[i]);
		free(dash->restarts[i]);
		dash->restarts[i] = dash->restarts[--dash->nrestarts];
		xasprintf(&text, "start %s", q);
		free(q);
		if (dashboard_input_run(dash, text) == 0)
			dashboard_message(dash, 0, "restarted %s", info->name);
		free(text);
		return;
	}
}

void
dashboard_engine_retry(int fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	dashboard_engine_subscribe(arg);
}

/* A message pushed by the engine on the subscription. */
static int
dashboard_engine_msg(struct msgconn *c, struct msg *m, void *arg)
{
	struct dashboard *dash = arg;
	struct proto_vm_info info;
	char err[PROTO_TEXT_SIZE + 64];

	(void)c;
	switch (m->hdr.type) {
	case MSG_OK:
		return 0;
	case MSG_ERROR:
		client_error_text(m, err, sizeof err);
		dashboard_message(dash, 1, "%s", err);
		return 0;
	case MSG_ENGINE_INFO:
		if (m->hdr.len != sizeof dash->engine)
			break;
		memcpy(&dash->engine, m->data, sizeof dash->engine);
		dash->have_engine = 1;
		dash->tick++;
		dash->in_tick = 1;
		tui_header_sample(&dash->host);
		return 0;
	case MSG_VM_INFO:
		if (m->hdr.len != sizeof info)
			break;
		memcpy(&info, m->data, sizeof info);
		cmd_list_sanitize(&info);
		tui_table_update(&dash->table, &info, dash->tick);
		dashboard_engine_restart_check(dash, &info);
		if (!dash->in_tick)
			dashboard_dirty(dash);
		return 0;
	case MSG_END:
		if (m->hdr.len != 0)
			break;
		if (dash->in_tick)
			tui_table_expire(&dash->table, dash->tick);
		dash->in_tick = 0;
		dashboard_dirty(dash);
		return 0;
	}
	log_debug("%s: unexpected message type %u, %u bytes", __func__,
	    m->hdr.type, m->hdr.len);
	dashboard_message(dash, 1, "malformed update from the engine");
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
	dash->lost = 1;
	dash->have_engine = 0;
	dash->in_tick = 0;
	tui_table_clear(&dash->table);
	dashboard_message(dash, 1, "the engine went away; its VMs are gone "
	    "(q quits, any command starts a new engine)");
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
