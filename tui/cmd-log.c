/* log verbose|brief: turn the engine's debug logging on or off. */
#include <string.h>

#include "tui.h"

static enum cmd_retval	cmd_log_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_log_entry = {
	.name = "log",
	.alias = NULL,
	.args = "",
	.min_args = 1,
	.max_args = 1,
	.usage = "verbose|brief",
	.exec = cmd_log_exec,
	.needs_engine = 1
};

static enum cmd_retval
cmd_log_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct proto_log pl;

	(void)argc;
	memset(&pl, 0, sizeof pl);
	if (strcmp(argv[0], "verbose") == 0)
		pl.verbose = 1;
	else if (strcmp(argv[0], "brief") != 0)
		return cmd_usage(ctx);
	return cmd_simple(ctx, MSG_CMD_LOG, &pl, sizeof pl);
}
