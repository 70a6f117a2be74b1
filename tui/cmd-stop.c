/*
 * stop NAME [-f] [-w] | stop -a [-f] [-w]: press a VM's power button, or
 * with -f end its runner at once; -w answers once the VM has stopped; -a
 * stops every VM the user may act on.
 */
#include <string.h>

#include "tui.h"

static enum cmd_retval	cmd_stop_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_stop_entry = {
	.name = "stop",
	.alias = NULL,
	.args = "afw",
	.min_args = 0,
	.max_args = 1,
	.usage = "NAME [-f] [-w] | stop -a [-f] [-w]",
	.exec = cmd_stop_exec,
	.needs_engine = 1
};

/*
 * The answer: at once, or with -w or -f once the VM has stopped. Sent
 * again to a new engine, a stop of a VM that has stopped meanwhile is
 * refused: it is done all the same.
 */
static enum cmd_retval
cmd_stop_done(struct cmd_ctx *ctx, struct msg *m)
{
	int waited = cmd_flag(ctx, 'w') || cmd_flag(ctx, 'f');

	if (ctx->argc == 1)
		cmd_retry_done(ctx, m, ctx->argv[0], (1U << VM_STOPPED) |
		    (waited ? 0 : 1U << VM_STOPPING));

	return cmd_ok_result(ctx, m, waited ? "%s stopped" : NULL,
	    ctx->argc == 0 ? "every VM" : ctx->argv[0]);
}

static enum cmd_retval
cmd_stop_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct proto_stop ps;
	struct proto_name pn;

	memset(&ps, 0, sizeof ps);
	if (cmd_flag(ctx, 'a')) {
		if (argc != 0)
			return cmd_usage(ctx);
		ps.flags |= STOP_ALL;
	} else {
		if (argc != 1)
			return cmd_usage(ctx);
		if (cmd_fill_name(ctx, argv[0], &pn) == -1)
			return CMD_RETURN_ERROR;
		memcpy(ps.name, pn.name, sizeof ps.name);
	}
	if (cmd_flag(ctx, 'f'))
		ps.flags |= STOP_FORCE;
	if (cmd_flag(ctx, 'w'))
		ps.flags |= STOP_WAIT;
	if (ps.flags & (STOP_WAIT | STOP_FORCE))
		ctx->req_retries = CMD_RETRY_TRIES;
	return cmd_request(ctx, MSG_CMD_STOP, &ps, sizeof ps, cmd_stop_done);
}
