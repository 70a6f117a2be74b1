/*
 * sort [-n|-p] [-r] [COLUMN]: sort the dashboard's table by a column
 * (id, name, state, vcpus, cpu, mem, disk, net, uptime, owner, tty), by
 * the next (-n) or previous (-p) one, and -r reverses the order. Sizes
 * and rates sort largest first, as in top.
 */
#include "tui.h"

static enum cmd_retval	cmd_sort_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_sort_entry = {
	.name = "sort",
	.alias = NULL,
	.args = "npr",
	.min_args = 0,
	.max_args = 1,
	.usage = "[-n|-p] [-r] [COLUMN]",
	.exec = cmd_sort_exec,
	.needs_engine = 0,
	.flags = CMD_DASHBOARD
};

static enum cmd_retval
cmd_sort_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct dashboard_table *t = &ctx->dash->table;
	int col = t->sort_col;

	if (argc == 1 && (col = dashboard_table_column(argv[0])) == -1)
		return cmd_error(ctx, "sort: no column %s (id, name, state, "
		    "vcpus, cpu, mem, disk, net, uptime, owner, tty)",
		    argv[0]);
	if (cmd_flag(ctx, 'n'))
		col = (col + 1) % TUI_COL_COUNT;
	if (cmd_flag(ctx, 'p'))
		col = (col + TUI_COL_COUNT - 1) % TUI_COL_COUNT;
	if (argc == 0 && !cmd_flag(ctx, 'n') && !cmd_flag(ctx, 'p') &&
	    !cmd_flag(ctx, 'r'))
		return cmd_usage(ctx);
	t->sort_col = col;
	if (cmd_flag(ctx, 'r'))
		t->sort_reverse = !t->sort_reverse;
	dashboard_table_view(t);
	dashboard_message(ctx->dash, 0, "sorted by %s%s",
	    dashboard_table_column_name(col), t->sort_reverse ? ", reversed" : "");
	dashboard_dirty(ctx->dash);
	return CMD_RETURN_NORMAL;
}
