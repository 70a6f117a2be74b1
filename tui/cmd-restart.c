/*
 * restart NAME [-f]: stop a VM (the power button, or at once with -f) and
 * start it again once it has stopped; a stopped VM is just started. The
 * dashboard does not wait: it starts the VM when the engine reports it
 * stopped, so the screen stays live while the guest shuts down.
 */
#include <string.h>

#include "cmd.h"
#include "dashboard.h"

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
cmd_restart_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct proto_vm_info vi;
	struct proto_start ps;
	struct proto_stop st;

	(void)argc;
	if (cmd_list_one(ctx, argv[0], &vi) == -1)
		return CMD_RETURN_ERROR;
	if (vi.state != VM_STOPPED && vi.state != VM_FAILED) {
		memset(&st, 0, sizeof st);
		memcpy(st.name, vi.name, sizeof st.name);
		if (cmd_flag(ctx, 'f'))
			st.flags |= STOP_FORCE;
		if (ctx->dash == NULL)
			st.flags |= STOP_WAIT;
		if (cmd_simple(ctx, MSG_CMD_STOP, &st, sizeof st) !=
		    CMD_RETURN_NORMAL)
			return CMD_RETURN_ERROR;
		if (ctx->dash != NULL) {
			dashboard_engine_restart(ctx->dash, vi.name);
			return CMD_RETURN_NORMAL;
		}
	}
	memset(&ps, 0, sizeof ps);
	memcpy(ps.name, vi.name, sizeof ps.name);
	return cmd_simple(ctx, MSG_CMD_START, &ps, sizeof ps);
}
