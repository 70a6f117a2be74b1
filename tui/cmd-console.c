/*
 * console [-f] [-r LINES] NAME: attach the terminal to a VM's serial
 * console (console.c), from a shell or from the dashboard, which gives up
 * the screen meanwhile. -r replays LINES of the captured output instead
 * of a screenful (-r 0: none); -f takes over from another attacher.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "console.h"
#include "dashboard.h"

static enum cmd_retval	cmd_console_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_console_entry = {
	.name = "console",
	.alias = "attach",
	.args = "fr:",
	.min_args = 1,
	.max_args = 1,
	.usage = "[-f] [-r LINES] NAME",
	.exec = cmd_console_exec,
	.needs_engine = 1
};

static enum cmd_retval
cmd_console_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	const char *v;
	char note[256], *end;
	long lines;
	int replay = ctx->replay_lines > 0 ? ctx->replay_lines : 0, rv;

	(void)argc;
	if ((v = cmd_value(ctx, 'r')) != NULL) {
		errno = 0;
		lines = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || errno != 0 || lines < 0 ||
		    lines > 1000000)
			return cmd_error(ctx, "console: invalid number of lines "
			    "to replay: %s", v);
		replay = lines == 0 ? -1 : (int)lines;
	}
	note[0] = '\0';
	if (ctx->dash != NULL)
		dashboard_suspend(ctx->dash);
	rv = console_attach(ctx, argv[0], replay, cmd_flag(ctx, 'f'), note,
	    sizeof note);
	if (ctx->dash != NULL) {
		dashboard_resume(ctx->dash);
		if (rv == 0)
			dashboard_message(ctx->dash, 0, "%s", note);
	} else if (rv == 0)
		printf("[%s]\n", note);
	return rv == 0 ? CMD_RETURN_NORMAL : CMD_RETURN_ERROR;
}
