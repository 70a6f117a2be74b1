/*
 * kill-engine [-k]: end the engine. Without -k it stops every VM first
 * (the power button, then force after the timeout); with -k (--keep) it
 * leaves their runners running for the next engine, which adopts them. It
 * never starts an engine: with none running it says so and succeeds.
 *
 * An engine of another protocol version (after an upgrade) is asked in
 * its own words where we know them: protocol 3 had the same MSG_CMD_KILL
 * without a payload, and its runners end with it, so its VMs cannot be
 * kept. Any other gets SIGTERM, which an engine of protocol 4 or later
 * takes as "leave the VMs running". Either way the command returns once
 * the engine process has exited, so that the next command can start a
 * new one at once.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "tui.h"
#include "msg.h"

/* The last protocol whose engine is asked in words rather than SIGTERM. */
#define CMD_KILL_ENGINE_OLD	3

static enum cmd_retval	cmd_kill_engine_exec(struct cmd_ctx *, int,
			    char **);

static const struct cmd_long_opt cmd_kill_engine_long[] = {
	{ "keep", 'k' },
	{ NULL, 0 }
};

const struct cmd_entry cmd_kill_engine_entry = {
	.name = "kill-engine",
	.alias = NULL,
	.args = "k",
	.min_args = 0,
	.max_args = 0,
	.usage = "[-k]",
	.exec = cmd_kill_engine_exec,
	.needs_engine = 0,
	.long_opts = cmd_kill_engine_long
};

/*
 * Connect again to an engine that refused our hello, as a client of
 * protocol 3. Returns 0 with ctx->conn replaced when it answers as one,
 * or -1 (the first connection kept) when it does not.
 */
static int
cmd_kill_engine_old(struct cmd_ctx *ctx)
{
	struct client_opts opts;
	struct client_conn *c;
	char err[CMD_ERROR_SIZE];

	memset(&opts, 0, sizeof opts);
	opts.socket = ctx->socket;
	opts.flags = CLIENT_ANY_VERSION;
	opts.hello_version = CMD_KILL_ENGINE_OLD;
	if (client_connect(&opts, &c, err, sizeof err) == -1)
		return -1;
	if (c->version != CMD_KILL_ENGINE_OLD) {
		client_close(c);
		return -1;
	}
	client_close(ctx->conn);
	ctx->conn = c;
	return 0;
}

/* Ask the engine to end; returns 0, or -1 with the error set. */
static int
cmd_kill_engine_ask(struct cmd_ctx *ctx, uint32_t flags)
{
	struct proto_kill pk;
	struct msg m;

	memset(&pk, 0, sizeof pk);
	pk.flags = flags;
	/* No flags: the empty payload every engine knows. */
	if (cmd_send(ctx, MSG_CMD_KILL, &pk, flags != 0 ? sizeof pk : 0) ==
	    -1 || cmd_recv(ctx, &m) == -1 ||
	    cmd_ok_reply(ctx, &m) != CMD_RETURN_NORMAL)
		return -1;
	return 0;
}

static enum cmd_retval
cmd_kill_engine_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct client_conn *c;
	struct msg m;
	char err[CMD_ERROR_SIZE];
	uint32_t version;
	pid_t pid;
	int n, keep = cmd_flag(ctx, 'k');

	(void)argc;
	(void)argv;
	if (cmd_connect(ctx, CLIENT_ANY_VERSION) == -1) {
		if (errno != ESRCH)
			return CMD_RETURN_ERROR;
		fprintf(stderr, "vmtop: %s\n", ctx->error);
		ctx->error[0] = '\0';
		return CMD_RETURN_NORMAL;
	}
	/* A hang-up before the answer is the engine ending: not retried. */
	ctx->req_retries = 0;
	pid = ctx->conn->engine_pid;
	version = ctx->conn->version;
	if (version == 0 && cmd_kill_engine_old(ctx) == 0)
		version = CMD_KILL_ENGINE_OLD;
	if (version == PROTOCOL_VERSION) {
		if (cmd_kill_engine_ask(ctx, keep ? KILL_KEEP_VMS : 0) == -1)
			return CMD_RETURN_ERROR;
	} else if (version == CMD_KILL_ENGINE_OLD) {
		if (keep)
			return cmd_error(ctx, "the engine on %s speaks protocol "
			    "%u, whose runners end with their engine: its VMs "
			    "cannot be kept (kill-engine without -k stops "
			    "them)", ctx->conn->socket, version);
		if (cmd_kill_engine_ask(ctx, 0) == -1)
			return CMD_RETURN_ERROR;
	} else {
		if (pid <= 0)
			return cmd_error(ctx, "the engine on %s speaks another "
			    "protocol and its pid is unknown",
			    ctx->conn->socket);
		if (kill(pid, SIGTERM) == -1)
			return cmd_error(ctx, "cannot stop the engine (pid "
			    "%ld): %s", (long)pid, strerror(errno));
		if (!keep)
			fprintf(stderr, "vmtop: warning: the engine on %s "
			    "speaks another protocol and cannot be asked to "
			    "stop its VMs: sent it SIGTERM, which leaves them "
			    "running for the next engine\n",
			    ctx->conn->socket);
	}

	/* The engine hangs up; anything it still sends is moot. */
	c = ctx->conn;
	while ((n = client_recv(c, &m, err, sizeof err)) == 1)
		msg_clear(&m);
	client_close(c);
	ctx->conn = NULL;
	if (n == -1)
		return cmd_error(ctx, "%s", err);
	client_wait_exit(pid);
	return CMD_RETURN_NORMAL;
}
