/*
 * pause NAME and unpause NAME: freeze a VM's vCPUs, and let them run
 * again. pause -t NAME toggles: it unpauses a paused VM.
 */
#include "tui.h"

static enum cmd_retval	cmd_pause_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_pause_entry = {
	.name = "pause",
	.alias = NULL,
	.args = "t",
	.min_args = 1,
	.max_args = 1,
	.usage = "[-t] NAME",
	.exec = cmd_pause_exec,
	.needs_engine = 1
};

const struct cmd_entry cmd_unpause_entry = {
	.name = "unpause",
	.alias = NULL,
	.args = "",
	.min_args = 1,
	.max_args = 1,
	.usage = "NAME",
	.exec = cmd_pause_exec,
	.needs_engine = 1
};

static enum cmd_retval
cmd_pause_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct proto_vm_info vi;
	struct proto_name pn;
	uint32_t type;

	(void)argc;
	if (ctx->entry == &cmd_unpause_entry)
		type = MSG_CMD_UNPAUSE;
	else
		type = MSG_CMD_PAUSE;
	if (cmd_flag(ctx, 't')) {
		if (cmd_list_one(ctx, argv[0], &vi) == -1)
			return CMD_RETURN_ERROR;
		if (vi.state == VM_PAUSED)
			type = MSG_CMD_UNPAUSE;
	}
	if (cmd_fill_name(ctx, argv[0], &pn) == -1)
		return CMD_RETURN_ERROR;
	return cmd_simple(ctx, type, &pn, sizeof pn);
}
