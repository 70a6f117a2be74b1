/* reload: have the engine read its config again. */
#include "tui.h"

static enum cmd_retval	cmd_reload_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_reload_entry = {
	.name = "reload",
	.alias = NULL,
	.args = "",
	.min_args = 0,
	.max_args = 0,
	.usage = "",
	.exec = cmd_reload_exec,
	.needs_engine = 1
};

static enum cmd_retval
cmd_reload_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cmd_simple(ctx, MSG_CMD_RELOAD, NULL, 0);
}
