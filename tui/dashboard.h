/*
 * The dashboard's parts: the main loop and drawing (dashboard.c), keys and
 * command text (dashboard-input.c), the engine's pushed updates
 * (dashboard-engine.c), the VM table (tui-table.c), the header with the
 * host meters (tui-header.c), text panes (tui-pane.c), key names and the
 * binding table (keys.c, keymaps.c), the : prompt (tui-prompt.c) and
 * top-style batch output (tui-batch.c). The console is console.h's.
 */
#ifndef DASHBOARD_H
#define DASHBOARD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "proto.h"

struct cmd_ctx;
struct cmd_queue;
struct event;
struct event_base;
struct msgconn;
struct tui_prompt;

/* The table's columns, in display order. */
enum tui_col {
	TUI_COL_ID,
	TUI_COL_NAME,
	TUI_COL_STATE,
	TUI_COL_VCPUS,
	TUI_COL_CPU,
	TUI_COL_MEM,
	TUI_COL_DISK,
	TUI_COL_NET,
	TUI_COL_UPTIME,
	TUI_COL_OWNER,
	TUI_COL_TTY,
	TUI_COL_COUNT
};

/* One VM as the engine last described it, with rates from its stats. */
struct tui_vm {
	struct proto_vm_info	 info;
	uint64_t		 seen;		/* the tick it was last listed in */
	double			 cpu;		/* percent of one host CPU */
	double			 disk_rd;	/* bytes per second */
	double			 disk_wr;
	double			 net_rx;
	double			 net_tx;
	int			 have_rates;
	struct proto_stats	 prev;		/* stats the rates started from */
	uint64_t		 prev_ns;
};

/* The VMs: all of them, and the filtered, sorted view that is shown. */
struct tui_table {
	struct tui_vm		*vms;
	size_t			 nvms;
	struct tui_vm		**rows;
	size_t			 nrows;
	int			 sort_col;	/* enum tui_col */
	int			 sort_reverse;
	char			 filter[VM_NAME_SIZE];
	uint32_t		 selected;	/* VM id, 0 for none */
	size_t			 cursor;	/* index into rows */
	size_t			 top;		/* first row on screen */
	int			 visible[TUI_COL_COUNT];
	int			 width[TUI_COL_COUNT];
};

/* The host's CPU and memory, sampled from /proc once per engine tick. */
struct tui_host {
	uint64_t		 busy;
	uint64_t		 total;
	double			 cpu;		/* percent busy since the last */
	int			 have_cpu;
	uint64_t		 mem_total;	/* bytes */
	uint64_t		 mem_used;
	int			 ncpus;
};

/* A scrollable text pane over the table: details, help, output. */
struct tui_pane {
	char			*title;
	char			**lines;
	size_t			 nlines;
	size_t			 top;
};

struct dashboard {
	struct cmd_ctx		*ctx;
	struct event_base	*base;
	struct msgconn		*sub;		/* the subscription connection */
	struct event		*redraw_ev;
	struct event		*retry_ev;
	struct event		*stdin_ev;
	struct event		*signal_ev[6];
	int			 interval_ms;
	int			 color;
	int			 quit;
	int			 suspended;

	struct tui_table	 table;
	struct tui_host		 host;
	struct proto_engine_info engine;
	int			 have_engine;
	int			 connected;
	int			 lost;		/* the engine went away */
	int			 sub_broken;	/* it sent a malformed update */
	uint64_t		 tick;		/* counts MSG_ENGINE_INFO */
	int			 in_tick;

	char			 message[512];
	int			 message_error;
	char			*confirm_prompt;	/* y/n question, or NULL */
	char			*confirm_cmd;
	int			 filtering;	/* the / line is open */
	char			 filter_saved[VM_NAME_SIZE];
	struct tui_pane		*pane;
	struct cmd_queue	*queue;		/* keys' and the prompt's commands */
	struct tui_prompt	*prompt;
};

/* The lines above the table. */
#define TUI_HEADER_LINES	2

/* What is drawn in its own colour; states follow TUI_ATTR_STATE. */
enum tui_attr {
	TUI_ATTR_TITLES,
	TUI_ATTR_SELECTED,
	TUI_ATTR_LABEL,
	TUI_ATTR_METER,
	TUI_ATTR_METER_HIGH,
	TUI_ATTR_ERROR,
	TUI_ATTR_PROMPT,
	TUI_ATTR_PANE_TITLE,
	TUI_ATTR_STATE,
	TUI_ATTR_COUNT = TUI_ATTR_STATE + VM_STATE_COUNT
};

/* dashboard.c */
void		 dashboard_message(struct dashboard *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
void		 dashboard_dirty(struct dashboard *);
void		 dashboard_suspend(struct dashboard *);
void		 dashboard_resume(struct dashboard *);
const struct tui_vm *dashboard_selected(struct dashboard *);
int		 dashboard_attr(struct dashboard *, int);
int		 dashboard_page_rows(void);

/* dashboard-input.c */
void		 dashboard_input_cb(int, short, void *);
int		 dashboard_input_run(struct dashboard *, const char *);
void		 dashboard_input_confirm(struct dashboard *, const char *,
		    const char *);
void		 dashboard_input_filter(struct dashboard *);
extern const struct cmd_queue_hooks dashboard_input_hooks;

/* dashboard-engine.c */
void		 dashboard_engine_subscribe(struct dashboard *);
void		 dashboard_engine_retry(int, short, void *);

/* tui-table.c */
void		 tui_table_update(struct tui_table *, const struct proto_vm_info *,
		    uint64_t);
void		 tui_table_expire(struct tui_table *, uint64_t);
void		 tui_table_clear(struct tui_table *);
void		 tui_table_free(struct tui_table *);
void		 tui_table_view(struct tui_table *);
void		 tui_table_move(struct tui_table *, long, int);
int		 tui_table_column(const char *);
const char	*tui_table_column_name(int);
void		 tui_table_layout(struct tui_table *, int);
void		 tui_table_cell(const struct tui_vm *, int, time_t, char *,
		    size_t);
void		 tui_table_title(int, char *, size_t);
int		 tui_table_right(int);
void		 tui_table_draw(struct dashboard *, int, int);

/* tui-header.c */
void		 tui_header_sample(struct tui_host *);
void		 tui_header_counts(const struct tui_table *, unsigned *);
void		 tui_header_draw(struct dashboard *);

/* tui-pane.c */
struct tui_pane	*tui_pane_new(const char *, const char *, size_t);
void		 tui_pane_free(struct tui_pane *);
void		 tui_pane_draw(struct dashboard *, int, int);
int		 tui_pane_key(struct dashboard *, int);

/* tui-prompt.c */
struct tui_prompt *tui_prompt_open(struct dashboard *);
void		 tui_prompt_close(struct tui_prompt *);
int		 tui_prompt_input(struct tui_prompt *);
void		 tui_prompt_free_all(void);

/* tui-batch.c */
int		 tui_batch_main(struct cmd_ctx *, int, int);

/* keys.c: key codes are Unicode characters or KEYC_* values. */
#define KEYC_NONE	-1
#define KEYC_BASE	0x110000
enum {
	KEYC_UP = KEYC_BASE,
	KEYC_DOWN,
	KEYC_LEFT,
	KEYC_RIGHT,
	KEYC_PPAGE,
	KEYC_NPAGE,
	KEYC_HOME,
	KEYC_END,
	KEYC_IC,
	KEYC_DC,
	KEYC_ENTER,
	KEYC_TAB,
	KEYC_BTAB,
	KEYC_ESCAPE,
	KEYC_SPACE,
	KEYC_BSPACE,
	KEYC_F1,
	KEYC_F12 = KEYC_F1 + 11,
	KEYC_RESIZE,
	KEYC_LAST
};
#define KEYC_META	0x1000000

struct key_binding {
	int		 key;
	char		*cmd;		/* command text, quoted for the splitter */
	char		*note;		/* -N text, or NULL */
};

int		 keys_from_string(const char *);
void		 keys_to_string(int, char *, size_t);
int		 keys_from_curses(int, unsigned int);
void		 keys_bind(int, const char *, const char *);
int		 keys_unbind(int);
void		 keys_unbind_all(void);
const struct key_binding *keys_find(int);
const struct key_binding *keys_list(size_t *);
int		 keys_load(struct cmd_ctx *, const char *, char *, size_t);
int		 keys_load_text(struct cmd_ctx *, const char *, const char *,
		    char *, size_t);
int		 keys_loaded(void);
char		*keys_expand(const char *, const char *);

/* keymaps.c */
const char	*keymaps_find(const char *);

#endif
