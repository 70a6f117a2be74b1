/*
 * filter [TEXT]: show only the VMs whose name, state or owner contains
 * TEXT (ignoring case); filter '' shows them all again. Without TEXT it
 * opens the filter line, which filters as it is typed.
 */
#include <string.h>

#include "tui.h"

static enum cmd_retval	cmd_filter_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_filter_entry = {
	.name = "filter",
	.alias = NULL,
	.args = "",
	.min_args = 0,
	.max_args = 1,
	.usage = "[TEXT]",
	.exec = cmd_filter_exec,
	.needs_engine = 0,
	.flags = CMD_DASHBOARD
};

static enum cmd_retval
cmd_filter_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct dashboard_table *t = &ctx->dash->table;

	if (argc == 0) {
		dashboard_input_filter(ctx->dash);
		return CMD_RETURN_NORMAL;
	}
	if (strlen(argv[0]) >= sizeof t->filter)
		return cmd_error(ctx, "filter: the text is too long (at most "
		    "%zu characters)", sizeof t->filter - 1);
	strcpy(t->filter, argv[0]);
	dashboard_table_view(t);
	dashboard_dirty(ctx->dash);
	return CMD_RETURN_NORMAL;
}
