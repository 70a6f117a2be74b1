/*
 * vmtop, the program: its command table and commands (cmd.c, cmd-*.c),
 * batch mode (batch.c), the splitter (split.c), the connection to the
 * engine (client.c), text helpers (format.c) and the dashboard
 * (dashboard*.c, keys.c, keymaps.c). One header, in blocks by file, so
 * every file's public face is in one place; the console is console.h's.
 */
#ifndef TUI_H
#define TUI_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "proto.h"

struct client_conn;
struct cmd_ctx;
struct cmd_queue;
struct dashboard;
struct dashboard_prompt;
struct event;
struct event_base;
struct msg;
struct msg_handler;
struct msgconn;
struct split_list;

/* split.c: shell-style quoting for `vmtop -c` and key bindings. */

struct split_cmd {
	int	  argc;
	char	**argv;		/* argc words, then NULL */
	int	  line;		/* 1-based line where the command starts */
};

struct split_list {
	size_t			 n;
	struct split_cmd	*cmds;
};

/*
 * Split input into commands separated by ';' or newlines; empty commands are
 * skipped. Return values: 0 with list filled (free it with split_free), or -1
 * with list empty and a message like "line 2: unterminated double quote" in
 * err.
 */
int	 split_commands(const char *input, struct split_list *list, char *err,
	     size_t errlen);
void	 split_free(struct split_list *list);

/*
 * Split one command into words with the same quoting rules; ';' is an
 * ordinary character and a newline is a blank. Return values: 0 with argc and
 * a NULL-terminated argv (free with split_free_words; argc may be 0), or -1
 * with a message without a line prefix in err.
 */
int	 split_words(const char *input, int *argc, char ***argv, char *err,
	     size_t errlen);
void	 split_free_words(int argc, char **argv);

/* Quote a word so split_words gives it back unchanged; the result is malloc'd. */
char	*split_quote(const char *word);

/* client.c: the connection to the engine, started on demand. */

/* One connection to the engine, after the hello exchange. */
struct client_conn {
	int		 fd;
	char		*socket;	/* the path it is connected to */
	uint32_t	 version;	/* the engine's protocol version */
	pid_t		 engine_pid;	/* SO_PEERCRED (or hello) pid */
};

/* How to reach the engine, and how to start one. */
struct client_opts {
	const char	*socket;	/* NULL: paths_socket() */
	const char	*config;	/* -f for an engine we start */
	int		 verbose;	/* -v flags for it */
	int		 flags;
#define CLIENT_START		0x1	/* start the engine if none runs */
#define CLIENT_ANY_VERSION	0x2	/* any protocol will do */
	uint32_t	 hello_version;	/* the protocol our hello claims (an
					   older engine's, to ask it to end);
					   0: PROTOCOL_VERSION */
};

/* How long a client waits for an engine it started, and between tries. */
#define CLIENT_START_TIMEOUT_MS	5000
#define CLIENT_RETRY_MS		10
/* How long the engine may take to answer the hello. */
#define CLIENT_HELLO_TIMEOUT_MS	5000

/*
 * Connect to the engine and exchange hellos, starting the engine first if
 * CLIENT_START is set and nobody listens. Return values: 0 with *conn set,
 * or -1 with a sentence in err; errno is ESRCH when no engine runs and
 * CLIENT_START is clear.
 */
int	 client_connect(const struct client_opts *, struct client_conn **,
	     char *err, size_t errlen);
void	 client_close(struct client_conn *);
/* Wait until the process pid (the engine) has exited. */
void	 client_wait_exit(pid_t);
/* Send one request; returns 0, or -1 with a sentence in err. */
int	 client_request(struct client_conn *, uint32_t type, const void *,
	     size_t, char *err, size_t errlen);
/*
 * Read one message (free it with msg_clear). Return values: 1 for a
 * message, 0 when the engine hung up, -1 for an error; err is set for 0
 * and -1.
 */
int	 client_recv(struct client_conn *, struct msg *, char *err,
	     size_t errlen);
/* Whether a whole message (or the end of the connection) can be read. */
int	 client_pending(struct client_conn *);
/*
 * Check the answer to a request answered by MSG_OK or MSG_ERROR. Return
 * values: 0 for MSG_OK, 1 for MSG_ERROR with the engine's text in err, -1
 * for anything else (or a wrong size) with a sentence naming it in err.
 */
int	 client_reply(const struct msg *, char *err, size_t errlen);
/* Read a reply: 0 for MSG_OK, -1 with the engine's error text in err. */
int	 client_expect_ok(struct client_conn *, char *err, size_t errlen);
/* Copy the text of an MSG_ERROR (size-checked) into err. */
void	 client_error_text(const struct msg *, char *err, size_t errlen);
/* The sentence for a reply that breaks the protocol. */
void	 client_malformed(const struct msg *, char *err, size_t errlen);

/* cmd.c: the command table, shared by -c, key bindings and the : prompt. */

/*
 * What exec returns. CMD_RETURN_WAIT: the command has sent a request and
 * waits for its reply (cmd_wait); the caller reads it and resumes the
 * command with cmd_resume, blocking in batch mode, from the event loop in
 * the dashboard (cmd-queue.c).
 */
enum cmd_retval {
	CMD_RETURN_NORMAL,
	CMD_RETURN_ERROR,
	CMD_RETURN_WAIT
};

/*
 * Goes on with a waiting command once its reply m has come; it clears m
 * and returns what exec would. The command's options and operands stay
 * valid until it ends.
 */
typedef enum cmd_retval (*cmd_resume_cb)(struct cmd_ctx *, struct msg *);

/*
 * A command. args is a getopt(3)-style spec ("afw", "m:d:"); flags may
 * come before, between or after the operands, and "--" ends them.
 * min_args and max_args count operands (-1: no limit). usage follows the
 * name in "usage: NAME USAGE". exec runs with the options parsed into
 * the context (cmd_flag, cmd_value) and gets the operands only.
 * needs_engine marks the commands that talk to the engine: the connection
 * is made, and the engine started, by their first request (cmd_send), so
 * that they check their arguments first; it is kept for the next command.
 * CMD_ARGS_FIRST stops option parsing at the first operand, so that a
 * command given as operands (bind KEY COMMAND -f) keeps its own options.
 * long_opts, if not NULL, names long forms of flags (ending in a NULL
 * name).
 */
struct cmd_entry {
	const char	 *name;
	const char	 *alias;
	const char	 *args;
	int		  min_args;
	int		  max_args;
	const char	 *usage;
	enum cmd_retval	(*exec)(struct cmd_ctx *, int, char **);
	int		  needs_engine;
	int		  flags;
	const struct cmd_long_opt *long_opts;
#define CMD_DASHBOARD	0x1	/* only in the dashboard */
#define CMD_ARGS_FIRST	0x2	/* options end at the first operand */
#define CMD_KEEP_PERCENT 0x4	/* %% is the command's, not the selection */
};

/* A long option (--keep) that stands for a flag without a value. */
struct cmd_long_opt {
	const char	*name;		/* without the dashes */
	int		 flag;
};

/* One parsed option: its letter and its value, or NULL. */
struct cmd_opt {
	int		 flag;
	const char	*value;
};

#define CMD_ERROR_SIZE	(PROTO_TEXT_SIZE + 256)

/* What commands run with: the connection, the output and an error. */
struct cmd_ctx {
	struct client_conn	 *conn;		/* NULL until needed */
	const char		 *socket;	/* -S, or NULL */
	const char		 *config;	/* -f, or NULL */
	int			  verbose;
	int			  json;		/* -j: JSON output */
	FILE			 *out;
	struct dashboard	 *dash;		/* NULL outside the dashboard */
	const char		 *keymap;	/* -k, or NULL for "default" */
	int			  monochrome;	/* -C or NO_COLOR */
	int			  interval_ms;	/* -d */
	int			  replay_lines;	/* -r, or 0 for a screenful */

	/* The command being run, valid during its exec. */
	const struct cmd_entry	 *entry;
	const char		 *typed;	/* its name as typed */
	struct cmd_opt		 *opts;
	int			  nopts;
	int			  argc;		/* operands */
	char			**argv;

	/* The error of a failed command, without "vmtop: ". */
	char			  error[CMD_ERROR_SIZE];

	/* What resumes the command that waits, or NULL. */
	cmd_resume_cb		  resume;
	/* What the command did, for the dashboard's message line, or "". */
	char			  result[CMD_ERROR_SIZE];

	/*
	 * The last request sent, kept to send it again on a new connection
	 * if the engine goes away before it answers (cmd-retry.c).
	 * req_retries is how many times a request may be sent again: a
	 * command sets it before its request (CMD_RETRY_TRIES for one that
	 * waits on the engine, 0 for none).
	 */
	int			  req_retries;
	uint32_t		  req_type;	/* 0: none kept */
	void			 *req_data;
	size_t			  req_len;
	int			  req_left;	/* times it may still be sent */
	int			  req_answered;	/* a reply has come */
	int			  req_resent;	/* the command sent one again */
};

/* How often a request is sent again when the engine goes away. */
#define CMD_RETRY_ONCE		1
#define CMD_RETRY_TRIES		30
#define CMD_RETRY_PAUSE_MS	500
/* The states of a VM that runs, for cmd_retry_done. */
#define CMD_STATES_UP		((1U << VM_STARTING) | (1U << VM_RUNNING) | \
				    (1U << VM_PAUSED))

/* cmd.c */
extern const struct cmd_entry *cmd_table[];
void		 cmd_ctx_init(struct cmd_ctx *, FILE *);
void		 cmd_ctx_free(struct cmd_ctx *);
const struct cmd_entry *cmd_find(const char *, char *, size_t);
/*
 * Find the command for argv[0] and parse the rest into ctx. Return values:
 * the entry, or NULL with a usage (or unknown command) error in ctx->error.
 */
const struct cmd_entry *cmd_prepare(struct cmd_ctx *, int, char **);
void		 cmd_args_clear(struct cmd_ctx *);
/*
 * Run one command (argv[0] is its name) to its end, reading the replies it
 * waits for as they come (blocking); on error see ctx->error.
 */
enum cmd_retval	 cmd_run(struct cmd_ctx *, int, char **);
/*
 * Start one command: NORMAL or ERROR once it has ended, or WAIT with the
 * command waiting for a reply on ctx->conn (argv must stay valid).
 */
enum cmd_retval	 cmd_begin(struct cmd_ctx *, int, char **);
/* Resume a waiting command with its reply, or end it with m NULL. */
enum cmd_retval	 cmd_resume(struct cmd_ctx *, struct msg *);
enum cmd_retval	 cmd_wait(struct cmd_ctx *, cmd_resume_cb);
enum cmd_retval	 cmd_error(struct cmd_ctx *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
enum cmd_retval	 cmd_usage(struct cmd_ctx *);
int		 cmd_flag(struct cmd_ctx *, int);
const char	*cmd_value(struct cmd_ctx *, int);
int		 cmd_connect(struct cmd_ctx *, int);
int		 cmd_send(struct cmd_ctx *, uint32_t, const void *, size_t);
enum cmd_retval	 cmd_bad_reply(struct cmd_ctx *, struct msg *);
const struct msg_handler *cmd_recv_expect(struct cmd_ctx *,
		    const struct msg_handler *, size_t, struct msg *);
enum cmd_retval	 cmd_ok_reply(struct cmd_ctx *, struct msg *);
enum cmd_retval	 cmd_ok_result(struct cmd_ctx *, struct msg *, const char *,
		    ...) __attribute__((format(printf, 3, 4)));
enum cmd_retval	 cmd_request(struct cmd_ctx *, uint32_t, const void *,
		    size_t, cmd_resume_cb);
enum cmd_retval	 cmd_simple(struct cmd_ctx *, uint32_t, const void *,
		    size_t);
int		 cmd_fill_name(struct cmd_ctx *, const char *,
		    struct proto_name *);
int		 cmd_abspath(const char *, char *, size_t);

/* cmd-retry.c */
void		 cmd_retry_clear(struct cmd_ctx *);
void		 cmd_retry_save(struct cmd_ctx *, uint32_t, const void *,
		    size_t);
int		 cmd_retry_due(struct cmd_ctx *);
int		 cmd_retry(struct cmd_ctx *);
int		 cmd_recv_try(struct cmd_ctx *, struct msg *);
int		 cmd_recv(struct cmd_ctx *, struct msg *);
int		 cmd_retry_done(struct cmd_ctx *, struct msg *, const char *,
		    unsigned int);

/* cmd-list.c */
void		 cmd_list_sanitize(struct proto_vm_info *);
void		 cmd_list_json_fields(FILE *, const struct proto_vm_info *);
int		 cmd_list_one(struct cmd_ctx *, const char *,
		    struct proto_vm_info *);

/* cmd-start.c */
int		 cmd_start_fill(struct cmd_ctx *, const char *,
		    struct proto_start *);

/* cmd-queue.c */

/* One command list in the queue; the hooks see the running command. */
struct cmd_queue_item {
	struct cmd_queue	 *queue;
	struct cmd_ctx		  ctx;		/* its own; borrows the connection */
	struct split_list	 *list;
	size_t			  next;		/* the command running or next */
	int			  argc;		/* the running command's words */
	char			**argv;
	char			 *out;		/* its output, once it has ended */
	size_t			  outlen;
	FILE			 *f;
	int			  parked;	/* waiting for a reply */
	struct event		 *ev;		/* its reply can be read */
	TAILQ_ENTRY(cmd_queue_item) entry;
};

/*
 * What the queue's owner does around each command. prepare gives the
 * words to run for the list's next command (argc + 1 of them, freed with
 * split_free_words), or NULL to end the list; waiting says that the
 * command now waits; done sees its end (rv, ctx.error, ctx.result, out).
 */
struct cmd_queue_hooks {
	char	**(*prepare)(struct cmd_queue_item *, int, char **, void *);
	void	 (*waiting)(struct cmd_queue_item *, void *);
	void	 (*done)(struct cmd_queue_item *, enum cmd_retval, void *);
};

struct cmd_queue *cmd_queue_new(struct event_base *, struct cmd_ctx *,
		    const struct cmd_queue_hooks *, void *);
void		 cmd_queue_free(struct cmd_queue *);
int		 cmd_queue_append(struct cmd_queue *, const char *, char *,
		    size_t);
size_t		 cmd_queue_waiting(struct cmd_queue *);

/* batch.c */
int		 batch_run(struct cmd_ctx *, const char *);

/* format.c */
void		 format_duration(int64_t, char *, size_t);
char		*format_json_quote(const char *);
void		 format_json_string(FILE *, const char *);
void		 format_clean(char *);
const char	*format_line(const char **, const char *, size_t *);
#define FORMAT_BAR	30	/* a progress bar's width */
void		 format_progress(FILE *, const char *, int, uint64_t,
		    uint64_t);

/* sums.c: checksum files (SHA256SUMS, SHA512SUMS). */
#define SUMS_NONE	0
#define SUMS_SHA256	1
#define SUMS_SHA512	2
#define SUMS_HEX_SIZE	129		/* SHA-512's hex digits and a NUL */

struct sums_entry {
	int		 alg;
	char		 hash[SUMS_HEX_SIZE];	/* lower-case hex */
	char		*name;
};

struct sums {
	struct sums_entry *v;
	size_t		   n;
};

/*
 * Parse the checksum file called file (for errors), size bytes of text.
 * Return values: 0 with sums filled (free with sums_free), or -1 with
 * sums empty and "FILE line N: why" in err.
 */
int		 sums_parse(const char *, const char *, size_t, struct sums *,
		    char *, size_t);
/* The entry for a file name with algorithm alg (SUMS_NONE: any), or NULL. */
const struct sums_entry *sums_find(const struct sums *, const char *, int);
void		 sums_free(struct sums *);
const char	*sums_alg_name(int);
int		 sums_alg_parse(const char *);
size_t		 sums_alg_hexlen(int);

/* catalog.c: the images pull knows by name. */
#define CATALOG_NAME_SIZE	64

struct catalog_image {
	char		 name[CATALOG_NAME_SIZE];
	int		 alg;		/* SUMS_SHA256 or SUMS_SHA512 */
	char		*url;
	char		*sums_url;
};

struct catalog {
	struct catalog_image	*v;
	size_t			 n;
};

/*
 * Add the images of the catalog text (size bytes) called file to cat.
 * Return values: 0, or -1 with "FILE line N: why" in err.
 */
int		 catalog_parse(const char *, const char *, size_t,
		    struct catalog *, char *, size_t);
/* The user's catalog, then the shipped one; 0, or -1 with err. */
int		 catalog_load(struct catalog *, char *, size_t);
int		 catalog_merge(struct catalog *, const char *, char *, size_t);
char		*catalog_shipped_path(void);
const struct catalog_image *catalog_find(const struct catalog *,
		    const char *);
void		 catalog_free(struct catalog *);
int		 catalog_valid_name(const char *);
int		 catalog_valid_url(const char *);

/* fetch.c: downloads with libcurl. */

/*
 * Read url's body into *text (malloc'd, NUL-terminated, *len bytes, at
 * most max). Return values: 0, or -1 with a sentence in err.
 */
int		 fetch_text(const char *, size_t, char **, size_t *, char *,
		    size_t);

/* An image pulled into fd, resumed from what fd holds. */
struct fetch_file {
	const char	*url;
	int		 fd;		/* read and write */
	int		 alg;		/* the hash computed on the way */
	void		(*progress)(uint64_t, uint64_t, void *);
	void		*arg;		/* progress(done, total or 0, arg) */
	uint64_t	 resumed_from;	/* bytes kept from before, or 0 */
	int		 restarted;	/* they were not the image's start */
	uint64_t	 size;		/* bytes in fd at the end */
	char		 hash[SUMS_HEX_SIZE];
};

/*
 * Fetch ff->url from byte fd's size on (a Range request), starting again
 * from 0 if the server sends the whole image, and hash all of it.
 * Return values: 0 with size and hash set, or -1 with a sentence in err
 * (what came so far stays in fd, size bytes).
 */
int		 fetch_file(struct fetch_file *, char *, size_t);

/* imgcache.c: the image cache in the state directory. */
#define IMGCACHE_FILE_SIZE	256
#define IMGCACHE_URL_SIZE	2048

struct imgcache_info {
	char		 name[IMGCACHE_FILE_SIZE];	/* as pulled */
	char		 file[IMGCACHE_FILE_SIZE];	/* in the cache */
	char		 url[IMGCACHE_URL_SIZE];
	char		 sums_url[IMGCACHE_URL_SIZE];	/* or "" */
	int		 alg;
	char		 hash[SUMS_HEX_SIZE];
	int		 verified;	/* against sums_url */
	int		 partial;	/* FILE.part: not whole yet */
	time_t		 pulled;
	uint64_t	 size;
};

/* The cache folder, made if missing (malloc'd); NULL with err. */
char		*imgcache_dir(char *, size_t);
/* The cache file for url (its last part); -1 if it has no usable one. */
int		 imgcache_file_of_url(const char *, char *, size_t);
int		 imgcache_write(const char *, const struct imgcache_info *,
		    char *, size_t);
/* FILE's info, with its size; -1 if it is not whole in the cache. */
int		 imgcache_read(const char *, const char *,
		    struct imgcache_info *);
struct imgcache_info *imgcache_list(const char *, size_t *);
/* The whole image pulled as NAME, or with that file name, or NULL. */
char		*imgcache_find(const char *);

/*
 * The dashboard: the main loop and drawing (dashboard.c), keys and command
 * text (dashboard-input.c), the engine's pushed updates (dashboard-engine.c),
 * the VM table (dashboard-table.c), the header with the host meters
 * (dashboard-header.c), text panes (dashboard-pane.c), the : prompt
 * (dashboard-prompt.c), top-style batch output (dashboard-batch.c), key
 * names and the binding table (keys.c, keymaps.c).
 */
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
struct dashboard_table {
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
struct dashboard_pane {
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

	struct dashboard_table	 table;
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
	struct dashboard_pane		*pane;
	struct cmd_queue	*queue;		/* keys' and the prompt's commands */
	struct dashboard_prompt	*prompt;
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
int		 dashboard_main(struct cmd_ctx *);
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

/* dashboard-table.c */
void		 dashboard_table_update(struct dashboard_table *, const struct proto_vm_info *,
		    uint64_t);
void		 dashboard_table_expire(struct dashboard_table *, uint64_t);
void		 dashboard_table_clear(struct dashboard_table *);
void		 dashboard_table_free(struct dashboard_table *);
void		 dashboard_table_view(struct dashboard_table *);
void		 dashboard_table_move(struct dashboard_table *, long, int);
int		 dashboard_table_column(const char *);
const char	*dashboard_table_column_name(int);
void		 dashboard_table_layout(struct dashboard_table *, int);
void		 dashboard_table_cell(const struct tui_vm *, int, time_t, char *,
		    size_t);
void		 dashboard_table_title(int, char *, size_t);
int		 dashboard_table_right(int);
void		 dashboard_table_draw(struct dashboard *, int, int);

/* dashboard-header.c */
void		 dashboard_header_sample(struct tui_host *);
void		 dashboard_header_counts(const struct dashboard_table *, unsigned *);
void		 dashboard_header_draw(struct dashboard *);

/* dashboard-pane.c */
struct dashboard_pane	*dashboard_pane_new(const char *, const char *, size_t);
void		 dashboard_pane_free(struct dashboard_pane *);
void		 dashboard_pane_draw(struct dashboard *, int, int);
int		 dashboard_pane_key(struct dashboard *, int);

/* dashboard-prompt.c */
struct dashboard_prompt *dashboard_prompt_open(struct dashboard *);
void		 dashboard_prompt_close(struct dashboard_prompt *);
int		 dashboard_prompt_input(struct dashboard_prompt *);
void		 dashboard_prompt_free_all(void);

/* dashboard-batch.c */
int		 dashboard_batch_main(struct cmd_ctx *, int, int);

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
