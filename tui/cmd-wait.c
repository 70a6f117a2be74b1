/*
 * wait NAME: wait until the engine says the VM has stopped (the dashboard
 * goes on meanwhile). An engine that goes away meanwhile is asked again
 * once one answers: its VMs are adopted by the next.
 */
#include "tui.h"

static enum cmd_retval	cmd_wait_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_wait_entry = {
	.name = "wait",
	.alias = NULL,
	.args = "",
	.min_args = 1,
	.max_args = 1,
	.usage = "NAME",
	.exec = cmd_wait_exec,
	.needs_engine = 1
};

static enum cmd_retval
cmd_wait_stopped(struct cmd_ctx *ctx, struct msg *m)
{
	return cmd_ok_result(ctx, m, "%s has stopped", ctx->argv[0]);
}

static enum cmd_retval
cmd_wait_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct proto_name pn;

	(void)argc;
	if (cmd_fill_name(ctx, argv[0], &pn) == -1)
		return CMD_RETURN_ERROR;
	ctx->req_retries = CMD_RETRY_TRIES;
	return cmd_request(ctx, MSG_CMD_WAIT, &pn, sizeof pn,
	    cmd_wait_stopped);
}
