/*
 * confirm-before [-p PROMPT] COMMAND: ask a y/n question on the message
 * line and run COMMAND (command text) only on y. Keys that lose guest
 * state are bound through it, so that a single key never destroys.
 */
#include <stdlib.h>

#include "tui.h"
#include "xmalloc.h"

static enum cmd_retval	cmd_confirm_before_exec(struct cmd_ctx *, int,
			    char **);

const struct cmd_entry cmd_confirm_before_entry = {
	.name = "confirm-before",
	.alias = "confirm",
	.args = "p:",
	.min_args = 1,
	.max_args = 1,
	.usage = "[-p PROMPT] COMMAND",
	.exec = cmd_confirm_before_exec,
	.needs_engine = 0,
	.flags = CMD_DASHBOARD
};

static enum cmd_retval
cmd_confirm_before_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	const char *prompt;
	char *text = NULL;

	(void)argc;
	if ((prompt = cmd_value(ctx, 'p')) == NULL) {
		xasprintf(&text, "Run \"%s\"? (y/n)", argv[0]);
		prompt = text;
	}
	dashboard_input_confirm(ctx->dash, prompt, argv[0]);
	free(text);
	return CMD_RETURN_NORMAL;
}
