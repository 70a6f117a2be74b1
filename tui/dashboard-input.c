/*
 * The dashboard's input: keys from the terminal through the binding
 * table, or to the y/n question, the filter line, a pane or the : prompt
 * when one is open; and command text run through the command queue with
 * %% as the selected VM, its output opening a pane and its error going to
 * the message line.
 */
#include <curses.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "tui.h"
#include "xmalloc.h"

/* Wake-ups without a key in a row that mean the terminal is gone. */
#define DASHBOARD_INPUT_EMPTY	100

/* Join argv into text for a pane's title. */
static char *
dashboard_input_join(int argc, char **argv)
{
	char *text = xstrdup(""), *q, *next;
	int i;

	for (i = 0; i < argc; i++) {
		q = split_quote(argv[i]);
		xasprintf(&next, "%s%s%s", text, i == 0 ? "" : " ", q);
		free(q);
		free(text);
		text = next;
	}
	return text;
}

/*
 * Before each command of a list: its words with %% as the selected VM,
 * the selection the last command left. NULL ends the list.
 */
static char **
dashboard_input_prepare(struct cmd_queue_item *item, int argc, char **argv,
    void *arg)
{
	struct dashboard *dash = arg;
	const struct cmd_entry *e;
	const struct tui_vm *vm;
	char **words, err[CMD_ERROR_SIZE], name[VM_NAME_SIZE];
	const char *sel = NULL;
	int i;

	(void)item;
	if (dash->quit)
		return NULL;
	if ((vm = dashboard_selected(dash)) != NULL) {
		memcpy(name, vm->info.name, sizeof name);
		sel = name;
	}
	/* bind keeps its %% for when the key is pressed. */
	e = cmd_find(argv[0], err, sizeof err);
	if (e != NULL && (e->flags & CMD_KEEP_PERCENT))
		sel = "%%";
	words = xcalloc(argc + 1, sizeof *words);
	for (i = 0; i < argc; i++) {
		if (strstr(argv[i], "%%") != NULL && sel == NULL) {
			dashboard_message(dash, 1, "no VM is selected");
			split_free_words(i, words);
			return NULL;
		}
		words[i] = keys_expand(argv[i], sel != NULL ? sel : "");
	}
	return words;
}

static void
dashboard_input_waiting(struct cmd_queue_item *item, void *arg)
{
	(void)item;
	dashboard_dirty(arg);
}

/*
 * After each command: its output opens a pane; its error, or what a
 * command that waited did, goes to the message line.
 */
static void
dashboard_input_done(struct cmd_queue_item *item, enum cmd_retval rv,
    void *arg)
{
	struct dashboard *dash = arg;
	char *title;

	if (item->outlen > 0) {
		title = dashboard_input_join(item->argc, item->argv);
		dashboard_pane_free(dash->pane);
		dash->pane = dashboard_pane_new(title, item->out, item->outlen);
		free(title);
	}
	if (rv != CMD_RETURN_NORMAL)
		dashboard_message(dash, 1, "%s", item->ctx.error);
	else if (item->ctx.result[0] != '\0')
		dashboard_message(dash, 0, "%s", item->ctx.result);
	if (dash->quit)
		event_base_loopbreak(dash->base);
	dashboard_dirty(dash);
}

const struct cmd_queue_hooks dashboard_input_hooks = {
	.prepare = dashboard_input_prepare,
	.waiting = dashboard_input_waiting,
	.done = dashboard_input_done
};

/*
 * Queue command text (a binding, the prompt's line) and run it up to a
 * command that waits; returns 0, or -1 if it does not split.
 */
int
dashboard_input_run(struct dashboard *dash, const char *text)
{
	char err[256];

	if (cmd_queue_append(dash->queue, text, err, sizeof err) == -1) {
		dashboard_message(dash, 1, "%s", err);
		return -1;
	}
	if (dash->quit)
		event_base_loopbreak(dash->base);
	return 0;
}

/* Ask question on the message line; y runs cmd (command text). */
void
dashboard_input_confirm(struct dashboard *dash, const char *question,
    const char *cmd)
{
	free(dash->confirm_prompt);
	free(dash->confirm_cmd);
	dash->confirm_prompt = xstrdup(question);
	format_clean(dash->confirm_prompt);
	dash->confirm_cmd = xstrdup(cmd);
	dashboard_dirty(dash);
}

void
dashboard_input_filter(struct dashboard *dash)
{
	memcpy(dash->filter_saved, dash->table.filter,
	    sizeof dash->filter_saved);
	dash->filtering = 1;
	dashboard_dirty(dash);
}

/* A key on the filter line: it filters as it is typed. */
static void
dashboard_input_filter_key(struct dashboard *dash, int key)
{
	struct dashboard_table *t = &dash->table;
	char buf[16];
	size_t len = strlen(t->filter);

	switch (key) {
	case KEYC_ENTER:
		dash->filtering = 0;
		break;
	case KEYC_ESCAPE:
	case 'C' & 0x1f:
	case 'G' & 0x1f:
		memcpy(t->filter, dash->filter_saved, sizeof t->filter);
		dash->filtering = 0;
		break;
	case KEYC_BSPACE:
		while (len > 0 && ((unsigned char)t->filter[len - 1] & 0xc0) ==
		    0x80)
			len--;
		if (len > 0)
			t->filter[len - 1] = '\0';
		break;
	case 'U' & 0x1f:
		t->filter[0] = '\0';
		break;
	default:
		if (key == KEYC_SPACE)
			key = ' ';
		if (key < 32 || key >= KEYC_BASE)
			return;
		keys_to_string(key, buf, sizeof buf);
		if (len + strlen(buf) < sizeof t->filter)
			strcat(t->filter, buf);
		break;
	}
	dashboard_table_view(t);
	dashboard_dirty(dash);
}

/* Handle one key that is not the prompt's. */
static void
dashboard_input_key(struct dashboard *dash, int key)
{
	const struct key_binding *kb;
	char name[32], *cmd;

	if (key == KEYC_RESIZE) {
		dashboard_dirty(dash);
		return;
	}
	dash->message[0] = '\0';
	if (dash->confirm_prompt != NULL) {
		cmd = dash->confirm_cmd;
		free(dash->confirm_prompt);
		dash->confirm_prompt = NULL;
		dash->confirm_cmd = NULL;
		if (key == 'y' || key == 'Y')
			dashboard_input_run(dash, cmd);
		else
			dashboard_message(dash, 0, "cancelled");
		free(cmd);
		dashboard_dirty(dash);
		return;
	}
	if (dash->filtering) {
		dashboard_input_filter_key(dash, key);
		return;
	}
	if (dash->pane != NULL && dashboard_pane_key(dash, key))
		return;
	if ((kb = keys_find(key)) == NULL) {
		keys_to_string(key, name, sizeof name);
		if (dash->pane == NULL)
			dashboard_message(dash, 0, "%s is not bound to "
			    "anything (? shows the keys)", name);
		dashboard_dirty(dash);
		return;
	}
	cmd = xstrdup(kb->cmd);		/* it may unbind itself */
	dashboard_input_run(dash, cmd);
	free(cmd);
	dashboard_dirty(dash);
}

void
dashboard_input_cb(int fd, short events, void *arg)
{
	static int empty;
	struct dashboard *dash = arg;
	wint_t wch, next;
	int rv, key, got = 0;

	(void)fd;
	(void)events;
	if (dash->prompt != NULL) {
		if (dashboard_prompt_input(dash->prompt) != 0) {
			dashboard_prompt_close(dash->prompt);
			dash->prompt = NULL;
			clearok(curscr, TRUE);
			dashboard_dirty(dash);
		}
		if (dash->quit)
			event_base_loopbreak(dash->base);
		return;
	}
	while (!dash->quit && dash->prompt == NULL &&
	    (rv = wget_wch(stdscr, &wch)) != ERR) {
		got = 1;
		key = keys_from_curses(rv, wch);
		if (key == KEYC_ESCAPE && (rv = wget_wch(stdscr, &next)) !=
		    ERR) {
			key = keys_from_curses(rv, next);
			if (key != KEYC_NONE && key != KEYC_ESCAPE &&
			    key != KEYC_RESIZE)
				key |= KEYC_META;
		}
		if (key != KEYC_NONE)
			dashboard_input_key(dash, key);
	}
	/* Readable with nothing to read, again and again: the end of input. */
	if (got)
		empty = 0;
	else if (++empty >= DASHBOARD_INPUT_EMPTY)
		dash->quit = 1;
	if (dash->quit)
		event_base_loopbreak(dash->base);
}
