/*
 * restart NAME [-f]: stop a VM (the power button, or at once with -f) and
 * start it again once it has stopped; a stopped VM is just started. The
 * command waits twice, for the stop and for the start, and the dashboard
 * stays live meanwhile.
 */
#include <string.h>

#include "tui.h"

static enum cmd_retval	cmd_restart_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_restart_entry = {
	.name = "restart",
	.alias = "reboot",
	.args = "f",
	.min_args = 1,
	.max_args = 1,
	.usage = "NAME [-f]",
	.exec = cmd_restart_exec,
	.needs_engine = 1
};

static enum cmd_retval
cmd_restart_started(struct cmd_ctx *ctx, struct msg *m)
{
	cmd_retry_done(ctx, m, ctx->argv[0], CMD_STATES_UP);
	return cmd_ok_result(ctx, m, "restarted %s", ctx->argv[0]);
}

/* Start the VM named on the command line. */
static enum cmd_retval
cmd_restart_start(struct cmd_ctx *ctx)
{
	struct proto_start ps;
	struct proto_name pn;

	if (cmd_fill_name(ctx, ctx->argv[0], &pn) == -1)
		return CMD_RETURN_ERROR;
	memset(&ps, 0, sizeof ps);
	memcpy(ps.name, pn.name, sizeof ps.name);
	ctx->req_retries = CMD_RETRY_TRIES;
	ctx->req_resent = 0;
	return cmd_request(ctx, MSG_CMD_START, &ps, sizeof ps,
	    cmd_restart_started);
}

static enum cmd_retval
cmd_restart_stopped(struct cmd_ctx *ctx, struct msg *m)
{
	cmd_retry_done(ctx, m, ctx->argv[0], 1U << VM_STOPPED);
	if (cmd_ok_reply(ctx, m) != CMD_RETURN_NORMAL)
		return CMD_RETURN_ERROR;
	return cmd_restart_start(ctx);
}

static enum cmd_retval
cmd_restart_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct proto_vm_info vi;
	struct proto_stop st;

	(void)argc;
	if (cmd_list_one(ctx, argv[0], &vi) == -1)
		return CMD_RETURN_ERROR;
	if (vi.state == VM_STOPPED || vi.state == VM_FAILED)
		return cmd_restart_start(ctx);
	memset(&st, 0, sizeof st);
	memcpy(st.name, vi.name, sizeof st.name);
	st.flags |= STOP_WAIT;
	if (cmd_flag(ctx, 'f'))
		st.flags |= STOP_FORCE;
	ctx->req_retries = CMD_RETRY_TRIES;
	return cmd_request(ctx, MSG_CMD_STOP, &st, sizeof st,
	    cmd_restart_stopped);
}
