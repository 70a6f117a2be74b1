/*
 * The dashboard's : prompt, on libedit in unbuffered mode: the event loop
 * hands it one key at a time when the terminal is readable, so updates
 * keep arriving while a command is typed. It edits on the bottom line,
 * where curses leaves the cursor; the screen is redrawn when it closes.
 * Tab completes command names, then VM names (and sort's columns); the
 * history is kept in the state folder across runs. C-c, C-g or Escape
 * twice cancel.
 */
#include <sys/stat.h>

#include <curses.h>
#include <histedit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"
#include "paths.h"
#include "xmalloc.h"

#define TUI_PROMPT_HISTORY	500

struct dashboard_prompt {
	struct dashboard	*dash;
	EditLine		*el;
	int			 done;
};

static History	*dashboard_prompt_history;
static char	*dashboard_prompt_histfile;
static EditLine	*dashboard_prompt_el;

static const char *
dashboard_prompt_text(EditLine *el)
{
	(void)el;
	return ":";
}

static unsigned char
dashboard_prompt_cancel(EditLine *el, int ch)
{
	struct dashboard_prompt *p;

	(void)ch;
	el_get(el, EL_CLIENTDATA, &p);
	p->done = 1;
	return CC_NEWLINE;
}

/* C-d: cancel on an empty line, else delete the character at the cursor. */
static unsigned char
dashboard_prompt_delete(EditLine *el, int ch)
{
	const LineInfo *li = el_line(el);

	if (li->lastchar == li->buffer)
		return dashboard_prompt_cancel(el, ch);
	if (li->cursor == li->lastchar)
		return CC_ERROR;
	el_cursor(el, 1);
	el_deletestr(el, 1);
	return CC_REFRESH;
}

/* Add the names that start with word to a list. */
static void
dashboard_prompt_add(const char ***list, size_t *n, const char *name,
    const char *word, size_t len)
{
	size_t i;

	if (name == NULL || strncmp(name, word, len) != 0)
		return;
	for (i = 0; i < *n; i++) {
		if (strcmp((*list)[i], name) == 0)
			return;
	}
	*list = xreallocarray(*list, *n + 1, sizeof **list);
	(*list)[(*n)++] = name;
}

/* Show the candidates on the line above the prompt, keeping the cursor. */
static void
dashboard_prompt_show(const char **list, size_t n)
{
	char line[512];
	size_t i, off = 0;
	int width = COLS;

	line[0] = '\0';
	for (i = 0; i < n && off + strlen(list[i]) + 2 < sizeof line &&
	    (int)(off + strlen(list[i]) + 1) < width; i++)
		off += snprintf(line + off, sizeof line - off, "%s%s",
		    i == 0 ? "" : " ", list[i]);
	printf("\0337\033[%d;1H\033[2K%s\0338", LINES - 1, line);
	fflush(stdout);
}

/* Tab: complete the word before the cursor. */
static unsigned char
dashboard_prompt_complete(EditLine *el, int ch)
{
	const struct cmd_entry **e;
	const LineInfo *li = el_line(el);
	struct dashboard_prompt *p;
	struct dashboard_table *t;
	const char *start, *first, **list = NULL;
	char word[256], cmd[64], *ins;
	size_t len, n = 0, i, common;
	int c;

	(void)ch;
	el_get(el, EL_CLIENTDATA, &p);
	t = &p->dash->table;
	for (start = li->cursor; start > li->buffer && start[-1] != ' ' &&
	    start[-1] != ';'; start--)
		;
	len = li->cursor - start;
	if (len >= sizeof word)
		return CC_REFRESH_BEEP;
	memcpy(word, start, len);
	word[len] = '\0';
	/* The first word of the command decides what follows. */
	for (first = start; first > li->buffer && first[-1] != ';'; first--)
		;
	while (first < start && *first == ' ')
		first++;
	if (first == start) {
		for (e = cmd_table; *e != NULL; e++) {
			dashboard_prompt_add(&list, &n, (*e)->name, word, len);
			dashboard_prompt_add(&list, &n, (*e)->alias, word, len);
		}
	} else {
		snprintf(cmd, sizeof cmd, "%.*s", (int)strcspn(first, " "),
		    first);
		if (strcmp(cmd, "sort") == 0) {
			for (c = 0; c < TUI_COL_COUNT; c++)
				dashboard_prompt_add(&list, &n,
				    dashboard_table_column_name(c), word, len);
		}
		for (i = 0; i < t->nvms; i++)
			dashboard_prompt_add(&list, &n, t->vms[i].info.name, word,
			    len);
	}
	if (n == 0) {
		free(list);
		return CC_REFRESH_BEEP;
	}
	common = strlen(list[0]);
	for (i = 1; i < n; i++) {
		while (common > len && strncmp(list[0], list[i], common) != 0)
			common--;
	}
	if (n == 1)
		xasprintf(&ins, "%s ", list[0] + len);
	else
		ins = xstrndup(list[0] + len, common - len);
	if (*ins != '\0')
		el_insertstr(el, ins);
	else
		dashboard_prompt_show(list, n);
	free(ins);
	free(list);
	return CC_REFRESH;
}

/* Load the history from the state folder, once per run. */
static void
dashboard_prompt_history_init(void)
{
	HistEvent ev;
	char *dir;

	if (dashboard_prompt_history != NULL)
		return;
	dashboard_prompt_history = history_init();
	history(dashboard_prompt_history, &ev, H_SETSIZE, TUI_PROMPT_HISTORY);
	history(dashboard_prompt_history, &ev, H_SETUNIQUE, 1);
	dir = paths_statedir();
	xasprintf(&dashboard_prompt_histfile, "%s/history", dir);
	free(dir);
	history(dashboard_prompt_history, &ev, H_LOAD, dashboard_prompt_histfile);
}

/* Add a line to the history and save it, with the state folder if need be. */
static void
dashboard_prompt_history_add(const char *line)
{
	HistEvent ev;
	char *dir, *slash;

	history(dashboard_prompt_history, &ev, H_ENTER, line);
	dir = xstrdup(dashboard_prompt_histfile);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		paths_mkdirs(dir, 0700);
	}
	free(dir);
	if (history(dashboard_prompt_history, &ev, H_SAVE, dashboard_prompt_histfile) !=
	    -1)
		chmod(dashboard_prompt_histfile, 0600);
}

/* The line editor, made once: el_end would flush what is typed ahead. */
static EditLine *
dashboard_prompt_editline(void)
{
	EditLine *el;

	if (dashboard_prompt_el != NULL)
		return dashboard_prompt_el;
	el = el_init("vmtop", stdin, stdout, stderr);
	el_set(el, EL_EDITOR, "emacs");
	el_set(el, EL_PROMPT, dashboard_prompt_text);
	el_set(el, EL_HIST, history, dashboard_prompt_history);
	/* Wide names, kept as given: el_set's copies are never freed. */
	el_wset(el, EL_ADDFN, L"vmtop-complete", L"complete a command or VM",
	    dashboard_prompt_complete);
	el_wset(el, EL_ADDFN, L"vmtop-cancel", L"close the prompt",
	    dashboard_prompt_cancel);
	el_wset(el, EL_ADDFN, L"vmtop-delete", L"delete, or close if empty",
	    dashboard_prompt_delete);
	el_source(el, NULL);
	el_set(el, EL_BIND, "^I", "vmtop-complete", NULL);
	el_set(el, EL_BIND, "^C", "vmtop-cancel", NULL);
	el_set(el, EL_BIND, "^G", "vmtop-cancel", NULL);
	el_set(el, EL_BIND, "^D", "vmtop-delete", NULL);
	el_set(el, EL_BIND, "\033\033", "vmtop-cancel", NULL);
	/* C-c cancels the prompt rather than ending the dashboard. */
	el_set(el, EL_SETTY, "-d", "-isig", NULL);
	/* el_init set the terminal up its own way: curses' again. */
	reset_prog_mode();
	dashboard_prompt_el = el;
	return el;
}

/* Open the prompt on the bottom line. */
struct dashboard_prompt *
dashboard_prompt_open(struct dashboard *dash)
{
	struct dashboard_prompt *p;

	dashboard_prompt_history_init();
	p = xcalloc(1, sizeof *p);
	p->dash = dash;
	move(LINES - 1, 0);
	clrtoeol();
	curs_set(1);
	refresh();
	p->el = dashboard_prompt_editline();
	el_set(p->el, EL_CLIENTDATA, p);
	/* A fresh line, the prompt drawn and the terminal in libedit's mode. */
	el_set(p->el, EL_UNBUFFERED, 1);
	return p;
}

/*
 * Feed the prompt the key that is waiting. Return values: 0 while the
 * line is edited, 1 once it is done (the command, if any, has run).
 */
int
dashboard_prompt_input(struct dashboard_prompt *p)
{
	const char *s;
	char *line;
	int n = 0;

	s = el_gets(p->el, &n);
	if (!p->done && n >= 0 && (s == NULL || n == 0 || s[n - 1] != '\n'))
		return 0;
	/* The line is done: libedit's cooked mode, then curses' own. */
	el_set(p->el, EL_UNBUFFERED, 0);
	reset_prog_mode();
	if (p->done || n < 0)
		return 1;
	line = xstrndup(s, n - 1);
	while (n > 1 && (line[n - 2] == ' ' || line[n - 2] == '\t'))
		line[--n - 1] = '\0';
	p->done = 1;
	if (line[strspn(line, " \t")] != '\0') {
		dashboard_prompt_history_add(line);
		/* The prompt is still open: the screen is drawn after. */
		dashboard_input_run(p->dash, line);
	}
	free(line);
	return 1;
}

void
dashboard_prompt_close(struct dashboard_prompt *p)
{
	curs_set(0);
	free(p);
}

/* At the end of the dashboard, before endwin. */
void
dashboard_prompt_free_all(void)
{
	if (dashboard_prompt_el != NULL)
		el_end(dashboard_prompt_el);
	dashboard_prompt_el = NULL;
	if (dashboard_prompt_history != NULL)
		history_end(dashboard_prompt_history);
	dashboard_prompt_history = NULL;
	free(dashboard_prompt_histfile);
	dashboard_prompt_histfile = NULL;
}
