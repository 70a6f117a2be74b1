/*
 * The command table and what every command shares: lookup by name, alias
 * or unique prefix; a small reentrant option parser (commands run many
 * times in one process, so getopt(3)'s global state is no use); the lazy
 * connection to the engine; and the helpers for sizes, paths and JSON.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tui.h"
#include "msg.h"
#include "xmalloc.h"

#define nitems(a)	(sizeof (a) / sizeof (a)[0])

extern const struct cmd_entry cmd_bind_entry;
extern const struct cmd_entry cmd_capture_entry;
extern const struct cmd_entry cmd_command_prompt_entry;
extern const struct cmd_entry cmd_confirm_before_entry;
extern const struct cmd_entry cmd_console_entry;
extern const struct cmd_entry cmd_convert_entry;
extern const struct cmd_entry cmd_create_entry;
extern const struct cmd_entry cmd_cursor_entry;
extern const struct cmd_entry cmd_filter_entry;
extern const struct cmd_entry cmd_forward_entry;
extern const struct cmd_entry cmd_images_entry;
extern const struct cmd_entry cmd_info_entry;
extern const struct cmd_entry cmd_kill_engine_entry;
extern const struct cmd_entry cmd_list_entry;
extern const struct cmd_entry cmd_list_keys_entry;
extern const struct cmd_entry cmd_log_entry;
extern const struct cmd_entry cmd_pause_entry;
extern const struct cmd_entry cmd_pull_entry;
extern const struct cmd_entry cmd_quit_entry;
extern const struct cmd_entry cmd_redraw_entry;
extern const struct cmd_entry cmd_reload_entry;
extern const struct cmd_entry cmd_restart_entry;
extern const struct cmd_entry cmd_show_entry;
extern const struct cmd_entry cmd_sort_entry;
extern const struct cmd_entry cmd_start_entry;
extern const struct cmd_entry cmd_stop_entry;
extern const struct cmd_entry cmd_unbind_entry;
extern const struct cmd_entry cmd_unforward_entry;
extern const struct cmd_entry cmd_unpause_entry;
extern const struct cmd_entry cmd_wait_entry;

const struct cmd_entry *cmd_table[] = {
	&cmd_bind_entry,
	&cmd_capture_entry,
	&cmd_command_prompt_entry,
	&cmd_confirm_before_entry,
	&cmd_console_entry,
	&cmd_convert_entry,
	&cmd_create_entry,
	&cmd_cursor_entry,
	&cmd_filter_entry,
	&cmd_forward_entry,
	&cmd_images_entry,
	&cmd_info_entry,
	&cmd_kill_engine_entry,
	&cmd_list_entry,
	&cmd_list_keys_entry,
	&cmd_log_entry,
	&cmd_pause_entry,
	&cmd_pull_entry,
	&cmd_quit_entry,
	&cmd_redraw_entry,
	&cmd_reload_entry,
	&cmd_restart_entry,
	&cmd_show_entry,
	&cmd_sort_entry,
	&cmd_start_entry,
	&cmd_stop_entry,
	&cmd_unbind_entry,
	&cmd_unforward_entry,
	&cmd_unpause_entry,
	&cmd_wait_entry,
	NULL
};

void
cmd_ctx_init(struct cmd_ctx *ctx, FILE *out)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->out = out;
}

void
cmd_ctx_free(struct cmd_ctx *ctx)
{
	cmd_args_clear(ctx);
	cmd_retry_clear(ctx);
	client_close(ctx->conn);
	ctx->conn = NULL;
}

static int
cmd_compare_words(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Find a command by its name or alias, or by a prefix of exactly one
 * command's name or alias. Return values: the entry, or NULL with
 * "unknown command" or "ambiguous command" (naming the candidates in
 * order) in err.
 */
const struct cmd_entry *
cmd_find(const char *name, char *err, size_t errlen)
{
	const struct cmd_entry **e, *found = NULL;
	const char *words[nitems(cmd_table)];
	size_t len = strlen(name), off, n = 0, i;

	for (e = cmd_table; *e != NULL; e++) {
		if (strcmp((*e)->name, name) == 0 ||
		    ((*e)->alias != NULL && strcmp((*e)->alias, name) == 0))
			return *e;
	}
	if (len == 0) {
		snprintf(err, errlen, "unknown command: ''");
		return NULL;
	}
	for (e = cmd_table; *e != NULL; e++) {
		if (strncmp((*e)->name, name, len) == 0)
			words[n++] = (*e)->name;
		else if ((*e)->alias != NULL &&
		    strncmp((*e)->alias, name, len) == 0)
			words[n++] = (*e)->alias;
		else
			continue;
		found = *e;
	}
	if (n == 1)
		return found;
	if (n == 0) {
		snprintf(err, errlen, "unknown command: %s", name);
		return NULL;
	}
	qsort(words, n, sizeof *words, cmd_compare_words);
	off = snprintf(err, errlen, "ambiguous command: %s, could be:", name);
	for (i = 0; i < n && off < errlen; i++)
		off += snprintf(err + off, errlen - off, "%s %s",
		    i == 0 ? "" : ",", words[i]);
	return NULL;
}

void
cmd_args_clear(struct cmd_ctx *ctx)
{
	free(ctx->opts);
	free(ctx->argv);
	ctx->opts = NULL;
	ctx->nopts = 0;
	ctx->argv = NULL;
	ctx->argc = 0;
	ctx->entry = NULL;
	ctx->typed = NULL;
}

static void
cmd_add_opt(struct cmd_ctx *ctx, int flag, const char *value)
{
	ctx->opts = xreallocarray(ctx->opts, ctx->nopts + 1,
	    sizeof *ctx->opts);
	ctx->opts[ctx->nopts].flag = flag;
	ctx->opts[ctx->nopts].value = value;
	ctx->nopts++;
}

/* The flag that the long option name stands for, or -1. */
static int
cmd_long_flag(const struct cmd_entry *entry, const char *name)
{
	const struct cmd_long_opt *lo;

	if (entry->long_opts == NULL)
		return -1;
	for (lo = entry->long_opts; lo->name != NULL; lo++) {
		if (strcmp(lo->name, name) == 0)
			return lo->flag;
	}
	return -1;
}

/* Split argv into options and operands as entry's spec says; -1 if bad. */
static int
cmd_parse_args(struct cmd_ctx *ctx, int argc, char **argv)
{
	const struct cmd_entry *entry = ctx->entry;
	const char *p, *spec;
	int i, flag, dashdash = 0;

	ctx->argv = xcalloc(argc + 1, sizeof *ctx->argv);
	for (i = 0; i < argc; i++) {
		p = argv[i];
		if (!dashdash && strcmp(p, "--") == 0) {
			dashdash = 1;
			continue;
		}
		if (dashdash || p[0] != '-' || p[1] == '\0') {
			ctx->argv[ctx->argc++] = argv[i];
			if (entry->flags & CMD_ARGS_FIRST)
				dashdash = 1;
			continue;
		}
		if (p[1] == '-') {
			if ((flag = cmd_long_flag(entry, p + 2)) == -1)
				return -1;
			cmd_add_opt(ctx, flag, NULL);
			continue;
		}
		for (p++; *p != '\0'; p++) {
			if (*p == ':' || (spec = strchr(entry->args, *p)) ==
			    NULL)
				return -1;
			if (spec[1] != ':') {
				cmd_add_opt(ctx, *p, NULL);
				continue;
			}
			if (p[1] != '\0')
				cmd_add_opt(ctx, *p, p + 1);
			else if (i + 1 < argc)
				cmd_add_opt(ctx, *p, argv[++i]);
			else
				return -1;
			break;
		}
	}
	ctx->argv[ctx->argc] = NULL;
	if (ctx->argc < entry->min_args ||
	    (entry->max_args != -1 && ctx->argc > entry->max_args))
		return -1;
	return 0;
}

const struct cmd_entry *
cmd_prepare(struct cmd_ctx *ctx, int argc, char **argv)
{
	const struct cmd_entry *entry;

	cmd_args_clear(ctx);
	ctx->error[0] = '\0';
	if (argc < 1) {
		cmd_error(ctx, "no command given");
		return NULL;
	}
	if ((entry = cmd_find(argv[0], ctx->error, sizeof ctx->error)) ==
	    NULL)
		return NULL;
	ctx->entry = entry;
	if (entry->alias != NULL && strcmp(argv[0], entry->alias) == 0)
		ctx->typed = entry->alias;
	else
		ctx->typed = entry->name;
	if (cmd_parse_args(ctx, argc - 1, argv + 1) == -1) {
		cmd_usage(ctx);
		cmd_args_clear(ctx);
		return NULL;
	}
	return entry;
}

/* End the running command: flush its output and forget its arguments. */
static enum cmd_retval
cmd_end(struct cmd_ctx *ctx, enum cmd_retval rv)
{
	if (fflush(ctx->out) == EOF && rv == CMD_RETURN_NORMAL)
		rv = cmd_error(ctx, "cannot write the output: %s",
		    strerror(errno));
	ctx->resume = NULL;
	cmd_args_clear(ctx);
	cmd_retry_clear(ctx);
	return rv;
}

enum cmd_retval
cmd_begin(struct cmd_ctx *ctx, int argc, char **argv)
{
	const struct cmd_entry *entry;
	enum cmd_retval rv;

	ctx->resume = NULL;
	ctx->result[0] = '\0';
	ctx->req_retries = CMD_RETRY_ONCE;
	ctx->req_resent = 0;
	if ((entry = cmd_prepare(ctx, argc, argv)) == NULL)
		return CMD_RETURN_ERROR;
	if ((entry->flags & CMD_DASHBOARD) && ctx->dash == NULL) {
		cmd_error(ctx, "%s works only in the dashboard", ctx->typed);
		cmd_args_clear(ctx);
		return CMD_RETURN_ERROR;
	}
	rv = entry->exec(ctx, ctx->argc, ctx->argv);
	if (rv == CMD_RETURN_WAIT)
		return rv;
	return cmd_end(ctx, rv);
}

enum cmd_retval
cmd_resume(struct cmd_ctx *ctx, struct msg *m)
{
	cmd_resume_cb resume = ctx->resume;
	enum cmd_retval rv;

	ctx->resume = NULL;
	if (m == NULL || resume == NULL) {
		if (m != NULL)
			msg_clear(m);
		return cmd_end(ctx, CMD_RETURN_ERROR);
	}
	rv = resume(ctx, m);
	if (rv == CMD_RETURN_WAIT)
		return rv;
	return cmd_end(ctx, rv);
}

enum cmd_retval
cmd_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct msg m;
	enum cmd_retval rv;

	rv = cmd_begin(ctx, argc, argv);
	while (rv == CMD_RETURN_WAIT)
		rv = cmd_resume(ctx, cmd_recv(ctx, &m) == 0 ? &m : NULL);
	return rv;
}

/* Wait for the reply to the request just sent; resume goes on with it. */
enum cmd_retval
cmd_wait(struct cmd_ctx *ctx, cmd_resume_cb resume)
{
	ctx->resume = resume;
	return CMD_RETURN_WAIT;
}

enum cmd_retval
cmd_error(struct cmd_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->error, sizeof ctx->error, fmt, ap);
	va_end(ap);
	return CMD_RETURN_ERROR;
}

/* The usage error of the running command, with the name as typed. */
enum cmd_retval
cmd_usage(struct cmd_ctx *ctx)
{
	const struct cmd_entry *entry = ctx->entry;

	if (entry->usage == NULL || *entry->usage == '\0')
		return cmd_error(ctx, "usage: %s", ctx->typed);
	return cmd_error(ctx, "usage: %s %s", ctx->typed, entry->usage);
}

/* Whether the running command was given flag. */
int
cmd_flag(struct cmd_ctx *ctx, int flag)
{
	int i;

	for (i = 0; i < ctx->nopts; i++) {
		if (ctx->opts[i].flag == flag)
			return 1;
	}
	return 0;
}

/* The value of the last flag given, or NULL. */
const char *
cmd_value(struct cmd_ctx *ctx, int flag)
{
	const char *value = NULL;
	int i;

	for (i = 0; i < ctx->nopts; i++) {
		if (ctx->opts[i].flag == flag)
			value = ctx->opts[i].value;
	}
	return value;
}

/* Connect unless connected; flags are client_connect's. Returns 0 or -1. */
int
cmd_connect(struct cmd_ctx *ctx, int flags)
{
	struct client_opts opts;

	if (ctx->conn != NULL)
		return 0;
	memset(&opts, 0, sizeof opts);
	opts.socket = ctx->socket;
	opts.config = ctx->config;
	opts.verbose = ctx->verbose;
	opts.flags = flags;
	return client_connect(&opts, &ctx->conn, ctx->error,
	    sizeof ctx->error);
}

/* Forget a connection that failed or lost its place in the protocol. */
static void
cmd_disconnect(struct cmd_ctx *ctx)
{
	client_close(ctx->conn);
	ctx->conn = NULL;
}

/* Send a request, connecting first (and starting the engine) if need be. */
int
cmd_send(struct cmd_ctx *ctx, uint32_t type, const void *data, size_t len)
{
	if (cmd_connect(ctx, CLIENT_START) == -1)
		return -1;
	if (client_request(ctx->conn, type, data, len, ctx->error,
	    sizeof ctx->error) == 0) {
		cmd_retry_save(ctx, type, data, len);
		return 0;
	}
	cmd_disconnect(ctx);
	return -1;
}

/*
 * Read one reply of the kinds a command expects (tab, sizes checked by
 * msg_lookup). Return values: its entry with m filled (clear it), or NULL
 * with the error set: the engine's MSG_ERROR text, or a sentence naming
 * what came instead (the connection is then dropped).
 */
const struct msg_handler *
cmd_recv_expect(struct cmd_ctx *ctx, const struct msg_handler *tab, size_t n,
    struct msg *m)
{
	const struct msg_handler *h;
	char why[128];

	if (cmd_recv(ctx, m) == -1)
		return NULL;
	if ((h = msg_lookup(tab, n, m, why, sizeof why)) != NULL)
		return h;
	if (m->hdr.type == MSG_ERROR || errno == ENOMSG) {
		cmd_bad_reply(ctx, m);
		return NULL;
	}
	snprintf(ctx->error, sizeof ctx->error, "malformed reply from the "
	    "engine: %s", why);
	cmd_disconnect(ctx);
	msg_clear(m);
	return NULL;
}

/*
 * Finish a reply that is not what the command waits for: MSG_ERROR gives
 * the engine's text, anything else is malformed and drops the connection.
 */
enum cmd_retval
cmd_bad_reply(struct cmd_ctx *ctx, struct msg *m)
{
	int rv;

	if ((rv = client_reply(m, ctx->error, sizeof ctx->error)) != 1) {
		if (rv == 0)
			client_malformed(m, ctx->error, sizeof ctx->error);
		cmd_disconnect(ctx);
	}
	msg_clear(m);
	return CMD_RETURN_ERROR;
}

/* Finish a request answered by MSG_OK or MSG_ERROR with its answer m. */
enum cmd_retval
cmd_ok_reply(struct cmd_ctx *ctx, struct msg *m)
{
	int rv;

	rv = client_reply(m, ctx->error, sizeof ctx->error);
	msg_clear(m);
	if (rv == -1)
		cmd_disconnect(ctx);
	return rv == 0 ? CMD_RETURN_NORMAL : CMD_RETURN_ERROR;
}

/*
 * Finish a request answered by MSG_OK or MSG_ERROR; on MSG_OK, say what
 * the command did (fmt, unless NULL) for the dashboard's message line.
 */
enum cmd_retval
cmd_ok_result(struct cmd_ctx *ctx, struct msg *m, const char *fmt, ...)
{
	va_list ap;

	if (cmd_ok_reply(ctx, m) != CMD_RETURN_NORMAL)
		return CMD_RETURN_ERROR;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(ctx->result, sizeof ctx->result, fmt, ap);
		va_end(ap);
	}
	return CMD_RETURN_NORMAL;
}

/* Send a request and wait for its reply, which resume is given. */
enum cmd_retval
cmd_request(struct cmd_ctx *ctx, uint32_t type, const void *data, size_t len,
    cmd_resume_cb resume)
{
	if (cmd_send(ctx, type, data, len) == -1)
		return CMD_RETURN_ERROR;
	return cmd_wait(ctx, resume);
}

/* Send a request answered by MSG_OK or MSG_ERROR, and wait for it. */
enum cmd_retval
cmd_simple(struct cmd_ctx *ctx, uint32_t type, const void *data, size_t len)
{
	return cmd_request(ctx, type, data, len, cmd_ok_reply);
}

/* Fill a struct proto_name; returns 0, or -1 with the error set. */
int
cmd_fill_name(struct cmd_ctx *ctx, const char *name, struct proto_name *pn)
{
	memset(pn, 0, sizeof *pn);
	if (strlen(name) > VM_NAME_MAX) {
		cmd_error(ctx, "the VM name %.20s... is too long (at most %d "
		    "characters)", name, VM_NAME_MAX);
		return -1;
	}
	memcpy(pn->name, name, strlen(name));
	return 0;
}

/*
 * Make path absolute against the current directory (the engine's differs),
 * dropping leading "./". Return values: 0, or -1 with errno EINVAL (empty
 * path), ENAMETOOLONG (does not fit in len) or getcwd's error.
 */
int
cmd_abspath(const char *path, char *buf, size_t len)
{
	char cwd[PATH_MAX];
	int n;

	if (*path == '\0') {
		errno = EINVAL;
		return -1;
	}
	if (*path == '/')
		n = snprintf(buf, len, "%s", path);
	else {
		if (getcwd(cwd, sizeof cwd) == NULL)
			return -1;
		while (path[0] == '.' && path[1] == '/') {
			path += 2;
			while (*path == '/')
				path++;
		}
		if (*path == '\0' || strcmp(path, ".") == 0)
			n = snprintf(buf, len, "%s", cwd);
		else
			n = snprintf(buf, len, "%s%s%s", cwd,
			    strcmp(cwd, "/") == 0 ? "" : "/", path);
	}
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

