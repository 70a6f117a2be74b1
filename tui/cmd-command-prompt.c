/*
 * command-prompt: open the : prompt, where any command can be typed, with
 * history and Tab completion of command and VM names.
 */
#include "tui.h"

static enum cmd_retval	cmd_command_prompt_exec(struct cmd_ctx *, int,
			    char **);

const struct cmd_entry cmd_command_prompt_entry = {
	.name = "command-prompt",
	.alias = NULL,
	.args = "",
	.min_args = 0,
	.max_args = 0,
	.usage = "",
	.exec = cmd_command_prompt_exec,
	.needs_engine = 0,
	.flags = CMD_DASHBOARD
};

static enum cmd_retval
cmd_command_prompt_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct dashboard *dash = ctx->dash;

	(void)argc;
	(void)argv;
	if (dash->prompt == NULL)
		dash->prompt = dashboard_prompt_open(dash);
	return CMD_RETURN_NORMAL;
}
