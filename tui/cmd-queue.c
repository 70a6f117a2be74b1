/*
 * The dashboard's command queue, on its libevent loop, after tmux's
 * cmd-queue.c. Each item is one command list (a key's binding, a line
 * typed at the : prompt) and runs its commands one after another. A
 * command whose exec returns CMD_RETURN_WAIT parks its item, with the
 * engine connection its reply comes on, and the loop resumes it once that
 * reply can be read; the rest of the list runs after it. Other items run
 * meanwhile: a list that waits holds up only itself, so the cursor keys,
 * or a stop for the VM that a wait is for, still work. Each item has a
 * context of its own that borrows the owner's connection while a command
 * runs; a parked item keeps it and the next command connects anew. An
 * item whose engine goes away before it answers is sent again on a new
 * connection after a pause on a timer (cmd-retry.c), the loop going on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "tui.h"
#include "log.h"
#include "msg.h"
#include "xmalloc.h"

struct cmd_queue {
	struct event_base		*base;
	struct cmd_ctx			*owner;
	const struct cmd_queue_hooks	*hooks;
	void				*arg;
	TAILQ_HEAD(, cmd_queue_item)	 parked;
	size_t				 nparked;
};

static void	cmd_queue_run(struct cmd_queue_item *);
static void	cmd_queue_park(struct cmd_queue_item *);
static void	cmd_queue_retry(int, short, void *);

struct cmd_queue *
cmd_queue_new(struct event_base *base, struct cmd_ctx *owner,
    const struct cmd_queue_hooks *hooks, void *arg)
{
	struct cmd_queue *q;

	q = xcalloc(1, sizeof *q);
	q->base = base;
	q->owner = owner;
	q->hooks = hooks;
	q->arg = arg;
	TAILQ_INIT(&q->parked);
	return q;
}

/* Forget the running command's words and output. */
static void
cmd_queue_clear(struct cmd_queue_item *item)
{
	if (item->f != NULL) {
		fclose(item->f);
		item->f = NULL;
	}
	free(item->out);
	item->out = NULL;
	item->outlen = 0;
	if (item->argv != NULL)
		split_free_words(item->argc, item->argv);
	item->argv = NULL;
	item->argc = 0;
}

/* Free an item; a command still waiting is abandoned with its connection. */
static void
cmd_queue_item_free(struct cmd_queue_item *item)
{
	struct cmd_queue *q = item->queue;

	if (item->parked) {
		TAILQ_REMOVE(&q->parked, item, entry);
		q->nparked--;
	}
	if (item->ev != NULL)
		event_free(item->ev);
	cmd_args_clear(&item->ctx);
	cmd_retry_clear(&item->ctx);
	client_close(item->ctx.conn);
	cmd_queue_clear(item);
	split_free(item->list);
	free(item->list);
	free(item);
}

void
cmd_queue_free(struct cmd_queue *q)
{
	struct cmd_queue_item *item;

	if (q == NULL)
		return;
	while ((item = TAILQ_FIRST(&q->parked)) != NULL)
		cmd_queue_item_free(item);
	free(q);
}

/* The number of command lists waiting for a reply. */
size_t
cmd_queue_waiting(struct cmd_queue *q)
{
	return q->nparked;
}

/* Lend the owner's connection to the item, if it has none of its own. */
static void
cmd_queue_lend(struct cmd_queue_item *item)
{
	struct cmd_ctx *owner = item->queue->owner;

	if (item->ctx.conn == NULL) {
		item->ctx.conn = owner->conn;
		owner->conn = NULL;
	}
}

/* Give the connection back, or close it if the owner has a new one. */
static void
cmd_queue_give_back(struct cmd_queue_item *item)
{
	struct cmd_ctx *owner = item->queue->owner;

	if (owner->conn == NULL)
		owner->conn = item->ctx.conn;
	else
		client_close(item->ctx.conn);
	item->ctx.conn = NULL;
}

/* A command has ended: tell the owner. Returns 0 to go on, -1 to stop. */
static int
cmd_queue_end(struct cmd_queue_item *item, enum cmd_retval rv)
{
	struct cmd_queue *q = item->queue;

	if (item->f != NULL) {
		fclose(item->f);
		item->f = NULL;
	}
	cmd_queue_give_back(item);
	q->hooks->done(item, rv, q->arg);
	cmd_queue_clear(item);
	item->next++;
	return rv == CMD_RETURN_NORMAL ? 0 : -1;
}

/* The item's command has ended (rv): go on with its list, or free it. */
static void
cmd_queue_unpark(struct cmd_queue_item *item, enum cmd_retval rv)
{
	struct cmd_queue *q = item->queue;

	TAILQ_REMOVE(&q->parked, item, entry);
	q->nparked--;
	item->parked = 0;
	if (cmd_queue_end(item, rv) == 0)
		cmd_queue_run(item);
	else
		cmd_queue_item_free(item);
}

/* Wait CMD_RETRY_PAUSE_MS before the request is sent again. */
static void
cmd_queue_retry_later(struct cmd_queue_item *item)
{
	struct timeval tv = { 0, CMD_RETRY_PAUSE_MS * 1000 };

	item->ev = evtimer_new(item->queue->base, cmd_queue_retry, item);
	if (item->ev == NULL)
		fatalx("%s: evtimer_new", __func__);
	evtimer_add(item->ev, &tv);
}

/*
 * The engine went away before it answered: send the request again (a new
 * engine is started if need be) and park the item on the new connection.
 */
static void
cmd_queue_retry(int fd, short events, void *arg)
{
	struct cmd_queue_item *item = arg;

	(void)fd;
	(void)events;
	event_free(item->ev);
	item->ev = NULL;
	if (cmd_retry(&item->ctx) == 0)
		cmd_queue_park(item);
	else if (cmd_retry_due(&item->ctx))
		cmd_queue_retry_later(item);
	else
		cmd_queue_unpark(item, cmd_resume(&item->ctx, NULL));
}

static void
cmd_queue_ready(int fd, short events, void *arg)
{
	struct cmd_queue_item *item = arg;
	struct msg m;
	enum cmd_retval rv;
	int n;

	(void)fd;
	(void)events;
	if (!client_pending(item->ctx.conn)) {
		event_add(item->ev, NULL);	/* only part of it so far */
		return;
	}
	event_free(item->ev);
	item->ev = NULL;
	if ((n = cmd_recv_try(&item->ctx, &m)) == 1) {
		cmd_queue_retry_later(item);
		return;
	}
	rv = cmd_resume(&item->ctx, n == 0 ? &m : NULL);
	if (rv == CMD_RETURN_WAIT && item->ctx.conn != NULL) {
		cmd_queue_park(item);		/* it waits again */
		return;
	}
	if (rv == CMD_RETURN_WAIT)
		rv = cmd_resume(&item->ctx, NULL);
	cmd_queue_unpark(item, rv);
}

/* Park the item until the reply its command waits for can be read. */
static void
cmd_queue_park(struct cmd_queue_item *item)
{
	struct cmd_queue *q = item->queue;

	item->ev = event_new(q->base, item->ctx.conn->fd, EV_READ,
	    cmd_queue_ready, item);
	if (item->ev == NULL)
		fatalx("%s: event_new", __func__);
	event_add(item->ev, NULL);
	if (!item->parked) {
		TAILQ_INSERT_TAIL(&q->parked, item, entry);
		q->nparked++;
		item->parked = 1;
	}
	if (q->hooks->waiting != NULL)
		q->hooks->waiting(item, q->arg);
}

/* Run the item's commands from item->next until one waits or all end. */
static void
cmd_queue_run(struct cmd_queue_item *item)
{
	struct cmd_queue *q = item->queue;
	struct split_cmd *c;
	enum cmd_retval rv;

	while (item->next < item->list->n) {
		c = &item->list->cmds[item->next];
		item->argv = q->hooks->prepare(item, c->argc, c->argv, q->arg);
		if (item->argv == NULL)
			break;
		item->argc = c->argc;
		if ((item->f = open_memstream(&item->out, &item->outlen)) ==
		    NULL) {
			cmd_error(&item->ctx, "cannot run %s: %s",
			    item->argv[0], strerror(errno));
			cmd_queue_end(item, CMD_RETURN_ERROR);
			break;
		}
		item->ctx.out = item->f;
		cmd_queue_lend(item);
		rv = cmd_begin(&item->ctx, item->argc, item->argv);
		if (rv == CMD_RETURN_WAIT && item->ctx.conn == NULL)
			rv = cmd_resume(&item->ctx, NULL);
		if (rv == CMD_RETURN_WAIT) {
			cmd_queue_park(item);
			return;
		}
		if (cmd_queue_end(item, rv) == -1)
			break;
	}
	cmd_queue_item_free(item);
}

/*
 * Queue command text and run it at once, up to a command that waits.
 * Return values: 0, or -1 with the splitter's error in err.
 */
int
cmd_queue_append(struct cmd_queue *q, const char *text, char *err,
    size_t errlen)
{
	struct cmd_queue_item *item;
	struct split_list *list;

	list = xcalloc(1, sizeof *list);
	if (split_commands(text, list, err, errlen) == -1) {
		free(list);
		return -1;
	}
	item = xcalloc(1, sizeof *item);
	item->queue = q;
	item->list = list;
	item->ctx = *q->owner;
	item->ctx.conn = NULL;
	item->ctx.entry = NULL;
	item->ctx.opts = NULL;
	item->ctx.nopts = 0;
	item->ctx.argv = NULL;
	item->ctx.argc = 0;
	item->ctx.resume = NULL;
	item->ctx.req_data = NULL;
	item->ctx.req_type = 0;
	item->ctx.error[0] = '\0';
	item->ctx.result[0] = '\0';
	cmd_queue_run(item);
	return 0;
}
