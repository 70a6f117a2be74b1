/*
 * list-keys [-N]: the live key bindings, as bind commands that a keys
 * file accepts, or with -N as the help table: key, what it does, command.
 * The dashboard's ? is `list-keys -N`, so its help is never out of date.
 * Outside the dashboard the bindings are loaded first (-k and the keys
 * file apply), so `vmtop -k vi -c list-keys` shows what vi.keys gives.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

static enum cmd_retval	cmd_list_keys_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_list_keys_entry = {
	.name = "list-keys",
	.alias = "lsk",
	.args = "N",
	.min_args = 0,
	.max_args = 0,
	.usage = "[-N]",
	.exec = cmd_list_keys_exec,
	.needs_engine = 0
};

static enum cmd_retval
cmd_list_keys_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	const struct key_binding *kb;
	char name[32], err[CMD_ERROR_SIZE], *q;
	size_t n, i;

	(void)argc;
	(void)argv;
	if (!keys_loaded() && keys_load(ctx, ctx->keymap, err,
	    sizeof err) > 0)
		fprintf(stderr, "vmtop: %s\n", err);
	kb = keys_list(&n);
	for (i = 0; i < n; i++) {
		keys_to_string(kb[i].key, name, sizeof name);
		if (cmd_flag(ctx, 'N')) {
			fprintf(ctx->out, "%-10s %-42s %s\n", name,
			    kb[i].note != NULL ? kb[i].note : "", kb[i].cmd);
			continue;
		}
		fputs("bind ", ctx->out);
		if (kb[i].note != NULL) {
			q = split_quote(kb[i].note);
			fprintf(ctx->out, "-N %s ", q);
			free(q);
		}
		q = split_quote(name);
		fprintf(ctx->out, "%s ", q);
		free(q);
		/* Text with ';' goes as one operand, as it was given. */
		if (strchr(kb[i].cmd, ';') != NULL) {
			q = split_quote(kb[i].cmd);
			fprintf(ctx->out, "%s\n", q);
			free(q);
		} else
			fprintf(ctx->out, "%s\n", kb[i].cmd);
	}
	if (cmd_flag(ctx, 'N') && ctx->dash != NULL)
		fprintf(ctx->out, "\nIn this pane: Up, Down, PageUp, PageDown, "
		    "Home, End scroll; q, Escape or Enter close it.\n"
		    "At a y/n question any key but y cancels. Keys are "
		    "changed with bind and unbind (see vmtop(1)).\n");
	return CMD_RETURN_NORMAL;
}
