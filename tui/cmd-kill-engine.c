/*
 * kill-engine: stop every VM and end the engine. It never starts an
 * engine: with none running it says so and succeeds. An engine of another
 * protocol version (after an upgrade) cannot be asked, so it gets SIGTERM
 * instead. Either way the command returns once the engine process has
 * exited, so that the next command can start a new one at once.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "tui.h"
#include "msg.h"

static enum cmd_retval	cmd_kill_engine_exec(struct cmd_ctx *, int,
			    char **);

const struct cmd_entry cmd_kill_engine_entry = {
	.name = "kill-engine",
	.alias = NULL,
	.args = "",
	.min_args = 0,
	.max_args = 0,
	.usage = "",
	.exec = cmd_kill_engine_exec,
	.needs_engine = 0
};

static enum cmd_retval
cmd_kill_engine_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct client_conn *c;
	struct msg m;
	char err[CMD_ERROR_SIZE];
	pid_t pid;
	int n;

	(void)argc;
	(void)argv;
	if (cmd_connect(ctx, CLIENT_ANY_VERSION) == -1) {
		if (errno != ESRCH)
			return CMD_RETURN_ERROR;
		fprintf(stderr, "vmtop: %s\n", ctx->error);
		ctx->error[0] = '\0';
		return CMD_RETURN_NORMAL;
	}
	c = ctx->conn;
	pid = c->engine_pid;
	if (c->version == PROTOCOL_VERSION) {
		if (cmd_send(ctx, MSG_CMD_KILL, NULL, 0) == -1 ||
		    cmd_recv(ctx, &m) == -1 ||
		    cmd_ok_reply(ctx, &m) != CMD_RETURN_NORMAL)
			return CMD_RETURN_ERROR;
	} else {
		if (pid <= 0)
			return cmd_error(ctx, "the engine on %s speaks another "
			    "protocol and its pid is unknown", c->socket);
		if (kill(pid, SIGTERM) == -1)
			return cmd_error(ctx, "cannot stop the engine (pid "
			    "%ld): %s", (long)pid, strerror(errno));
	}

	/* The engine hangs up; anything it still sends is moot. */
	while ((n = client_recv(c, &m, err, sizeof err)) == 1)
		msg_clear(&m);
	client_close(c);
	ctx->conn = NULL;
	if (n == -1)
		return cmd_error(ctx, "%s", err);
	client_wait_exit(pid);
	return CMD_RETURN_NORMAL;
}
