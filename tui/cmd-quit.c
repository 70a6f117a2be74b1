/*
 * quit: leave the dashboard; the engine and its VMs keep running. redraw:
 * draw the whole screen again.
 */
#include <curses.h>

#include "tui.h"

static enum cmd_retval	cmd_quit_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_quit_entry = {
	.name = "quit",
	.alias = "detach",
	.args = "",
	.min_args = 0,
	.max_args = 0,
	.usage = "",
	.exec = cmd_quit_exec,
	.needs_engine = 0,
	.flags = CMD_DASHBOARD
};

const struct cmd_entry cmd_redraw_entry = {
	.name = "redraw",
	.alias = "refresh",
	.args = "",
	.min_args = 0,
	.max_args = 0,
	.usage = "",
	.exec = cmd_quit_exec,
	.needs_engine = 0,
	.flags = CMD_DASHBOARD
};

static enum cmd_retval
cmd_quit_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (ctx->entry == &cmd_quit_entry)
		ctx->dash->quit = 1;
	else {
		clearok(curscr, TRUE);
		dashboard_dirty(ctx->dash);
	}
	return CMD_RETURN_NORMAL;
}
