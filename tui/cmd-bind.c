/*
 * bind [-N NOTE] KEY COMMAND [ARGUMENTS...] and unbind [-a] [KEY]: change
 * the dashboard's key bindings, from a keymap, the user's keys file, the
 * : prompt or -c. The command is kept as text: one operand as it is (it
 * may hold several commands split by ';'), more operands quoted so that
 * the splitter gives the same words back, with a ';' word left bare to
 * separate commands. %% in the text stands for the selected VM.
 */
#include <stdlib.h>
#include <string.h>

#include "tui.h"
#include "xmalloc.h"

static enum cmd_retval	cmd_bind_exec(struct cmd_ctx *, int, char **);
static enum cmd_retval	cmd_unbind_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_bind_entry = {
	.name = "bind",
	.alias = "bind-key",
	.args = "N:",
	.min_args = 2,
	.max_args = -1,
	.usage = "[-N NOTE] KEY COMMAND [ARGUMENTS...]",
	.exec = cmd_bind_exec,
	.needs_engine = 0,
	.flags = CMD_ARGS_FIRST | CMD_KEEP_PERCENT
};

const struct cmd_entry cmd_unbind_entry = {
	.name = "unbind",
	.alias = "unbind-key",
	.args = "a",
	.min_args = 0,
	.max_args = 1,
	.usage = "[-a] [KEY]",
	.exec = cmd_unbind_exec,
	.needs_engine = 0
};

/* Join words into command text that splits back into them. */
static char *
cmd_bind_join(int argc, char **argv)
{
	char *text = NULL, *q, *next;
	int i;

	if (argc == 1)
		return xstrdup(argv[0]);
	for (i = 0; i < argc; i++) {
		q = strcmp(argv[i], ";") == 0 ? xstrdup(";") :
		    split_quote(argv[i]);
		if (text == NULL)
			text = q;
		else {
			xasprintf(&next, "%s %s", text, q);
			free(text);
			free(q);
			text = next;
		}
	}
	return text;
}

/* Check that every command in text exists; returns 0 or -1 with the error. */
static int
cmd_bind_check(struct cmd_ctx *ctx, const char *text)
{
	struct split_list list;
	char err[CMD_ERROR_SIZE];
	size_t i;

	if (split_commands(text, &list, err, sizeof err) == -1) {
		cmd_error(ctx, "bind: %s", err);
		return -1;
	}
	if (list.n == 0) {
		split_free(&list);
		cmd_error(ctx, "bind: no command given");
		return -1;
	}
	for (i = 0; i < list.n; i++) {
		if (cmd_find(list.cmds[i].argv[0], err, sizeof err) == NULL) {
			split_free(&list);
			cmd_error(ctx, "bind: %s", err);
			return -1;
		}
	}
	split_free(&list);
	return 0;
}

static enum cmd_retval
cmd_bind_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	char *text;
	int key;

	if ((key = keys_from_string(argv[0])) == KEYC_NONE)
		return cmd_error(ctx, "bind: unknown key: %s", argv[0]);
	text = cmd_bind_join(argc - 1, argv + 1);
	if (cmd_bind_check(ctx, text) == -1) {
		free(text);
		return CMD_RETURN_ERROR;
	}
	keys_bind(key, text, cmd_value(ctx, 'N'));
	free(text);
	return CMD_RETURN_NORMAL;
}

static enum cmd_retval
cmd_unbind_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	int key;

	if (cmd_flag(ctx, 'a')) {
		if (argc != 0)
			return cmd_usage(ctx);
		keys_unbind_all();
		return CMD_RETURN_NORMAL;
	}
	if (argc != 1)
		return cmd_usage(ctx);
	if ((key = keys_from_string(argv[0])) == KEYC_NONE)
		return cmd_error(ctx, "unbind: unknown key: %s", argv[0]);
	if (keys_unbind(key) == -1)
		return cmd_error(ctx, "unbind: %s is not bound", argv[0]);
	return CMD_RETURN_NORMAL;
}
