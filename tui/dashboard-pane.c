/*
 * Text panes over the table: the details of a VM (show), the help
 * (list-keys -N) and the output of any command run from the dashboard.
 * The text is cleaned for the terminal and scrolls with the usual keys.
 */
#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"
#include "xmalloc.h"

/* A pane titled title holding len bytes of text, cleaned, tabs expanded. */
struct dashboard_pane *
dashboard_pane_new(const char *title, const char *text, size_t len)
{
	struct dashboard_pane *p;
	const char *s = text, *end = text + len, *nl;
	char *line;
	size_t i, o, n;

	p = xcalloc(1, sizeof *p);
	p->title = xstrdup(title);
	format_clean(p->title);
	while (s < end) {
		if ((nl = memchr(s, '\n', end - s)) == NULL)
			nl = end;
		n = nl - s;
		line = xmalloc(n * 8 + 1);
		for (i = o = 0; i < n; i++) {
			if (s[i] == '\t') {
				do
					line[o++] = ' ';
				while (o % 8 != 0);
			} else if (s[i] == '\r')
				continue;
			else if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
				line[o++] = '?';
			else
				line[o++] = s[i];
		}
		line[o] = '\0';
		p->lines = xreallocarray(p->lines, p->nlines + 1,
		    sizeof *p->lines);
		p->lines[p->nlines++] = line;
		s = nl + 1;
	}
	return p;
}

void
dashboard_pane_free(struct dashboard_pane *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nlines; i++)
		free(p->lines[i]);
	free(p->lines);
	free(p->title);
	free(p);
}

/* Draw the pane in height lines from y: its title, then its text. */
void
dashboard_pane_draw(struct dashboard *dash, int y, int height)
{
	struct dashboard_pane *p = dash->pane;
	size_t i;
	int rows = height - 1;

	if (height < 1)
		return;
	if (rows > 0 && p->nlines > (size_t)rows && p->top > p->nlines - rows)
		p->top = p->nlines - rows;
	if (rows > 0 && p->nlines <= (size_t)rows)
		p->top = 0;
	attron(dashboard_attr(dash, TUI_ATTR_PANE_TITLE));
	mvhline(y, 0, ' ', COLS);
	mvprintw(y, 0, "%.*s", COLS, p->title);
	if (p->nlines > (size_t)rows && COLS > 40)
		mvprintw(y, COLS - 22, "%5zu-%zu of %zu lines", p->top + 1,
		    p->top + rows < p->nlines ? p->top + rows : p->nlines,
		    p->nlines);
	attroff(dashboard_attr(dash, TUI_ATTR_PANE_TITLE));
	for (i = 0; (int)i < rows && p->top + i < p->nlines; i++)
		mvprintw(y + 1 + i, 0, "%.*s", COLS, p->lines[p->top + i]);
}

/* Handle a key in the pane: 1 if it was the pane's, 0 if not. */
int
dashboard_pane_key(struct dashboard *dash, int key)
{
	struct dashboard_pane *p = dash->pane;
	size_t page = dashboard_page_rows();

	switch (key) {
	case KEYC_UP:
	case 'k':
		if (p->top > 0)
			p->top--;
		break;
	case KEYC_DOWN:
	case 'j':
		if (p->top + 1 < p->nlines)
			p->top++;
		break;
	case KEYC_PPAGE:
		p->top = p->top > page ? p->top - page : 0;
		break;
	case KEYC_NPAGE:
	case KEYC_SPACE:
		p->top += page;
		if (p->top >= p->nlines)
			p->top = p->nlines > 0 ? p->nlines - 1 : 0;
		break;
	case KEYC_HOME:
		p->top = 0;
		break;
	case KEYC_END:
		p->top = p->nlines > page ? p->nlines - page : 0;
		break;
	case 'q':
	case 'i':
	case KEYC_ESCAPE:
	case KEYC_ENTER:
		dashboard_pane_free(p);
		dash->pane = NULL;
		break;
	default:
		return 0;
	}
	dashboard_dirty(dash);
	return 1;
}
