/*
 * cursor up|down|page-up|page-down|top|bottom: move the dashboard's
 * selection.
 */
#include <string.h>

#include "tui.h"

static enum cmd_retval	cmd_cursor_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_cursor_entry = {
	.name = "cursor",
	.alias = NULL,
	.args = "",
	.min_args = 1,
	.max_args = 1,
	.usage = "up|down|page-up|page-down|top|bottom",
	.exec = cmd_cursor_exec,
	.needs_engine = 0,
	.flags = CMD_DASHBOARD
};

static enum cmd_retval
cmd_cursor_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct dashboard *dash = ctx->dash;
	long page = dashboard_page_rows();

	(void)argc;
	if (strcmp(argv[0], "up") == 0)
		dashboard_table_move(&dash->table, -1, 0);
	else if (strcmp(argv[0], "down") == 0)
		dashboard_table_move(&dash->table, 1, 0);
	else if (strcmp(argv[0], "page-up") == 0)
		dashboard_table_move(&dash->table, -page, 0);
	else if (strcmp(argv[0], "page-down") == 0)
		dashboard_table_move(&dash->table, page, 0);
	else if (strcmp(argv[0], "top") == 0)
		dashboard_table_move(&dash->table, -1, 1);
	else if (strcmp(argv[0], "bottom") == 0)
		dashboard_table_move(&dash->table, 1, 1);
	else
		return cmd_usage(ctx);
	dashboard_dirty(dash);
	return CMD_RETURN_NORMAL;
}
