/*
 * convert [-O raw|qcow2] SRC DST: copy what a disk image reads as (its
 * whole base chain) into a new image, without the engine, through
 * disk_copy(). The format comes from -O, else from DST's name. On a
 * terminal, a progress bar goes to stderr.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tui.h"
#include "disk.h"

static enum cmd_retval	cmd_convert_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_convert_entry = {
	.name = "convert",
	.alias = NULL,
	.args = "O:",
	.min_args = 2,
	.max_args = 2,
	.usage = "[-O raw|qcow2] SRC DST",
	.exec = cmd_convert_exec,
	.needs_engine = 0
};

/* Draw the bar when the percentage changes; arg is the last one drawn. */
static void
cmd_convert_progress(uint64_t done, uint64_t size, void *arg)
{
	int	*shown = arg, pct;

	pct = size == 0 ? 100 : (int)(done * 100 / size);
	if (pct == *shown)
		return;
	*shown = pct;
	format_progress(stderr, NULL, pct, done, size);
}

static enum cmd_retval
cmd_convert_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct disk_copy_opts	 opts;
	const char		*v;
	char			 err[CMD_ERROR_SIZE];
	int			 shown = -1, rv;

	(void)argc;
	memset(&opts, 0, sizeof opts);
	if ((v = cmd_value(ctx, 'O')) != NULL) {
		if (disk_format_parse(v, &opts.format) == -1)
			return cmd_error(ctx, "cannot convert %s: unknown "
			    "format %s (raw or qcow2)", argv[0], v);
	} else
		opts.format = disk_format_of_name(argv[1]);
	if (ctx->dash == NULL && isatty(STDERR_FILENO)) {
		opts.progress = cmd_convert_progress;
		opts.arg = &shown;
	}
	rv = disk_copy(argv[0], argv[1], &opts, err, sizeof err);
	if (shown != -1)
		fprintf(stderr, rv == 0 ? "\n" : "\r\033[K");
	if (rv == -1)
		return cmd_error(ctx, "cannot convert %s%s",
		    opts.dst_failed ? "to " : "", err);
	return CMD_RETURN_NORMAL;
}
