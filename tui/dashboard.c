/*
 * The full-screen dashboard: one libevent loop over the terminal
 * (dashboard-input.c), a subscription on which the engine pushes the VMs
 * (dashboard-engine.c; no polling here) and signals; the drawing, the
 * colours and giving the terminal up for the console. Keys run command
 * text through the same commands as -c and the : prompt. Commands use
 * the context's own connection, so their replies never mix with the
 * pushed updates.
 */
#include <sys/ioctl.h>

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "tui.h"
#include "log.h"
#include "msg.h"
#include "xmalloc.h"

static void	dashboard_draw(struct dashboard *);

static int	dashboard_saved_stderr = -1;

/* Show a message (an error if error is set) until the next key. */
void
dashboard_message(struct dashboard *dash, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dash->message, sizeof dash->message, fmt, ap);
	va_end(ap);
	format_clean(dash->message);
	dash->message_error = error;
	dashboard_dirty(dash);
}

/* Ask for a redraw once the events at hand are handled. */
void
dashboard_dirty(struct dashboard *dash)
{
	if (dash->redraw_ev != NULL)
		event_active(dash->redraw_ev, EV_TIMEOUT, 0);
}

static void
dashboard_redraw_cb(int fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	dashboard_draw(arg);
}

/* The rows a page holds: the screen less the header, titles and message. */
int
dashboard_page_rows(void)
{
	int n = LINES - TUI_HEADER_LINES - 2;

	return n > 1 ? n : 1;
}

const struct tui_vm *
dashboard_selected(struct dashboard *dash)
{
	struct dashboard_table *t = &dash->table;

	if (t->nrows == 0)
		dashboard_table_view(t);
	if (t->nrows == 0)
		return NULL;
	return t->rows[t->cursor];
}

/* The curses attributes for what (enum tui_attr), colour or not. */
int
dashboard_attr(struct dashboard *dash, int what)
{
	static const short pairs[TUI_ATTR_COUNT] = {
		[TUI_ATTR_METER] = 1,
		[TUI_ATTR_METER_HIGH] = 2,
		[TUI_ATTR_ERROR] = 2,
		[TUI_ATTR_LABEL] = 3,
		[TUI_ATTR_STATE + VM_RUNNING] = 1,
		[TUI_ATTR_STATE + VM_PAUSED] = 4,
		[TUI_ATTR_STATE + VM_FAILED] = 2,
		[TUI_ATTR_STATE + VM_STARTING] = 3,
		[TUI_ATTR_STATE + VM_STOPPING] = 3,
	};

	switch (what) {
	case TUI_ATTR_TITLES:
	case TUI_ATTR_SELECTED:
	case TUI_ATTR_PANE_TITLE:
		return A_REVERSE;
	case TUI_ATTR_PROMPT:
		return A_BOLD;
	case TUI_ATTR_ERROR:
		return dash->color ? COLOR_PAIR(2) | A_BOLD : A_BOLD;
	case TUI_ATTR_STATE + VM_STOPPED:
		return dash->color ? A_DIM : 0;
	}
	if (what < 0 || what >= TUI_ATTR_COUNT || !dash->color ||
	    pairs[what] == 0)
		return 0;
	return COLOR_PAIR(pairs[what]);
}

/* Start the colours unless -C or NO_COLOR says not to. */
static void
dashboard_colors(struct dashboard *dash)
{
	const char *nc = getenv("NO_COLOR");

	dash->color = 0;
	if (dash->ctx->monochrome || (nc != NULL && *nc != '\0') ||
	    !has_colors() || start_color() == ERR)
		return;
	use_default_colors();
	init_pair(1, COLOR_GREEN, -1);
	init_pair(2, COLOR_RED, -1);
	init_pair(3, COLOR_CYAN, -1);
	init_pair(4, COLOR_YELLOW, -1);
	dash->color = 1;
}

/* The bottom line: a question, the filter, a message or the hints. */
static void
dashboard_draw_status(struct dashboard *dash)
{
	struct dashboard_table *t = &dash->table;
	char right[128], waiting[32] = "";
	size_t n;
	int y = LINES - 1, attr;

	move(y, 0);
	clrtoeol();
	if (dash->confirm_prompt != NULL) {
		attron(dashboard_attr(dash, TUI_ATTR_PROMPT));
		mvprintw(y, 0, "%.*s", COLS - 1, dash->confirm_prompt);
		attroff(dashboard_attr(dash, TUI_ATTR_PROMPT));
		return;
	}
	if (dash->filtering) {
		mvprintw(y, 0, "Filter: %.*s", COLS > 9 ? COLS - 9 : 0,
		    t->filter);
		return;
	}
	if (dash->message[0] != '\0') {
		attr = dashboard_attr(dash, dash->message_error ?
		    TUI_ATTR_ERROR : TUI_ATTR_PROMPT);
		attron(attr);
		mvprintw(y, 0, "%.*s", COLS, dash->message);
		attroff(attr);
		return;
	}
	mvprintw(y, 0, "%.*s", COLS, "q quit  ? help  : command  / filter");
	if ((n = cmd_queue_waiting(dash->queue)) > 0)
		snprintf(waiting, sizeof waiting, "%zu waiting,%s", n,
		    t->filter[0] != '\0' ? " " : "");
	snprintf(right, sizeof right, "%s%s%s%s sort: %s%s", waiting,
	    t->filter[0] != '\0' ? "filter: " : "", t->filter,
	    t->filter[0] != '\0' ? "," : "", dashboard_table_column_name(t->sort_col),
	    t->sort_reverse ? " reversed" : "");
	if ((int)strlen(right) + 37 < COLS)
		mvprintw(y, COLS - strlen(right) - 1, "%s", right);
}

/* Draw the whole screen; curses sends only what changed. */
static void
dashboard_draw(struct dashboard *dash)
{
	int height;

	if (dash->suspended || dash->prompt != NULL)
		return;
	erase();
	if (LINES < 5 || COLS < 20) {
		mvprintw(0, 0, "%.*s", COLS, "terminal too small");
		refresh();
		return;
	}
	dashboard_table_view(&dash->table);
	dashboard_header_draw(dash);
	height = LINES - TUI_HEADER_LINES - 1;
	if (dash->pane != NULL)
		dashboard_pane_draw(dash, TUI_HEADER_LINES, height);
	else
		dashboard_table_draw(dash, TUI_HEADER_LINES, height);
	dashboard_draw_status(dash);
	if (dash->filtering) {
		curs_set(1);
		move(LINES - 1, 8 + strlen(dash->table.filter) < (size_t)COLS ?
		    8 + (int)strlen(dash->table.filter) : COLS - 1);
	} else
		curs_set(0);
	refresh();
}

/* Keep stderr off the screen while curses has it. */
static void
dashboard_stderr(int hide)
{
	int fd;

	if (hide && dashboard_saved_stderr == -1 && isatty(STDERR_FILENO)) {
		fflush(stderr);
		dashboard_saved_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC,
		    3);
		if ((fd = open("/dev/null", O_WRONLY)) != -1) {
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
	} else if (!hide && dashboard_saved_stderr != -1) {
		fflush(stderr);
		dup2(dashboard_saved_stderr, STDERR_FILENO);
		close(dashboard_saved_stderr);
		dashboard_saved_stderr = -1;
	}
}

/* Give the terminal to something else (the console) for a while. */
void
dashboard_suspend(struct dashboard *dash)
{
	if (dash->suspended)
		return;
	dash->suspended = 1;
	if (dash->sub != NULL) {
		msgconn_free(dash->sub);
		dash->sub = NULL;
	}
	evtimer_del(dash->retry_ev);
	endwin();
	dashboard_stderr(0);
}

void
dashboard_resume(struct dashboard *dash)
{
	if (!dash->suspended)
		return;
	dash->suspended = 0;
	dashboard_stderr(1);
	reset_prog_mode();
	clearok(curscr, TRUE);
	dashboard_engine_subscribe(dash);
	dashboard_dirty(dash);
}

static void
dashboard_signal_cb(int sig, short events, void *arg)
{
	struct dashboard *dash = arg;
	struct winsize ws;

	(void)events;
	switch (sig) {
	case SIGWINCH:
		if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
		    ws.ws_row > 0 && ws.ws_col > 0)
			resizeterm(ws.ws_row, ws.ws_col);
		if (dash->prompt == NULL)
			clearok(curscr, TRUE);
		dashboard_draw(dash);
		break;
	case SIGCONT:
		clearok(curscr, TRUE);
		dashboard_dirty(dash);
		break;
	default:
		dash->quit = 1;
		event_base_loopbreak(dash->base);
		break;
	}
}

static void
dashboard_free(struct dashboard *dash)
{
	size_t i;

	if (dash->prompt != NULL)
		dashboard_prompt_close(dash->prompt);
	cmd_queue_free(dash->queue);
	if (dash->sub != NULL)
		msgconn_free(dash->sub);
	for (i = 0; i < sizeof dash->signal_ev / sizeof dash->signal_ev[0];
	    i++) {
		if (dash->signal_ev[i] != NULL)
			event_free(dash->signal_ev[i]);
	}
	event_free(dash->stdin_ev);
	event_free(dash->redraw_ev);
	event_free(dash->retry_ev);
	event_base_free(dash->base);
	dashboard_pane_free(dash->pane);
	dashboard_table_free(&dash->table);
	free(dash->confirm_prompt);
	free(dash->confirm_cmd);
	free(dash);
}

/* Run the dashboard; returns the exit status. */
int
dashboard_main(struct cmd_ctx *ctx)
{
	static const int signals[] = { SIGWINCH, SIGTERM, SIGHUP, SIGINT,
	    SIGQUIT, SIGCONT };
	struct dashboard *dash;
	char err[CMD_ERROR_SIZE];
	size_t i;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "vmtop: the dashboard needs a terminal; use "
		    "-c for commands or -b for batch output\n");
		return 1;
	}
	setlocale(LC_ALL, "");
	if (cmd_connect(ctx, CLIENT_START) == -1) {
		fprintf(stderr, "vmtop: %s\n", ctx->error);
		return 1;
	}
	dash = xcalloc(1, sizeof *dash);
	dash->ctx = ctx;
	ctx->dash = dash;
	dash->interval_ms = ctx->interval_ms > 0 ? ctx->interval_ms : 1000;
	keys_load(ctx, ctx->keymap, err, sizeof err);

	signal(SIGPIPE, SIG_IGN);
	if ((dash->base = event_base_new()) == NULL)
		fatalx("event_base_new");
	for (i = 0; i < sizeof signals / sizeof signals[0]; i++) {
		dash->signal_ev[i] = evsignal_new(dash->base, signals[i],
		    dashboard_signal_cb, dash);
		evsignal_add(dash->signal_ev[i], NULL);
	}
	dash->redraw_ev = evtimer_new(dash->base, dashboard_redraw_cb, dash);
	dash->retry_ev = evtimer_new(dash->base, dashboard_engine_retry, dash);
	dash->stdin_ev = event_new(dash->base, STDIN_FILENO,
	    EV_READ | EV_PERSIST, dashboard_input_cb, dash);
	dash->queue = cmd_queue_new(dash->base, ctx, &dashboard_input_hooks,
	    dash);

	dashboard_stderr(1);
	initscr();
	cbreak();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	def_prog_mode();
	dashboard_colors(dash);
	if (err[0] != '\0')
		dashboard_message(dash, 1, "%s", err);

	event_add(dash->stdin_ev, NULL);
	dashboard_engine_subscribe(dash);
	dashboard_draw(dash);
	while (!dash->quit)
		event_base_loop(dash->base, EVLOOP_ONCE);

	/* libedit puts back the modes it found: curses' own. */
	if (dash->prompt != NULL) {
		dashboard_prompt_close(dash->prompt);
		dash->prompt = NULL;
	}
	dashboard_prompt_free_all();
	endwin();
	dashboard_stderr(0);
	ctx->dash = NULL;
	dashboard_free(dash);
	return 0;
}
