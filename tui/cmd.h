/*
 * vmtop's commands: one table shared by `vmtop -c`, the dashboard's key
 * bindings and its `:` prompt, with one file per command (cmd-*.c).
 */
#ifndef CMD_H
#define CMD_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "proto.h"

struct client_conn;
struct cmd_ctx;
struct dashboard;
struct msg;

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
#define CMD_DASHBOARD	0x1	/* only in the dashboard */
#define CMD_ARGS_FIRST	0x2	/* options end at the first operand */
#define CMD_KEEP_PERCENT 0x4	/* %% is the command's, not the selection */
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
};

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
int		 cmd_recv(struct cmd_ctx *, struct msg *);
enum cmd_retval	 cmd_bad_reply(struct cmd_ctx *, struct msg *);
enum cmd_retval	 cmd_ok_reply(struct cmd_ctx *, struct msg *);
enum cmd_retval	 cmd_ok_result(struct cmd_ctx *, struct msg *, const char *,
		    ...) __attribute__((format(printf, 3, 4)));
enum cmd_retval	 cmd_request(struct cmd_ctx *, uint32_t, const void *,
		    size_t, cmd_resume_cb);
enum cmd_retval	 cmd_simple(struct cmd_ctx *, uint32_t, const void *,
		    size_t);
int		 cmd_fill_name(struct cmd_ctx *, const char *,
		    struct proto_name *);
void		 cmd_format_duration(int64_t, char *, size_t);
int		 cmd_abspath(const char *, char *, size_t);
char		*cmd_json_quote(const char *);
void		 cmd_json_string(FILE *, const char *);
void		 cmd_clean(char *);

/* cmd-list.c */
void		 cmd_list_sanitize(struct proto_vm_info *);
void		 cmd_list_json_fields(FILE *, const struct proto_vm_info *);
int		 cmd_list_one(struct cmd_ctx *, const char *,
		    struct proto_vm_info *);

/* cmd-start.c */
int		 cmd_start_fill(struct cmd_ctx *, const char *,
		    struct proto_start *);

/* cmd-queue.c */
struct cmd_queue;
struct split_list;
struct event_base;

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

/* dashboard.c */
int		 dashboard_main(struct cmd_ctx *);

#endif
