/*
 * console [-f] [-r LINES] NAME: attach the terminal to a VM's serial
 * console (console/), from a shell or from the dashboard, which gives up
 * the screen meanwhile. -r replays LINES of the captured output instead
 * of a screenful (-r 0: none); -f takes over from another attacher. An
 * engine that goes away meanwhile leaves the attach going: it connects to
 * the next engine and holds the console again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tui.h"
#include "console.h"

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

/* The engine went away while attached: forget the connection. */
static void
cmd_console_lost(void *arg)
{
	struct cmd_ctx *ctx = arg;

	client_close(ctx->conn);
	ctx->conn = NULL;
}

/*
 * Connect to the next engine, starting one as any command does (it adopts
 * the VM first); the attach goes on while it fails.
 */
static int
cmd_console_reconnect(void *arg)
{
	struct cmd_ctx *ctx = arg;

	cmd_console_lost(ctx);
	if (cmd_connect(ctx, CLIENT_START) == -1)
		return -1;
	return ctx->conn->fd;
}

static enum cmd_retval
cmd_console_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct console_opts opts;
	struct proto_vm_info vi;
	enum console_end end;
	const char *v;
	char msg[CMD_ERROR_SIZE], *e;
	long lines;

	(void)argc;
	memset(&opts, 0, sizeof opts);
	opts.replay = ctx->replay_lines > 0 ? ctx->replay_lines : 0;
	if ((v = cmd_value(ctx, 'r')) != NULL) {
		errno = 0;
		lines = strtol(v, &e, 10);
		if (*v == '\0' || *e != '\0' || errno != 0 || lines < 0 ||
		    lines > 1000000)
			return cmd_error(ctx, "console: invalid number of lines "
			    "to replay: %s", v);
		opts.replay = lines == 0 ? -1 : (int)lines;
	}
	if (cmd_list_one(ctx, argv[0], &vi) == -1)
		return CMD_RETURN_ERROR;
	if (vi.tty[0] == '\0' || vi.state == VM_STOPPED ||
	    vi.state == VM_FAILED)
		return cmd_error(ctx, "vm %s is %s: it has no console", vi.name,
		    proto_state_name(vi.state));
	vi.name[sizeof vi.name - 1] = vi.tty[sizeof vi.tty - 1] = '\0';
	opts.name = vi.name;
	opts.tty = vi.tty;
	opts.engine = ctx->conn->fd;
	opts.force = cmd_flag(ctx, 'f');
	opts.in = STDIN_FILENO;
	opts.out = STDOUT_FILENO;
	opts.lost = cmd_console_lost;
	opts.reconnect = cmd_console_reconnect;
	opts.arg = ctx;

	if (ctx->dash != NULL)
		dashboard_suspend(ctx->dash);
	end = console_attach(&opts, msg, sizeof msg);
	if (end == CONSOLE_LOST) {
		client_close(ctx->conn);
		ctx->conn = NULL;
	}
	if (ctx->dash != NULL)
		dashboard_resume(ctx->dash);
	if (end != CONSOLE_DETACHED && end != CONSOLE_HUNGUP &&
	    end != CONSOLE_TAKEN)
		return cmd_error(ctx, "%s", msg);
	if (ctx->dash != NULL)
		dashboard_message(ctx->dash, 0, "%s", msg);
	else
		printf("[%s]\n", msg);
	return CMD_RETURN_NORMAL;
}
