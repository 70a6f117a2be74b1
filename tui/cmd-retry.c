/*
 * Asking again when the engine goes away. An engine that is restarted,
 * killed or upgraded leaves its VMs running, and the next one (started on
 * demand like any engine) adopts them before it serves a client. So a
 * command whose connection closes before the answer to its request came
 * connects anew and sends the same request again: once for a plain
 * request, up to CMD_RETRY_TRIES times, CMD_RETRY_PAUSE_MS apart, for one
 * that waits on the engine (wait, stop -w, start, restart). A request
 * whose answer has begun (a list half read) is never sent again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tui.h"
#include "msg.h"
#include "paths.h"
#include "xmalloc.h"

/* Forget the request kept for sending again. */
void
cmd_retry_clear(struct cmd_ctx *ctx)
{
	free(ctx->req_data);
	ctx->req_data = NULL;
	ctx->req_type = 0;
	ctx->req_len = 0;
	ctx->req_left = 0;
	ctx->req_answered = 0;
}

/* Keep a request just sent, to send it again if the engine goes away. */
void
cmd_retry_save(struct cmd_ctx *ctx, uint32_t type, const void *data,
    size_t len)
{
	cmd_retry_clear(ctx);
	ctx->req_type = type;
	if (len > 0) {
		ctx->req_data = xmalloc(len);
		memcpy(ctx->req_data, data, len);
	}
	ctx->req_len = len;
	ctx->req_left = ctx->req_retries;
}

/* Whether the request may be sent again: no answer yet, tries left. */
int
cmd_retry_due(struct cmd_ctx *ctx)
{
	return ctx->req_type != 0 && !ctx->req_answered && ctx->req_left > 0;
}

/* The failure once no try is left: it names the engine's socket. */
static void
cmd_retry_fail(struct cmd_ctx *ctx, const char *why)
{
	char *socket, buf[PROTO_TEXT_SIZE / 2];
	int tries = ctx->req_retries + 1;

	snprintf(buf, sizeof buf, "%s", why);
	socket = ctx->socket != NULL ? xstrdup(ctx->socket) : paths_socket();
	snprintf(ctx->error, sizeof ctx->error, "the engine on %.300s went "
	    "away before it answered, and no engine answered there in %d "
	    "tr%s (%s)", socket, tries, tries == 1 ? "y" : "ies", buf);
	free(socket);
	cmd_retry_clear(ctx);
}

/*
 * Connect anew, starting an engine if none runs, and send the request
 * again. Return values: 0 once it is sent; -1 with the error set when it
 * could not be, after which cmd_retry_due says whether to try again
 * (after a pause).
 */
int
cmd_retry(struct cmd_ctx *ctx)
{
	ctx->req_left--;
	ctx->req_resent = 1;
	client_close(ctx->conn);
	ctx->conn = NULL;
	if (cmd_connect(ctx, CLIENT_START) == 0 &&
	    client_request(ctx->conn, ctx->req_type, ctx->req_data,
	    ctx->req_len, ctx->error, sizeof ctx->error) == 0)
		return 0;
	client_close(ctx->conn);
	ctx->conn = NULL;
	if (ctx->req_left == 0)
		cmd_retry_fail(ctx, ctx->error);
	return -1;
}

/*
 * Read one message, but leave a hang-up that may be retried to the
 * caller. Return values: 0 with m filled; 1 when the engine hung up (or a
 * retry could not connect) before it answered and the request may be
 * sent again: cmd_retry after CMD_RETRY_PAUSE_MS; -1 with the error set.
 */
int
cmd_recv_try(struct cmd_ctx *ctx, struct msg *m)
{
	int n;

	if (ctx->conn == NULL) {
		if (cmd_retry_due(ctx))
			return 1;
		if (ctx->error[0] == '\0')
			cmd_error(ctx, "not connected to the engine");
		return -1;
	}
	n = client_recv(ctx->conn, m, ctx->error, sizeof ctx->error);
	if (n == 1) {
		ctx->req_answered = 1;
		return 0;
	}
	client_close(ctx->conn);
	ctx->conn = NULL;
	if (n == 0 && cmd_retry_due(ctx))
		return 1;
	if (n == 0 && ctx->req_resent)
		cmd_retry_fail(ctx, ctx->error);
	return -1;
}

/* Read one message, asking again (blocking) while the engine is away. */
int
cmd_recv(struct cmd_ctx *ctx, struct msg *m)
{
	int n;

	while ((n = cmd_recv_try(ctx, m)) == 1) {
		usleep(CMD_RETRY_PAUSE_MS * 1000);
		(void)cmd_retry(ctx);
	}
	return n;
}

/*
 * Whether a refusal m of a request that was sent again means that the
 * engine that went away had done it already: the VM called name is now
 * in one of states (a mask of 1 << enum vm_state). If so, m is made an
 * MSG_OK.
 */
int
cmd_retry_done(struct cmd_ctx *ctx, struct msg *m, const char *name,
    unsigned int states)
{
	struct proto_vm_info vi;
	char error[CMD_ERROR_SIZE];

	if (!ctx->req_resent || m->hdr.type != MSG_ERROR)
		return 0;
	memcpy(error, ctx->error, sizeof error);
	if (cmd_list_one(ctx, name, &vi) == -1 ||
	    (states & (1U << vi.state)) == 0) {
		memcpy(ctx->error, error, sizeof error);
		return 0;
	}
	msg_clear(m);
	m->hdr.type = MSG_OK;
	m->hdr.len = 0;
	return 1;
}
