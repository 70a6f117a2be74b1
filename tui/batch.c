/*
 * Batch mode (`vmtop -c 'start web; wait web'`): split the text into
 * commands and run them in order through the command table, stopping at
 * the first that fails. The first command that talks to the engine
 * connects (starting the engine if need be); the rest reuse the connection.
 */
#include <stdio.h>

#include "tui.h"

/* Run text; returns the exit status: 0 if every command succeeded, or 1. */
int
batch_run(struct cmd_ctx *ctx, const char *text)
{
	struct split_list list;
	char err[256];
	size_t i;
	int status = 0;

	if (split_commands(text, &list, err, sizeof err) == -1) {
		fprintf(stderr, "vmtop: %s\n", err);
		return 1;
	}
	for (i = 0; i < list.n; i++) {
		if (cmd_run(ctx, list.cmds[i].argc, list.cmds[i].argv) !=
		    CMD_RETURN_NORMAL) {
			fprintf(stderr, "vmtop: %s\n", ctx->error);
			status = 1;
			break;
		}
	}
	split_free(&list);
	return status;
}
